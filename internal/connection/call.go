package connection

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/patchbay/patchbay"
)

// ErrPaused is returned by Do for a paused connection: calls over it wait
// (deliveries are held) until it is resumed.
var ErrPaused = patchbay.Errorf(patchbay.ECONFLICT, "The connection is paused.")

// errNetwork marks a call that got no answer from the vendor.
var errNetwork = errors.New("vendor unreachable")

// IsNetworkError reports whether err is a vendor call that got no answer
// (refused, reset, timed out), as opposed to a call Patchbay refused.
func IsNetworkError(err error) bool { return errors.Is(err, errNetwork) }

// MaxResponseBody bounds a vendor's answer read through Send.
const MaxResponseBody = 8 << 20

// Call is one vendor API call over a connection.
type Call struct {
	Source patchbay.RequestSource
	Method string
	Path   string // relative to the connector's API, with its query
	Body   []byte
	// Header holds extra request headers; the credential's own headers
	// and Host are never taken from it.
	Header http.Header
	// IdempotencyKey is sent in the connector's idempotency header, when it
	// declares one, and recorded in the request log.
	IdempotencyKey string
	// RetryOf and Attempt place a retry in the request log.
	RetryOf string
	Attempt int
}

// Result is a vendor's answer, read whole.
type Result struct {
	StatusCode      int
	Header          http.Header
	Body            []byte
	LogID           string // the request log row of this attempt
	VendorRequestID string
	Duration        time.Duration
}

// Do calls the vendor's API for a queued vendor-call delivery: Send with
// source delivery, answering as an *http.Response. The caller closes the
// response body.
func (s *Service) Do(ctx context.Context, orgID, id, method, path string, body []byte) (*http.Response, error) {
	res, err := s.Send(ctx, orgID, id, Call{Source: patchbay.SourceDelivery, Method: method, Path: path, Body: body})
	if err != nil {
		return nil, err
	}
	return &http.Response{StatusCode: res.StatusCode, Status: http.StatusText(res.StatusCode), Header: res.Header,
		Body: io.NopCloser(bytes.NewReader(res.Body)), ContentLength: int64(len(res.Body))}, nil
}

