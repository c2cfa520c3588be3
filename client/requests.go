package client

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// RequestsQuery filters ListRequests.
type RequestsQuery struct {
	ConnectionID string
	Source       string // proxy, delivery or test
	Method       string
	Status       string // a status ("404") or a class ("5xx")
	Q            string // free text on the path
	Since, Until time.Time
	Oldest       bool
	ListOptions
}

// ListRequests searches the request log of vendor API calls.
func (c *Client) ListRequests(ctx context.Context, q RequestsQuery) (*List[APIRequest], error) {
	v := q.values()
	setFilled(v, map[string]string{"connection_id": q.ConnectionID, "source": q.Source, "method": q.Method,
		"status": q.Status, "q": q.Q})
	setTime(v, "since", q.Since)
	setTime(v, "until", q.Until)
	if q.Oldest {
		v.Set("sort", "oldest")
	}
	var out List[APIRequest]
	return &out, c.Do(ctx, http.MethodGet, "/v1/requests", v, nil, &out)
}

// GetRequest returns one row of the request log.
func (c *Client) GetRequest(ctx context.Context, id string) (*APIRequest, error) {
	var out APIRequest
	return &out, c.Do(ctx, http.MethodGet, "/v1/requests/"+url.PathEscape(id), nil, nil, &out)
}

// ProxyRequest is a call to a vendor's API through a connection.
type ProxyRequest struct {
	Method string
	// Path is relative to the connector's API, with its query string
	// ("/v1/customers?limit=3").
	Path string
	Body []byte
	// ContentType of Body; application/json when empty.
	ContentType    string
	IdempotencyKey string
	Retry          bool          // let the proxy retry a write
	CacheTTL       time.Duration // cache a GET's answer
	MaxStale       time.Duration // how long past its TTL it may stand in
	RequireScopes  []string
}

// ProxyResponse is the vendor's answer through the proxy.
type ProxyResponse struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	RequestID  string // the request log row
	Cache      string // hit, miss, stale, or "" when not cached
	Replayed   bool   // the idempotency ledger's answer
}

// Proxy calls the vendor's API through a connection. The vendor's own
// error statuses are answers (in ProxyResponse); Patchbay's refusals
// (unknown connection, paused, key conflict, missing scope…) are *Error.
func (c *Client) Proxy(ctx context.Context, connectionID string, r ProxyRequest) (*ProxyResponse, error) {
	u := c.BaseURL + "/v1/connections/" + url.PathEscape(connectionID) + "/proxy/" + strings.TrimLeft(r.Path, "/")
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u, body)
	if err != nil {
		return nil, err
	}
	if r.Body != nil {
		ct := r.ContentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("User-Agent", c.UserAgent)
	req.Header.Set("Authorization", "Bearer "+c.APIKey)
	if r.IdempotencyKey != "" {
		req.Header.Set(HeaderIdempotencyKey, r.IdempotencyKey)
	}
	if r.Retry {
		req.Header.Set(HeaderRetry, "true")
	}
	if r.CacheTTL > 0 {
		req.Header.Set(HeaderCacheTTL, strconv.Itoa(int(r.CacheTTL/time.Second)))
	}
	if r.MaxStale > 0 {
		req.Header.Set(HeaderMaxStale, strconv.Itoa(int(r.MaxStale/time.Second)))
	}
	if len(r.RequireScopes) > 0 {
		req.Header.Set(HeaderRequireScopes, strings.Join(r.RequireScopes, " "))
	}
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	// Patchbay's own refusals carry a request log id only when the vendor
	// answered; without one, a JSON error is Patchbay's.
	if resp.Header.Get(HeaderRequestID) == "" && resp.StatusCode >= 300 {
		return nil, decodeError(resp)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &ProxyResponse{StatusCode: resp.StatusCode, Header: resp.Header, Body: b, RequestID: resp.Header.Get(HeaderRequestID),
		Cache: resp.Header.Get(HeaderCache), Replayed: resp.Header.Get(HeaderReplayed) == "true"}, nil
}
