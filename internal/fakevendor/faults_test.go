package fakevendor

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFailNext(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.connect()
	e.v.FailNext(2, http.StatusServiceUnavailable)
	for i := range 2 {
		resp, body := e.get("/api/whoami", tok.AccessToken)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "temporarily_unavailable") {
			t.Fatalf("call %d: %d %s, want 503", i, resp.StatusCode, body)
		}
	}
	if status, _ := e.whoami(tok.AccessToken); status != http.StatusOK {
		t.Fatalf("third call: %d, want 200", status)
	}

	// The token endpoint fails too, and still counts the request.
	e.v.FailNext(1, http.StatusInternalServerError)
	before := e.v.RefreshRequests()
	wantError(t, "failed refresh", e.refresh(tok.RefreshToken), 500, "server_error")
	if e.v.RefreshRequests() != before+1 {
		t.Fatalf("RefreshRequests = %d, want %d", e.v.RefreshRequests(), before+1)
	}
	// The failed refresh did not rotate the token.
	wantStatus(t, "refresh after the failure", e.refresh(tok.RefreshToken).status, http.StatusOK)

	// The authorization page is a browser's, not a back-channel call.
	e.v.FailNext(1, http.StatusBadGateway)
	if got := e.authorize(url.Values{"code_challenge": {S256Challenge(newVerifier())},
		"code_challenge_method": {"S256"}}); got.Get("code") == "" {
		t.Fatalf("authorize under FailNext: %v", got)
	}
	resp, _ := e.post("/oauth/revoke", url.Values{"token": {"x"}}, DefaultClientID, DefaultClientSecret)
	wantStatus(t, "revoke under FailNext", resp.StatusCode, http.StatusBadGateway)

	e.v.FailNext(5, http.StatusInternalServerError)
	e.v.FailNext(0, 0)
	if status, _ := e.whoami(tok.AccessToken); status != http.StatusOK {
		t.Fatalf("after clearing: %d, want 200", status)
	}
}

func TestRateLimitNext(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.connect()
	e.v.RateLimitNext(1, 1500*time.Millisecond)
	e.v.FailNext(1, http.StatusInternalServerError)
	resp, body := e.get("/api/items", tok.AccessToken)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" ||
		!strings.Contains(string(body), "rate_limited") {
		t.Fatalf("rate limited: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	resp, _ = e.get("/api/items", tok.AccessToken)
	wantStatus(t, "failure queued behind the rate limit", resp.StatusCode, http.StatusInternalServerError)
	resp, _ = e.get("/api/items", tok.AccessToken)
	wantStatus(t, "after both", resp.StatusCode, http.StatusOK)

	e.v.RateLimitNext(3, time.Second)
	wantError(t, "rate-limited token call", e.refresh(tok.RefreshToken), 429, "rate_limited")
	e.v.ClearFaults()
	resp, _ = e.get("/api/items", tok.AccessToken)
	wantStatus(t, "after ClearFaults", resp.StatusCode, http.StatusOK)
}

func TestLatency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.connect()
	e.v.SetLatency(200 * time.Millisecond)
	start := time.Now()
	if status, _ := e.whoami(tok.AccessToken); status != http.StatusOK {
		t.Fatalf("slow whoami: %d", status)
	}
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Fatalf("answered in %v, want at least 200ms", took)
	}

	// A client that gives up gets its error, and the vendor moves on.
	e.v.SetLatency(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.v.URL()+"/api/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := e.hc.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("a one-minute answer beat a 50ms deadline")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline", err)
	}
	e.v.SetLatency(0)
	start = time.Now()
	e.whoami(tok.AccessToken)
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("answered in %v after clearing the latency", took)
	}
}

// TestCloseCutsLatency checks Close does not wait out a slow answer.
func TestCloseCutsLatency(t *testing.T) {
	t.Parallel()
	v := NewServer()
	v.SetLatency(time.Hour)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.Get(v.URL() + "/api/whoami"); err == nil {
			resp.Body.Close()
		}
	}()
	time.Sleep(50 * time.Millisecond) // let the request arrive
	start := time.Now()
	v.Close()
	<-done
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Close took %v", took)
	}
}

func TestInvalidGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.connect()
	e.v.SetInvalidGrant(true)
	wantError(t, "refresh", e.refresh(tok.RefreshToken), 400, "invalid_grant")
	wantError(t, "again", e.refresh(tok.RefreshToken), 400, "invalid_grant")
	if status, _ := e.whoami(tok.AccessToken); status != http.StatusOK {
		t.Fatalf("access token under SetInvalidGrant: %d, want 200", status)
	}
	e.v.SetInvalidGrant(false)
	wantStatus(t, "refresh after clearing", e.refresh(tok.RefreshToken).status, http.StatusOK)
}

