// Package proxy calls vendors' APIs on behalf of the host platform through
// a connection (/v1/connections/{id}/proxy/...): the connection plane
// injects the credential (refreshing it first when due) and logs every
// attempt; this package adds scope checks, retries that honour
// Retry-After, the idempotency-key ledger and the opt-in response cache
// with a stale fallback when the vendor fails.
package proxy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/connection"
	"github.com/patchbay/patchbay/internal/delivery"
	"github.com/patchbay/patchbay/internal/secret"
)

// Config configures a Service.
type Config struct {
	Store       patchbay.Store
	Connections *connection.Service
	Ring        *secret.Ring // seals the ledger's and the cache's bodies
	Logger      *slog.Logger
	Now         func() time.Time
	// Sleep waits between attempts; a timer honouring ctx when nil. Tests
	// inject one that records the waits instead of waiting.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns numbers in [0, 1) for the backoff's jitter; math/rand
	// when nil.
	Rand func() float64
}

// Service is the proxy. The exported fields bound its behaviour; New sets
// the defaults documented on each.
type Service struct {
	cfg Config

	// MaxAttempts bounds the attempts of one call (3).
	MaxAttempts int
	// BaseDelay is the backoff's first wait (250 ms), doubled per attempt
	// up to MaxDelay (5 s), each scaled by a random factor in [0.5, 1).
	BaseDelay, MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After the proxy waits out (30 s);
	// asked to wait longer, it answers with the vendor's 429 or 503.
	MaxRetryAfter time.Duration
	// MaxCacheTTL and MaxStale bound what callers may ask (24 h, 7 days);
	// DefaultMaxStale applies when a cached call names none (24 h).
	MaxCacheTTL, MaxStale, DefaultMaxStale time.Duration
	// MaxStoredBody bounds an answer kept in the ledger or the cache
	// (1 MiB): a bigger answer is not cached, and a keyed call records its
	// status and headers only.
	MaxStoredBody int
	// KeyLock is how long a keyed call in progress holds its key (5 min):
	// past it, a caller that died mid-call no longer blocks the key.
	KeyLock time.Duration
}

// New returns a Service with the defaults.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = patchbay.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	return &Service{cfg: cfg, MaxAttempts: 3, BaseDelay: 250 * time.Millisecond, MaxDelay: 5 * time.Second,
		MaxRetryAfter: 30 * time.Second, MaxCacheTTL: 24 * time.Hour, MaxStale: 7 * 24 * time.Hour,
		DefaultMaxStale: 24 * time.Hour, MaxStoredBody: 1 << 20, KeyLock: 5 * time.Minute}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Request is one proxied call.
type Request struct {
	OrgID        string
	ConnectionID string
	Method       string
	Path         string // relative to the connector's API, with its query
	Body         []byte
	// Header holds the caller's headers the vendor may see (ForwardHeaders).
	Header http.Header
	// IdempotencyKey makes the call at most once per connection, and lets
	// a write be retried.
	IdempotencyKey string
	// Retry asks for retries of a write (GET and HEAD always retry).
	Retry bool
	// CacheTTL, on a GET, answers from the cache while an answer younger
	// than it exists, and stores a successful answer; MaxStale bounds how
	// old an answer may be to stand in for a failing vendor
	// (DefaultMaxStale when zero).
	CacheTTL time.Duration
	MaxStale time.Duration
	// RequireScopes are vendor scopes the call needs.
	RequireScopes []string
}

// Cache outcomes reported in Response.Cache.
const (
	CacheHit   = "hit"
	CacheMiss  = "miss"
	CacheStale = "stale"
)

// Response is the answer given to the caller.
type Response struct {
	StatusCode int
	Header     http.Header // the vendor's headers the caller may see
	Body       []byte
	LogID      string // the request log row of the answer
	Attempts   int    // vendor calls made
	Cache      string // "" when the call did not use the cache
	Replayed   bool   // the idempotency ledger's stored answer
	// BodyOmitted is set on a replay whose answer was too big to store.
	BodyOmitted bool
}

// ForwardHeaders are the caller's request headers passed on to the vendor.
// Anything else, and above all Authorization, stays with Patchbay.
var ForwardHeaders = []string{"Accept", "Accept-Language", "Content-Type", "If-Match", "If-None-Match", "If-Modified-Since"}

