package httpapi

import (
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/patchbay/patchbay"
)

// homePage is what the admin URL shows: where to go next.
var homePage = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Patchbay</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1f2328}
code{background:#f3f4f6;padding:.1rem .3rem;border-radius:.2rem}</style></head>
<body><h1>Patchbay</h1>
<p>Patchbay {{.}} is running.</p>
<ul>
<li>REST API under <code>/v1</code>, authenticated with <code>Authorization: Bearer pb_…</code>;
its description is the <a href="/v1/openapi.json">OpenAPI document</a>.</li>
<li>Health: <a href="/healthz">/healthz</a>, readiness: <a href="/readyz">/readyz</a>, metrics: <a href="/metrics">/metrics</a>.</li>
<li>From a shell: <code>patchbay me --api-key pb_…</code>.</li>
</ul></body></html>
`))

func (s *Server) home(version string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		_ = homePage.Execute(w, version)
	}
}

var callbackPage = template.Must(template.New("callback").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} — Patchbay</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1f2328}</style></head>
<body><h1>{{.Title}}</h1><p>{{.Message}}</p></body></html>
`))

func writeCallbackPage(w http.ResponseWriter, status int, title, message string) {
	if status == 0 {
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	_ = callbackPage.Execute(w, struct{ Title, Message string }{title, message})
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// asDomain returns err's *patchbay.Error, or an internal one.
func asDomain(err error) *patchbay.Error {
	var pe *patchbay.Error
	if errors.As(err, &pe) {
		return pe
	}
	return &patchbay.Error{Code: patchbay.EINTERNAL, Err: err}
}