func TestRevokeAll(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.v.AddAPIKey("key")
	a, b := e.connect(), e.connect()
	e.v.RevokeAll()
	for _, tok := range []tokens{a, b} {
		resp, body := e.get("/api/whoami", tok.AccessToken)
		if resp.StatusCode != http.StatusUnauthorized ||
			resp.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` ||
			!strings.Contains(string(body), "revoked") {
			t.Fatalf("API after RevokeAll: %d %q %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
		}
		r := e.refresh(tok.RefreshToken)
		if r.status != 400 || r.Error != "invalid_grant" || !strings.Contains(r.ErrorDescription, "revoked") {
			t.Fatalf("refresh after RevokeAll = %+v", r)
		}
		if !e.v.Revoked(tok.AccessToken) || !e.v.Revoked(tok.RefreshToken) {
			t.Fatal("Revoked is false after RevokeAll")
		}
	}
	if len(e.v.Revocations()) != 0 {
		t.Fatalf("Revocations() = %v, want none: the client revoked nothing", e.v.Revocations())
	}
	if status, _ := e.whoami("key"); status != http.StatusOK {
		t.Fatalf("API key after RevokeAll: %d, want 200", status)
	}
	if status, _ := e.whoami(e.connect().AccessToken); status != http.StatusOK {
		t.Fatalf("new grant after RevokeAll: %d, want 200", status)
	}
}

func TestWrongScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.connect()
	e.v.SetWrongScope(true)
	resp, body := e.get("/api/whoami", tok.AccessToken)
	if resp.StatusCode != http.StatusForbidden ||
		!strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Bearer error="insufficient_scope"`) ||
		!strings.Contains(string(body), "insufficient_scope") {
		t.Fatalf("whoami under SetWrongScope: %d %q %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	}
	// A bad token is still a 401 first.
	resp, _ = e.get("/api/whoami", "nope")
	wantStatus(t, "bad token under SetWrongScope", resp.StatusCode, http.StatusUnauthorized)
	e.v.SetWrongScope(false)
	if status, _ := e.whoami(tok.AccessToken); status != http.StatusOK {
		t.Fatalf("after clearing: %d", status)
	}
}

// TestConcurrentRefresh has 50 goroutines refresh their own grants while
// the settings change under them; run it with -race.
func TestConcurrentRefresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const workers, rounds = 50, 4
	start := make([]string, workers)
	for i := range start {
		start[i] = e.connect().RefreshToken
	}
	baseTokens := e.v.TokenRequests()

	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := range workers {
		wg.Go(func() {
			rt := start[i]
			for range rounds {
				tok, err := refreshOnce(e, rt)
				if err != nil {
					errs <- err
					return
				}
				rt = tok.RefreshToken
			}
		})
	}
	// Settings and readers race the refreshes.
	wg.Go(func() {
		for i := range 20 {
			e.v.SetTokenLifetime(time.Duration(i+1) * time.Minute)
			e.v.SetLatency(0)
			e.v.SetWrongScope(i%2 == 0)
			_ = e.v.Requests()
			_ = e.v.RefreshRequests()
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, want := e.v.RefreshRequests(), workers*rounds; got != want {
		t.Fatalf("RefreshRequests() = %d, want %d", got, want)
	}
	if got, want := e.v.TokenRequests(), baseTokens+workers*rounds; got != want {
		t.Fatalf("TokenRequests() = %d, want %d", got, want)
	}
}

// refreshOnce refreshes without testing.T, for goroutines.
func refreshOnce(e *env, rt string) (tokens, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}}
	resp, err := e.hc.PostForm(e.v.URL()+"/oauth/token", form)
	if err != nil {
		return tokens{}, err
	}
	defer resp.Body.Close()
	var tok tokens
	tok.status = resp.StatusCode
	if err := decodeJSON(resp, &tok); err != nil {
		return tok, err
	}
	if resp.StatusCode != http.StatusOK {
		return tok, &refreshError{tok}
	}
	return tok, nil
}

type refreshError struct{ tok tokens }

func (e *refreshError) Error() string {
	return "refresh: " + e.tok.Error + ": " + e.tok.ErrorDescription
}

// TestConcurrentReuse has 50 goroutines present the same refresh token at
// once: rotation lets exactly one through, and reuse detection then
// revokes the grant, including the winner's new tokens.
func TestConcurrentReuse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rt := e.connect().RefreshToken
	const workers = 50
	results := make(chan tokens, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			tok, err := refreshOnce(e, rt)
			if re := (*refreshError)(nil); err != nil && !errors.As(err, &re) {
				t.Error(err)
			}
			results <- tok
		})
	}
	wg.Wait()
	close(results)
	var won []tokens
	lost := 0
	for tok := range results {
		switch {
		case tok.status == http.StatusOK:
			won = append(won, tok)
		case tok.status == http.StatusBadRequest && tok.Error == "invalid_grant":
			lost++
		default:
			t.Errorf("unexpected answer %+v", tok)
		}
	}
	if len(won) != 1 || lost != workers-1 {
		t.Fatalf("%d refreshes won and %d lost, want 1 and %d", len(won), lost, workers-1)
	}
	if !e.v.Revoked(won[0].RefreshToken) || !e.v.Revoked(won[0].AccessToken) {
		t.Fatal("the winner's tokens survived reuse detection")
	}
	if e.v.RefreshRequests() != workers {
		t.Fatalf("RefreshRequests() = %d, want %d", e.v.RefreshRequests(), workers)
	}
}

func decodeJSON(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}
