package httpapi

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
	"github.com/patchbay/patchbay/internal/proxy"
)

// The proxy's path. huma cannot declare a path parameter holding slashes,
// so the OpenAPI document names it {path} while the mux serves the
// wildcard pattern, for every method, outside huma — through the same
// authentication, capability check and error shape.
const (
	proxyPath    = "/v1/connections/{id}/proxy/{path}"
	proxyPattern = "/v1/connections/{id}/proxy/{path...}"
)

// proxyBodyLimit bounds a proxied request body.
const proxyBodyLimit = 1 << 20

// registerProxy documents one method of the proxy (the route table
// declares representative ones) and, the first time, serves the wildcard
// pattern for every method with the route's needs.
func (s *Server) registerProxy(api huma.API, op huma.Operation) {
	str := &huma.Schema{Type: "string"}
	op.Description = "Calls the vendor's API through the connection with its credential attached (refreshed first when due). " +
		"The vendor's status, body and selected headers are passed back. Every attempt lands in the request log (/v1/requests). " +
		"GET and HEAD are retried on 429, 5xx and network errors (honouring Retry-After up to 30 s); writes only with Patchbay-Retry: true or an Idempotency-Key. " +
		"PUT, PATCH, DELETE and HEAD are served at the same path."
	op.Parameters = []*huma.Param{
		{Name: "id", In: "path", Required: true, Schema: str, Description: "The connection."},
		{Name: "path", In: "path", Required: true, Schema: str, Description: "The vendor API path, relative to the connector's base URL; may contain slashes, with its query string."},
		{Name: client.HeaderIdempotencyKey, In: "header", Schema: str, Description: "At most once per connection: a repeat returns the first answer (Idempotent-Replayed: true); the same key with another request is 409. Forwarded to vendors that accept one."},
		{Name: client.HeaderRetry, In: "header", Schema: str, Description: "\"true\" lets a write be retried."},
		{Name: client.HeaderCacheTTL, In: "header", Schema: str, Description: "Seconds to cache a GET's answer (at most a day); a cached answer is served while fresh."},
		{Name: client.HeaderMaxStale, In: "header", Schema: str, Description: "Seconds past its TTL a cached answer may stand in for a failing vendor (a day by default, at most 7)."},
		{Name: client.HeaderRequireScopes, In: "header", Schema: str, Description: "Vendor scopes the call needs (OAuth connections); a missing one is 403 insufficient_scope."},
	}
	if op.Method != http.MethodGet {
		op.RequestBody = &huma.RequestBody{Description: "Passed to the vendor as sent (JSON or form), up to 1 MiB.",
			Content: map[string]*huma.MediaType{"application/json": {Schema: &huma.Schema{}}}}
	}
	op.Responses = map[string]*huma.Response{"200": {Description: "The vendor's answer, with its status, passed through. " +
		"Patchbay-Request-Id names the request log row, Patchbay-Attempts the vendor calls made, Patchbay-Cache is hit, miss or stale."}}
	for _, st := range []int{400, 401, 403, 404, 409, 413, 429, 503} {
		op.Responses[strconv.Itoa(st)] = &huma.Response{Description: http.StatusText(st),
			Content: map[string]*huma.MediaType{"application/json": {Schema: &huma.Schema{Type: "object"}}}}
	}
	api.OpenAPI().AddOperation(&op)
	if s.proxyNeeds == nil {
		s.proxyNeeds, _ = op.Metadata[needsKey].([]patchbay.Capability)
		s.mux.HandleFunc(proxyPattern, s.serveProxy)
	}
}