// answerHeaders are the vendor's answer headers passed back (and stored in
// the ledger and cache), besides the vendor's request id headers.
var answerHeaders = []string{"Content-Type", "Content-Language", "Etag", "Last-Modified", "Link", "Location", "Retry-After",
	"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset", "Ratelimit-Limit", "Ratelimit-Remaining", "Ratelimit-Reset"}

// Methods the proxy passes on.
var Methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

var (
	ledgerColumn = patchbay.SealedColumn{Table: "idempotency_keys", Column: "response_body", Key: "id"}
	cacheColumn  = patchbay.SealedColumn{Table: "proxy_cache", Column: "body", Key: "id"}
)

// Call runs a proxied call. It returns EINVALID for a request it will not
// send, ENOTFOUND for another org's connection, ECONFLICT for a connection
// that cannot call (paused, expired, revoked, disconnected) or a reused
// idempotency key, ESCOPE for missing scopes, and EUNAVAILABLE when the
// vendor could not be reached and no stale answer could stand in. A
// vendor's own error statuses are answers, not errors.
func (s *Service) Call(ctx context.Context, r Request) (*Response, error) {
	if err := s.validate(&r); err != nil {
		return nil, err
	}
	c, err := s.cfg.Store.FindConnection(ctx, r.OrgID, r.ConnectionID)
	if err != nil {
		return nil, err
	}
	if err := callable(c); err != nil {
		return nil, err
	}
	if len(r.RequireScopes) > 0 && (c.AuthMode == patchbay.AuthOAuth2 || c.AuthMode == patchbay.AuthOAuth2ClientCredentials) {
		if err := connection.RequireScopes(c, r.RequireScopes...); err != nil {
			return nil, err
		}
	}
	started := time.Now()

	var rec *patchbay.IdempotencyRecord
	if r.IdempotencyKey != "" {
		var replay *Response
		rec, replay, err = s.claim(ctx, c, r, started)
		if err != nil || replay != nil {
			return replay, err
		}
		completed := false
		defer func() {
			if !completed {
				// No answer to remember: the caller may try the key again.
				if err := s.cfg.Store.ReleaseIdempotencyKey(context.WithoutCancel(ctx), c.OrgID, c.ID, rec.Key); err != nil {
					s.cfg.Logger.WarnContext(ctx, "release idempotency key", "connection", c.ID, "error", err.Error())
				}
			}
		}()
		resp, err := s.call(ctx, c, r, started)
		if err != nil {
			return nil, err
		}
		// A 429 or 5xx is not remembered: the key is released so the call
		// can be tried again with it (the vendor, given the key, still
		// applies it at most once).
		if !retryableStatus(resp.StatusCode) && resp.Cache != CacheStale {
			completed = s.complete(ctx, rec, resp)
		}
		return resp, nil
	}
	return s.call(ctx, c, r, started)
}

// validate checks a request and fills defaults.
func (s *Service) validate(r *Request) error {
	r.Method = strings.ToUpper(r.Method)
	if !slices.Contains(Methods, r.Method) {
		return patchbay.Errorf(patchbay.EINVALID, "The proxy does not pass %s calls on.", r.Method)
	}
	p, _, _ := strings.Cut(r.Path, "?")
	if strings.Contains(r.Path, "://") || strings.ContainsAny(p, "{}\\") || strings.HasPrefix(p, "//") {
		return patchbay.Errorf(patchbay.EINVALID, "The path must be relative to the connector's API.")
	}
	for _, seg := range strings.Split(p, "/") {
		if u, err := url.PathUnescape(seg); err == nil {
			seg = u
		}
		if seg == ".." || seg == "." || strings.ContainsAny(seg, "{}/\\") {
			return patchbay.Errorf(patchbay.EINVALID, "The path must not contain . or .. segments.")
		}
	}
	if k := r.IdempotencyKey; k != "" {
		if len(k) > 255 || strings.IndexFunc(k, func(c rune) bool { return c < 0x21 || c > 0x7e }) >= 0 {
			return patchbay.Errorf(patchbay.EINVALID, "The idempotency key must be 1 to 255 printable ASCII characters.")
		}
	}
	if r.CacheTTL < 0 || r.MaxStale < 0 {
		return patchbay.Errorf(patchbay.EINVALID, "Cache times must not be negative.")
	}
	if r.CacheTTL > 0 && r.Method != http.MethodGet {
		return patchbay.Errorf(patchbay.EINVALID, "Only GET calls can be cached.")
	}
	if r.CacheTTL > s.MaxCacheTTL {
		return patchbay.Errorf(patchbay.EINVALID, "The cache TTL is at most %s.", s.MaxCacheTTL)
	}
	if r.MaxStale == 0 {
		r.MaxStale = s.DefaultMaxStale
	}
	if r.MaxStale > s.MaxStale {
		return patchbay.Errorf(patchbay.EINVALID, "The maximum staleness is at most %s.", s.MaxStale)
	}
	return nil
}

