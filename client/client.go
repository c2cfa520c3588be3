// Package client is the Go client of Patchbay's REST API. The patchbay CLI
// and the end-to-end tests use it; so can a host platform.
//
//	c := client.New("http://127.0.0.1:8080", os.Getenv("PATCHBAY_API_KEY"))
//	keys, err := c.ListAPIKeys(ctx, client.ListAPIKeysOptions{})
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls one Patchbay server with one API key. It is safe for
// concurrent use.
type Client struct {
	BaseURL    string
	APIKey     string
	HTTPClient *http.Client
	UserAgent  string
}

// New returns a client for the server at baseURL (such as
// "http://127.0.0.1:8080") authenticating with apiKey.
func New(baseURL, apiKey string) *Client {
	return &Client{
		BaseURL:    strings.TrimRight(baseURL, "/"),
		APIKey:     apiKey,
		HTTPClient: &http.Client{Timeout: 30 * time.Second},
		UserAgent:  "patchbay-go-client",
	}
}

// Error is an error answered by the server. Code is one of the codes listed
// on ErrorDetail; RetryAfter is set on rate-limit errors.
type Error struct {
	Status     int
	Code       string
	Message    string
	Details    []string
	RetryAfter time.Duration
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("%s (%d %s)", e.Message, e.Status, e.Code)
}

// ErrorCode returns the server's error code if err is an *Error, else "".
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// ListOptions pages through a list.
type ListOptions struct {
	Cursor string
	Limit  int
}

func (o ListOptions) values() url.Values {
	v := url.Values{}
	if o.Cursor != "" {
		v.Set("cursor", o.Cursor)
	}
	if o.Limit > 0 {
		v.Set("limit", strconv.Itoa(o.Limit))
	}
	return v
}

// setFilled sets each named value that is not empty.
func setFilled(v url.Values, params map[string]string) {
	for k, s := range params {
		if s != "" {
			v.Set(k, s)
		}
	}
}

// setTime sets key to t in RFC 3339 (UTC) unless t is zero.
func setTime(v url.Values, key string, t time.Time) {
	if !t.IsZero() {
		v.Set(key, t.UTC().Format(time.RFC3339Nano))
	}
}

// Do sends a request with a JSON body (when in is not nil) and decodes a
// JSON answer into out (when not nil). A non-2xx answer is returned as *Error.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	u := c.BaseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.UserAgent)
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return decodeError(resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode %s %s answer: %w", method, path, err)
	}
	return nil
}

func decodeError(resp *http.Response) error {
	e := &Error{Status: resp.StatusCode, Code: "unknown", Message: resp.Status}
	var eb ErrorBody
	if b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20)); json.Unmarshal(b, &eb) == nil && eb.Error.Code != "" {
		e.Code, e.Message, e.Details = eb.Error.Code, eb.Error.Message, eb.Error.Details
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

// Me describes the caller: its org, role and capabilities.
func (c *Client) Me(ctx context.Context) (*Me, error) {
	var out Me
	return &out, c.Do(ctx, http.MethodGet, "/v1/me", nil, nil, &out)
}

// Ready returns nil when the server answers /readyz, so its database is up.
func (c *Client) Ready(ctx context.Context) error {
	return c.Do(ctx, http.MethodGet, "/readyz", nil, nil, nil)
}