// serveProxy serves /v1/connections/{id}/proxy/{path...}.
func (s *Server) serveProxy(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	fail := func(err error) {
		e := asDomain(err)
		if e.Code == patchbay.EINTERNAL {
			requestInfoFrom(ctx).logger.ErrorContext(ctx, "proxy", "error", err.Error())
		}
		writeError(w, e)
	}
	p, err := s.authorize(ctx, r.Header.Get("Authorization"), s.proxyNeeds, w.Header().Set)
	if err != nil {
		fail(err)
		return
	}
	ctx = patchbay.WithPrincipal(ctx, p)
	if !slices.Contains(proxy.Methods, r.Method) {
		w.Header().Set("Allow", strings.Join(proxy.Methods, ", "))
		fail(patchbay.Errorf(patchbay.ENOTALLOWED, "The proxy passes on %s only.", strings.Join(proxy.Methods, ", ")))
		return
	}
	if s.proxy == nil {
		fail(patchbay.Errorf(patchbay.EUNAVAILABLE, "The proxy is not enabled."))
		return
	}
	in, err := proxyRequest(w, r)
	if err != nil {
		fail(err)
		return
	}
	in.OrgID = p.OrgID
	resp, err := s.proxy.Call(ctx, in)
	if err != nil {
		fail(err)
		return
	}
	h := w.Header()
	for k, v := range resp.Header {
		h[k] = v
	}
	h.Set(client.HeaderRequestID, resp.LogID)
	h.Set(client.HeaderAttempts, strconv.Itoa(resp.Attempts))
	if resp.Cache != "" {
		h.Set(client.HeaderCache, resp.Cache)
	}
	if resp.Replayed {
		h.Set(client.HeaderReplayed, "true")
	}
	if resp.BodyOmitted {
		h.Set("Patchbay-Replay-Body-Omitted", "true")
	}
	// The vendor's answer is served on Patchbay's origin: a browser must
	// not sniff it into HTML or run anything in it.
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.WriteHeader(resp.StatusCode)
	if r.Method != http.MethodHead {
		_, _ = w.Write(resp.Body) //nolint:gosec // the vendor's bytes, passed through on purpose, sandboxed above
	}
}

// proxyRequest reads a proxied call from the incoming request.
func proxyRequest(w http.ResponseWriter, r *http.Request) (proxy.Request, error) {
	in := proxy.Request{ConnectionID: r.PathValue("id"), Method: r.Method,
		IdempotencyKey: strings.TrimSpace(r.Header.Get(client.HeaderIdempotencyKey))}
	// The path as sent, still escaped: /v1/connections/<id>/proxy/<path>.
	parts := strings.SplitN(r.URL.EscapedPath(), "/", 6)
	if len(parts) < 6 || parts[5] == "" {
		return in, patchbay.Errorf(patchbay.EINVALID, "Name the vendor API path after /proxy/.")
	}
	in.Path = "/" + parts[5]
	if r.URL.RawQuery != "" {
		in.Path += "?" + r.URL.RawQuery
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, proxyBodyLimit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return in, patchbay.Errorf(patchbay.ETOOLARGE, "The body is over %d bytes.", proxyBodyLimit)
	} else if err != nil {
		return in, patchbay.Errorf(patchbay.EINVALID, "The body could not be read.")
	}
	if len(body) > 0 {
		in.Body = body
	}
	in.Header = http.Header{}
	for _, k := range proxy.ForwardHeaders {
		if v := r.Header.Values(k); len(v) > 0 {
			in.Header[k] = v
		}
	}
	if v := r.Header.Get(client.HeaderRetry); v != "" {
		if in.Retry, err = strconv.ParseBool(v); err != nil {
			return in, patchbay.Errorf(patchbay.EINVALID, "%s must be true or false.", client.HeaderRetry)
		}
	}
	for name, dst := range map[string]*time.Duration{client.HeaderCacheTTL: &in.CacheTTL, client.HeaderMaxStale: &in.MaxStale} {
		if v := r.Header.Get(name); v != "" {
			secs, err := strconv.Atoi(v)
			if err != nil || secs < 0 {
				return in, patchbay.Errorf(patchbay.EINVALID, "%s must be a number of seconds.", name)
			}
			*dst = time.Duration(secs) * time.Second
		}
	}
	in.RequireScopes = strings.FieldsFunc(r.Header.Get(client.HeaderRequireScopes), func(c rune) bool { return c == ' ' || c == ',' })
	return in, nil
}
