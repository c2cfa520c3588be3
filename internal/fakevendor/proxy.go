package fakevendor

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// routeProxy adds the endpoints Patchbay's proxy tests call.
//
//	ANY /api/echo/{rest...}  answers 200 with what it received: method, path,
//	                         query, body, the Idempotency-Key header and the
//	                         credential it was called with (so tests can
//	                         prove the request log redacts it), with a
//	                         Request-Id header. Needs no scope.
//
// The injected faults ([Vendor.RateLimitNext], [Vendor.FailNext]) apply to
// it as to every /api/ path, which gives 429 + Retry-After n times then 200,
// and 5xx modes.
func (v *Vendor) routeProxy(mux *http.ServeMux) {
	mux.HandleFunc("/api/echo/{rest...}", v.echo)
}

// Echo is the answer of /api/echo/.
type Echo struct {
	Method         string          `json:"method"`
	Path           string          `json:"path"`
	Query          string          `json:"query,omitempty"`
	Body           json.RawMessage `json:"body,omitempty"`
	ContentType    string          `json:"content_type,omitempty"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	// Token is the credential the call carried, echoed on purpose.
	Token   string `json:"token"`
	Account string `json:"account"`
	Call    int    `json:"call"` // how many echo calls the vendor has answered, this one included
}

func (v *Vendor) echo(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	c, e := v.authorizeAPI(r, "")
	v.echoCalls++
	n := v.echoCalls
	v.mu.Unlock()
	if e != nil {
		e.write(w)
		return
	}
	out := Echo{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, ContentType: r.Header.Get("Content-Type"),
		IdempotencyKey: r.Header.Get("Idempotency-Key"), Account: c.accountID, Call: n}
	if _, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok {
		out.Token = token
	} else {
		out.Token = r.Header.Get("X-Api-Key")
	}
	// The middleware has read the body already, within its bound.
	body, _ := io.ReadAll(r.Body)
	if json.Valid(body) {
		out.Body = body
	} else if len(body) > 0 {
		out.Body, _ = json.Marshal(string(body))
	}
	w.Header().Set("Request-Id", "req_fake_"+strconv.Itoa(n))
	writeJSON(w, http.StatusOK, out)
}

// EchoCalls returns how many /api/echo/ calls the vendor has answered
// (injected faults not included).
func (v *Vendor) EchoCalls() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.echoCalls
}
