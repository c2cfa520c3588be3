package fakevendor

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// faults is the misbehaviour a test asked for; guarded by Vendor.mu.
type faults struct {
	failN        int
	failStatus   int
	rateN        int
	retryAfter   time.Duration
	latency      time.Duration
	invalidGrant bool
	wrongScope   bool
}

// FailNext makes the next n back-channel calls (to /api/, /oauth/token and
// /oauth/revoke) answer status, e.g. 500 or 503, with a JSON error body.
// FailNext(0, 0) clears it. Rate limiting from [Vendor.RateLimitNext] is
// used up first.
func (v *Vendor) FailNext(n int, status int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.faults.failN, v.faults.failStatus = max(n, 0), status
}

// RateLimitNext makes the next n back-channel calls answer 429 Too Many
// Requests with Retry-After set to retryAfter in whole seconds, rounded
// up. RateLimitNext(0, 0) clears it.
func (v *Vendor) RateLimitNext(n int, retryAfter time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.faults.rateN, v.faults.retryAfter = max(n, 0), retryAfter
}

// SetLatency delays every answer by d; 0 clears it. A delayed request ends
// early when its client gives up or the vendor closes.
func (v *Vendor) SetLatency(d time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.faults.latency = max(d, 0)
}

// SetInvalidGrant makes every refresh answer 400 {"error":"invalid_grant"}
// without touching the grant; false lets refreshes through again.
func (v *Vendor) SetInvalidGrant(on bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.faults.invalidGrant = on
}

// SetWrongScope makes /api/whoami answer 403 insufficient_scope, as a
// vendor does when the grant lacks the scope its whoami needs; false
// clears it.
func (v *Vendor) SetWrongScope(on bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.faults.wrongScope = on
}

// RevokeAll revokes every grant the vendor has issued, as a user removing
// the app at the vendor would: their access tokens answer 401
// invalid_token and their refresh tokens invalid_grant, with
// "revoked" in error_description. API keys, Basic users and grants made
// afterwards are not affected.
func (v *Vendor) RevokeAll() {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, at := range v.access {
		at.grant.revoke("grant revoked by the vendor")
	}
	for _, rt := range v.refresh {
		rt.grant.revoke("grant revoked by the vendor")
	}
	for _, c := range v.codes {
		c.used = true
	}
}

// ClearFaults undoes FailNext, RateLimitNext, SetLatency, SetInvalidGrant
// and SetWrongScope. Revocations stay.
func (v *Vendor) ClearFaults() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.faults = faults{}
}

// faultable reports whether injected failures apply to path.
func faultable(path string) bool {
	return strings.HasPrefix(path, "/api/") || path == "/oauth/token" || path == "/oauth/revoke"
}

// sleep waits out the injected latency; false means the client went away
// or the vendor closed first.
func (v *Vendor) sleep(r *http.Request) bool {
	v.mu.Lock()
	d := v.faults.latency
	v.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-v.done:
		return false
	}
}

// injectFault answers with the next injected failure, if one is due.
func (v *Vendor) injectFault(w http.ResponseWriter) bool {
	v.mu.Lock()
	f := &v.faults
	switch {
	case f.rateN > 0:
		f.rateN--
		secs := int(math.Ceil(f.retryAfter.Seconds()))
		v.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 0)))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{
			"error": "rate_limited", "error_description": "fakevendor: injected rate limit"})
		return true
	case f.failN > 0:
		f.failN--
		status := f.failStatus
		v.mu.Unlock()
		if status < 100 || status > 999 {
			status = http.StatusInternalServerError
		}
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		writeJSON(w, status, map[string]string{
			"error": faultCode(status), "error_description": "fakevendor: injected failure"})
		return true
	}
	v.mu.Unlock()
	return false
}

// faultCode is the error code of an injected status, in OAuth's words
// where it has some.
func faultCode(status int) string {
	switch {
	case status == http.StatusServiceUnavailable:
		return "temporarily_unavailable"
	case status == http.StatusUnauthorized:
		return "invalid_token"
	case status == http.StatusForbidden:
		return "insufficient_scope"
	case status == http.StatusTooManyRequests:
		return "rate_limited"
	case status >= 500:
		return "server_error"
	default:
		return "invalid_request"
	}
}