// callable refuses a connection whose state forbids calls, without
// calling the vendor.
func callable(c *patchbay.Connection) error {
	switch c.State {
	case patchbay.StatePaused:
		return patchbay.Errorf(patchbay.ECONFLICT, "Connection %s is paused: resume it to call the vendor.", c.ID)
	case patchbay.StateAuthExpired, patchbay.StateAuthRevoked:
		return patchbay.Errorf(patchbay.ECONFLICT, "Connection %s is %s: re-authorize it to call the vendor.", c.ID, c.State)
	case patchbay.StateDisconnected:
		return patchbay.Errorf(patchbay.ECONFLICT, "Connection %s is disconnected.", c.ID)
	}
	return nil
}

// requestHash identifies a request for the ledger: the same key with
// another request is a conflict.
func requestHash(r Request) string {
	h := sha256.New()
	for _, part := range []string{r.Method, r.Path} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(r.Body)
	return hex.EncodeToString(h.Sum(nil))
}

// call makes the call, from the cache when asked and fresh, with retries,
// falling back on a stale cached answer when the vendor fails.
func (s *Service) call(ctx context.Context, c *patchbay.Connection, r Request, started time.Time) (*Response, error) {
	var entry *patchbay.CacheEntry
	cacheKey := r.Method + " " + r.Path
	if r.CacheTTL > 0 {
		e, err := s.cfg.Store.FindCacheEntry(ctx, c.OrgID, c.ID, cacheKey)
		switch {
		case err == nil:
			entry = e
		case patchbay.ErrorCode(err) != patchbay.ENOTFOUND:
			return nil, err
		}
		if entry != nil && s.cfg.Now().Before(entry.ExpiresAt) {
			return s.fromCache(ctx, c, r, entry, CacheHit, "", started)
		}
	}
	res, attempts, first, err := s.attempt(ctx, c, r)
	failed := err != nil && connection.IsNetworkError(err) || err == nil && retryableStatus(res.StatusCode)
	// A stale answer may stand in until MaxStale past its expiry (and
	// never past the entry's own bound, after which it is pruned).
	now := s.cfg.Now()
	if failed && entry != nil && now.Before(entry.StaleUntil) && now.Before(entry.ExpiresAt.Add(r.MaxStale)) {
		resp, serr := s.fromCache(ctx, c, r, entry, CacheStale, first, started)
		if serr == nil {
			resp.Attempts = attempts
			return resp, nil
		}
	}
	if err != nil {
		return nil, err
	}
	resp := &Response{StatusCode: res.StatusCode, Header: selectHeaders(res.Header), Body: res.Body, LogID: res.LogID, Attempts: attempts}
	if r.CacheTTL > 0 {
		resp.Cache = CacheMiss
		if res.StatusCode >= 200 && res.StatusCode < 300 && len(res.Body) <= s.MaxStoredBody {
			s.store(ctx, c, cacheKey, r, resp)
		}
	}
	return resp, nil
}