// Send calls the vendor's API over a connection of an org: the credential
// is refreshed first when due and attached as the connector declares, and
// the call lands in the request log, redacted. A paused connection is
// ErrPaused and one whose credential expired or was revoked ECONFLICT,
// without a vendor call. A call that got no answer returns the Result of
// its log row with an EUNAVAILABLE error for which IsNetworkError holds.
func (s *Service) Send(ctx context.Context, orgID, id string, call Call) (*Result, error) {
	c, err := s.store.FindConnection(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	if c.State == patchbay.StatePaused {
		return nil, ErrPaused
	}
	cn, err := s.connector(c.ConnectorSlug)
	if err != nil {
		return nil, err
	}
	c, cred, err := s.credentialFor(ctx, c, s.RefreshSkew, false)
	if err != nil {
		return nil, err
	}
	req, err := newVendorRequest(ctx, cn, c, cred, call.Method, call.Path, call.Body)
	if err != nil {
		return nil, err
	}
	if call.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range call.Header {
		k = http.CanonicalHeaderKey(k)
		if k == "Authorization" || k == "Host" || k == "Cookie" || (cn.API.Auth.Type == "header" && k == http.CanonicalHeaderKey(cn.API.Auth.Name)) {
			continue
		}
		req.Header[k] = v
	}
	if call.IdempotencyKey != "" && cn.API.IdempotencyHeader != "" {
		req.Header.Set(cn.API.IdempotencyHeader, call.IdempotencyKey)
	}
	return s.exchange(ctx, c, newRedactor(cn, cred), call, req)
}

// exchange sends a request, reads the answer (bounded) and records the
// call in the request log.
func (s *Service) exchange(ctx context.Context, c *patchbay.Connection, red *redactor, call Call, req *http.Request) (*Result, error) {
	started := time.Now()
	resp, err := s.client.Do(req)
	res := &Result{}
	var callErr error
	if err != nil {
		callErr = &patchbay.Error{Code: patchbay.EUNAVAILABLE, Message: safeTransportError(err), Err: errNetwork}
	} else {
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody+1))
		resp.Body.Close()
		res.StatusCode, res.Header, res.Body = resp.StatusCode, resp.Header, body
		res.VendorRequestID = vendorRequestID(resp.Header)
		switch {
		case rerr != nil:
			callErr = &patchbay.Error{Code: patchbay.EUNAVAILABLE, Message: "The vendor's answer was cut off.", Err: errors.Join(errNetwork, rerr)}
		case len(body) > MaxResponseBody:
			callErr = patchbay.Errorf(patchbay.ETOOLARGE, "The vendor's answer is over %d bytes.", MaxResponseBody)
		}
	}
	res.Duration = time.Since(started)
	red.learn(call.Path, call.Body)
	row := &patchbay.APIRequest{OrgID: c.OrgID, ConnectionID: c.ID, Connector: c.ConnectorSlug, Source: call.Source,
		Method: req.Method, Path: red.path(call.Path), StatusCode: res.StatusCode, Duration: res.Duration,
		VendorRequestID: res.VendorRequestID, IdempotencyKey: call.IdempotencyKey, RetryOf: call.RetryOf, Attempt: call.Attempt,
		Error: red.text(patchbay.ErrorMessage(callErr)), RequestBody: red.body(call.Body), ResponseBody: red.body(res.Body)}
	if callErr == nil && (res.StatusCode < 200 || res.StatusCode >= 400) {
		row.Error = "The vendor answered " + http.StatusText(res.StatusCode) + "."
	}
	s.logRequest(ctx, row)
	res.LogID = row.ID
	return res, callErr
}

// logRequest stores a request log row. A failure to log does not fail the
// call it describes: the call happened either way.
func (s *Service) logRequest(ctx context.Context, row *patchbay.APIRequest) {
	if row.Source == "" {
		row.Source = patchbay.SourceProxy
	}
	row.ID = patchbay.NewID("req")
	if err := s.store.CreateRequest(context.WithoutCancel(ctx), row); err != nil {
		s.logger.WarnContext(ctx, "record vendor request", "connection", row.ConnectionID, "error", err.Error())
	}
}

// LogAnswer records in the request log an answer given without calling
// the vendor (a cache hit, a stale fallback, an idempotent replay). Path
// and body are redacted like a call's.
func (s *Service) LogAnswer(ctx context.Context, c *patchbay.Connection, row *patchbay.APIRequest, body []byte) {
	red := &redactor{}
	if cn, err := s.connector(c.ConnectorSlug); err == nil {
		if cred, err := s.openCredential(c); err == nil {
			red = newRedactor(cn, cred)
		}
	}
	row.OrgID, row.ConnectionID, row.Connector = c.OrgID, c.ID, c.ConnectorSlug
	row.Path, row.ResponseBody, row.Error = red.path(row.Path), red.body(body), red.text(row.Error)
	s.logRequest(ctx, row)
}

// vendorRequestHeaders are where vendors put the id of a request, most
// common first.
var vendorRequestHeaders = []string{"Request-Id", "X-Request-Id", "X-GitHub-Request-Id", "X-Amzn-Requestid",
	"X-Amz-Request-Id", "Cf-Ray", "X-Correlation-Id", "Paypal-Debug-Id", "X-Trace-Id"}

// VendorRequestHeaders lists the headers a vendor's request id is read from.
func VendorRequestHeaders() []string { return append([]string(nil), vendorRequestHeaders...) }

func vendorRequestID(h http.Header) string {
	for _, k := range vendorRequestHeaders {
		if v := h.Get(k); v != "" {
			if len(v) > 200 {
				v = v[:200]
			}
			return v
		}
	}
	return ""
}
