package client

import "time"

// APIRequest is one row of the request log: one vendor API call made
// through a connection (each retry its own row), or an answer the proxy
// gave from its cache or idempotency ledger. Secrets are redacted.
type APIRequest struct {
	ID              string    `json:"id"`
	ConnectionID    string    `json:"connection_id"`
	Connector       string    `json:"connector"`
	Source          string    `json:"source" enum:"proxy,delivery,test" doc:"What made the call."`
	Method          string    `json:"method"`
	Path            string    `json:"path" doc:"Path and query, relative to the connector's API; secret-looking parameters redacted."`
	StatusCode      int       `json:"status_code" doc:"The vendor's status; 0 when no answer came."`
	DurationMS      int64     `json:"duration_ms"`
	VendorRequestID string    `json:"vendor_request_id,omitempty"`
	IdempotencyKey  string    `json:"idempotency_key,omitempty"`
	RetryOf         string    `json:"retry_of,omitempty" doc:"The first attempt's id, on a retry or a stale answer."`
	Attempt         int       `json:"attempt"`
	CacheHit        bool      `json:"cache_hit" doc:"Answered from the cache without calling the vendor."`
	Stale           bool      `json:"stale" doc:"Answered from an expired cache entry because the vendor failed."`
	Replayed        bool      `json:"replayed" doc:"Answered from the idempotency ledger without calling the vendor."`
	Error           string    `json:"error,omitempty"`
	RequestBody     string    `json:"request_body,omitempty" doc:"First 4 KiB of the request body, redacted."`
	ResponseBody    string    `json:"response_body,omitempty" doc:"First 4 KiB of the answer, redacted."`
	CreatedAt       time.Time `json:"created_at"`
}

// Headers of the proxy (/v1/connections/{id}/proxy/...).
const (
	// HeaderIdempotencyKey makes a proxied call at most once per
	// connection; it is forwarded to vendors that accept one.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderRetry, "true", lets the proxy retry a write.
	HeaderRetry = "Patchbay-Retry"
	// HeaderCacheTTL, in seconds, caches a GET's answer.
	HeaderCacheTTL = "Patchbay-Cache-TTL"
	// HeaderMaxStale, in seconds, bounds how long past its TTL a cached
	// answer may stand in for a failing vendor (a day by default).
	HeaderMaxStale = "Patchbay-Cache-Max-Stale"
	// HeaderRequireScopes lists vendor scopes the call needs, separated
	// by spaces or commas.
	HeaderRequireScopes = "Patchbay-Require-Scopes"
	// Answer headers: the request log row, "hit", "miss" or "stale", the
	// vendor calls made, and a replay from the idempotency ledger.
	HeaderRequestID = "Patchbay-Request-Id"
	HeaderCache     = "Patchbay-Cache"
	HeaderAttempts  = "Patchbay-Attempts"
	HeaderReplayed  = "Idempotent-Replayed"
)