// attempt calls the vendor up to MaxAttempts times while the outcome is
// retryable and the method may be retried. It returns the last outcome,
// the number of attempts and the log id of the first.
func (s *Service) attempt(ctx context.Context, c *patchbay.Connection, r Request) (*connection.Result, int, string, error) {
	retries := r.Method == http.MethodGet || r.Method == http.MethodHead || r.Retry || r.IdempotencyKey != ""
	var retryAfterHeader string
	if cn, ok := s.cfg.Connections.Catalog().Get(c.ConnectorSlug); ok {
		retryAfterHeader = cn.RateLimit.RetryAfterHeader
	}
	var first string
	for n := 1; ; n++ {
		call := connection.Call{Source: patchbay.SourceProxy, Method: r.Method, Path: r.Path, Body: r.Body, Header: r.Header,
			IdempotencyKey: r.IdempotencyKey, RetryOf: first, Attempt: n}
		res, err := s.cfg.Connections.Send(ctx, c.OrgID, c.ID, call)
		if res != nil && first == "" {
			first = res.LogID
		}
		retryable := err != nil && connection.IsNetworkError(err) || err == nil && retryableStatus(res.StatusCode)
		if !retries || !retryable || n >= s.MaxAttempts {
			return res, n, first, err
		}
		wait := s.backoff(n)
		if err == nil && (res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable) {
			h := res.Header
			if retryAfterHeader != "" && h.Get(retryAfterHeader) != "" {
				h = http.Header{"Retry-After": {h.Get(retryAfterHeader)}}
			}
			if d, ok := delivery.RetryAfter(h, s.cfg.Now()); ok {
				if d > s.MaxRetryAfter {
					return res, n, first, nil // the vendor asks for longer than a caller should wait
				}
				wait = d
			}
		}
		if err := s.cfg.Sleep(ctx, wait); err != nil {
			return res, n, first, err
		}
	}
}

// backoff is the wait after the n-th failed attempt without Retry-After:
// BaseDelay doubled per attempt, capped at MaxDelay, scaled by [0.5, 1).
func (s *Service) backoff(n int) time.Duration {
	d := float64(s.BaseDelay) * math.Pow(2, float64(n-1))
	d = min(d, float64(s.MaxDelay))
	return time.Duration(d * (0.5 + s.cfg.Rand()/2))
}

func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// selectHeaders keeps the answer headers a caller may see.
func selectHeaders(h http.Header) http.Header {
	out := http.Header{}
	for _, k := range append(slices.Clone(answerHeaders), connection.VendorRequestHeaders()...) {
		if v := h.Values(k); len(v) > 0 {
			out[http.CanonicalHeaderKey(k)] = slices.Clone(v)
		}
	}
	return out
}

// store puts a successful answer in the cache. A failure to cache is
// logged: the answer is good either way.
func (s *Service) store(ctx context.Context, c *patchbay.Connection, key string, r Request, resp *Response) {
	now := s.cfg.Now()
	e := &patchbay.CacheEntry{ID: patchbay.NewID("pxc"), OrgID: c.OrgID, ConnectionID: c.ID, Key: key, StatusCode: resp.StatusCode,
		Header: resp.Header, StoredAt: now, ExpiresAt: now.Add(r.CacheTTL), StaleUntil: now.Add(r.CacheTTL + r.MaxStale)}
	var err error
	if len(resp.Body) > 0 {
		e.Body, err = s.cfg.Ring.Seal(resp.Body, cacheColumn.AssociatedData(e.ID))
	}
	if err == nil {
		err = s.cfg.Store.PutCacheEntry(context.WithoutCancel(ctx), e)
	}
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "cache vendor answer", "connection", c.ID, "error", err.Error())
	}
}

// fromCache answers from a cache entry and logs it as a hit or a stale
// fallback (retryOf: the failed call's first attempt).
func (s *Service) fromCache(ctx context.Context, c *patchbay.Connection, r Request, e *patchbay.CacheEntry, outcome, retryOf string, started time.Time) (*Response, error) {
	var body []byte
	if e.Body != "" {
		b, err := s.cfg.Ring.Open(e.Body, cacheColumn.AssociatedData(e.ID))
		if err != nil {
			return nil, &patchbay.Error{Code: patchbay.EINTERNAL, Message: "A cached answer cannot be decrypted.", Err: err}
		}
		body = b
	}
	row := &patchbay.APIRequest{Source: patchbay.SourceProxy, Method: r.Method, Path: r.Path, StatusCode: e.StatusCode,
		Duration: time.Since(started), RetryOf: retryOf, CacheHit: outcome == CacheHit, Stale: outcome == CacheStale,
		VendorRequestID: vendorID(e.Header)}
	if outcome == CacheStale {
		row.Error = "The vendor failed; answered with a cached answer stored at " + e.StoredAt.Format(time.RFC3339) + "."
	}
	s.cfg.Connections.LogAnswer(ctx, c, row, body)
	h := e.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Age", strconv.Itoa(max(int(s.cfg.Now().Sub(e.StoredAt)/time.Second), 0)))
	return &Response{StatusCode: e.StatusCode, Header: h, Body: body, LogID: row.ID, Cache: outcome}, nil
}

func vendorID(h http.Header) string {
	for _, k := range connection.VendorRequestHeaders() {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}
