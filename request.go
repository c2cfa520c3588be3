package patchbay

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// RequestSource says which part of Patchbay made a vendor API call.
type RequestSource string

// Request sources: the proxy (/v1/connections/{id}/proxy/...), a queued
// vendor-call delivery, and connection tests (create, test, resume).
const (
	SourceProxy    RequestSource = "proxy"
	SourceDelivery RequestSource = "delivery"
	SourceTest     RequestSource = "test"
)

// RequestSources lists every source.
var RequestSources = []RequestSource{SourceProxy, SourceDelivery, SourceTest}

// APIRequest is one row of the request log: one vendor API call made
// through a connection (each retry is its own row), or one answer the
// proxy gave from its cache or idempotency ledger without calling the
// vendor. Path and the body excerpts are redacted of secrets before the
// row is stored.
type APIRequest struct {
	ID              string
	OrgID           string
	ConnectionID    string
	Connector       string // the connector's slug
	Source          RequestSource
	Method          string
	Path            string // path and query, relative to the connector's API
	StatusCode      int    // 0 when no answer came (network error)
	Duration        time.Duration
	VendorRequestID string
	IdempotencyKey  string
	// RetryOf is the id of the first attempt when this row is a retry (or
	// a stale answer given after the attempts failed).
	RetryOf  string
	Attempt  int  // 1 for the first attempt
	CacheHit bool // answered from the cache, no vendor call
	Stale    bool // answered from an expired cache entry because the vendor failed
	Replayed bool // answered from the idempotency ledger, no vendor call
	Error    string
	// RequestBody and ResponseBody are bounded, redacted excerpts.
	RequestBody  string
	ResponseBody string
	CreatedAt    time.Time
}

// RequestFilter selects an org's request log rows.
type RequestFilter struct {
	ConnectionID string
	Source       RequestSource
	Method       string
	// StatusCode selects one status; StatusClass (1 to 5) a class such as
	// 5 for 5xx. Zero means any.
	StatusCode  int
	StatusClass int
	Since       *time.Time
	Until       *time.Time
	Query       string // free text on the path
	Oldest      bool   // oldest first instead of newest first
	Page
}

// IdempotencyState is where a keyed call is.
type IdempotencyState string

// Idempotency states: a keyed call is in progress until its answer is
// recorded.
const (
	IdempotencyInProgress IdempotencyState = "in_progress"
	IdempotencyCompleted  IdempotencyState = "completed"
)

// IdempotencyRecord is one key of the idempotency ledger, unique per
// connection: the request it was first used for (as a hash) and, once the
// call completed, the vendor's answer to replay.
type IdempotencyRecord struct {
	ID           string
	OrgID        string
	ConnectionID string
	Key          string
	RequestHash  string
	State        IdempotencyState
	StatusCode   int
	Header       http.Header // the answer's selected headers
	Body         string      // sealed; the answer's body
	// LockedUntil bounds an in-progress call: past it, a caller that died
	// mid-call no longer holds the key and the same request may run again.
	LockedUntil time.Time
	CreatedAt   time.Time
	CompletedAt *time.Time
}

// CacheEntry is a cached vendor answer of the proxy, per connection and
// method + path + query.
type CacheEntry struct {
	ID           string
	OrgID        string
	ConnectionID string
	Key          string // method, space, path and query
	StatusCode   int
	Header       http.Header
	Body         string // sealed
	StoredAt     time.Time
	ExpiresAt    time.Time // fresh until
	StaleUntil   time.Time // may answer for a failing vendor until
}

// RequestStore stores the request log, the idempotency ledger and the
// proxy's cache.
type RequestStore interface {
	// CreateRequest stores a request log row, filling ID (unless preset)
	// and CreatedAt (unless set).
	CreateRequest(ctx context.Context, r *APIRequest) error
	// FindRequest returns a row of the org or ENOTFOUND.
	FindRequest(ctx context.Context, orgID, id string) (*APIRequest, error)
	// ListRequests returns a page of the org's rows, newest first unless
	// f.Oldest.
	ListRequests(ctx context.Context, orgID string, f RequestFilter) ([]*APIRequest, string, error)
	// PruneRequests deletes up to limit of the org's rows created before
	// cutoff and returns how many it deleted.
	PruneRequests(ctx context.Context, orgID string, cutoff time.Time, limit int) (int, error)

	// ClaimIdempotencyKey records rec as in progress and returns it with
	// true. When the connection already holds the key it stores nothing
	// and returns the stored record with false — unless that record is an
	// in-progress call of the same request whose lock has expired at now,
	// which rec then takes over (true).
	ClaimIdempotencyKey(ctx context.Context, rec *IdempotencyRecord, now time.Time) (*IdempotencyRecord, bool, error)
	// CompleteIdempotencyKey records the answer of an in-progress key
	// (StatusCode, Header, Body, CompletedAt); ENOTFOUND when it is not
	// held.
	CompleteIdempotencyKey(ctx context.Context, rec *IdempotencyRecord) error
	// ReleaseIdempotencyKey forgets an in-progress key, so the call may be
	// made again; a completed key stays.
	ReleaseIdempotencyKey(ctx context.Context, orgID, connectionID, key string) error
	// PruneIdempotencyKeys deletes up to limit of the org's keys created
	// before cutoff and returns how many it deleted.
	PruneIdempotencyKeys(ctx context.Context, orgID string, cutoff time.Time, limit int) (int, error)

	// FindCacheEntry returns the entry of (connection, key) or ENOTFOUND.
	FindCacheEntry(ctx context.Context, orgID, connectionID, key string) (*CacheEntry, error)
	// PutCacheEntry creates or replaces the entry of (connection, key),
	// taking e.ID as the row's id.
	PutCacheEntry(ctx context.Context, e *CacheEntry) error
	// PruneCacheEntries deletes up to limit of the org's entries that may
	// no longer answer at all (StaleUntil before now) and returns how many.
	PruneCacheEntries(ctx context.Context, orgID string, now time.Time, limit int) (int, error)
}

// SetStatus sets the filter's status from text: a status such as 404, a
// class such as 5xx, or "" for any.
func (f *RequestFilter) SetStatus(s string) error {
	f.StatusCode, f.StatusClass = 0, 0
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "":
	case len(s) == 3 && s[0] >= '1' && s[0] <= '5' && s[1:] == "xx":
		f.StatusClass = int(s[0] - '0')
	case len(s) == 3 && s[0] >= '1' && s[0] <= '5' && isDigit(s[1]) && isDigit(s[2]):
		f.StatusCode = int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0')
	default:
		return Errorf(EINVALID, "Status must be a status such as 404 or a class such as 5xx.")
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
