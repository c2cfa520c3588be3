package connection

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/patchbay/patchbay"
)

// TestResult is the outcome of a test call: one of the six outcomes, with
// what the vendor told us. It never holds a credential.
type TestResult struct {
	Outcome       patchbay.TestOutcome
	AccountID     string
	AccountName   string
	MissingScopes []string
	VendorStatus  int    // the vendor's HTTP status, when it answered
	Detail        string // a safe, short explanation
}

var placeholder = regexp.MustCompile(`\{([a-z_][a-z0-9_]*)\}`)

// expand fills {name} placeholders from the connection's config, then its
// credential fields, then the token. An unknown placeholder is an error.
func expand(tmpl string, conn *patchbay.Connection, cred credential, token string) (string, error) {
	var missing string
	out := placeholder.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := m[1 : len(m)-1]
		if name == "token" {
			return token
		} else if v, ok := conn.Config[name]; ok {
			return v
		} else if v, ok := cred.Fields[name]; ok {
			return v
		}
		missing = name
		return m
	})
	if missing != "" {
		return "", patchbay.Errorf(patchbay.EINVALID, "Connection lacks the %q field its connector needs.", missing)
	}
	return out, nil
}

// token is the value a bearer, header or query injection sends by default.
func (cred credential) token(cn *patchbay.Connector) string {
	if cred.AccessToken != "" {
		return cred.AccessToken
	}
	if v := cred.Fields["api_key"]; v != "" {
		return v
	}
	for _, f := range cn.Fields {
		if f.Secret && cred.Fields[f.Name] != "" {
			return cred.Fields[f.Name]
		}
	}
	return ""
}

// newVendorRequest builds a call to the connector's API with the
// connection's credential attached as the connector declares.
func newVendorRequest(ctx context.Context, cn *patchbay.Connector, conn *patchbay.Connection, cred credential,
	method, path string, body []byte) (*http.Request, error) {
	token := cred.token(cn)
	target := path
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		target = strings.TrimRight(cn.API.BaseURL, "/") + "/" + strings.TrimLeft(path, "/")
	}
	target, err := expand(target, conn, cred, token)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, patchbay.Errorf(patchbay.EINVALID, "The connector's API address is not a valid URL.")
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Patchbay")
	for k, v := range cn.API.Headers {
		req.Header.Set(k, v)
	}
	format := cn.API.Auth.Format
	if format == "" {
		format = "{token}"
	}
	switch cn.API.Auth.Type {
	case "bearer":
		v, err := expand(format, conn, cred, token)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+v)
	case "header":
		v, err := expand(format, conn, cred, token)
		if err != nil {
			return nil, err
		}
		req.Header.Set(cn.API.Auth.Name, v)
	case "query":
		v, err := expand(format, conn, cred, token)
		if err != nil {
			return nil, err
		}
		q := req.URL.Query()
		q.Set(cn.API.Auth.Name, v)
		req.URL.RawQuery = q.Encode()
	case "basic":
		user, err1 := expand(cn.API.Auth.Username, conn, cred, token)
		pass, err2 := expand(cn.API.Auth.Password, conn, cred, token)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		req.SetBasicAuth(user, pass)
	}
	return req, nil
}

// safeTransportError describes a transport failure without its URL, which
// may carry a credential in its query.
func safeTransportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout") {
		return "The vendor did not answer in time."
	}
	msg := err.Error()
	if strings.Contains(msg, "://") {
		msg = "the vendor could not be reached" // the message would quote the URL
	}
	return "Network error: " + msg + "."
}

// verify runs the connector's test call with a credential and classifies
// the answer. It never changes anything at the vendor.
func (s *Service) verify(ctx context.Context, cn *patchbay.Connector, conn *patchbay.Connection, cred credential) TestResult {
	if cn.Verify == nil {
		return TestResult{Outcome: patchbay.TestConnected, Detail: "The connector has no test call; the credential is stored and readable."}
	}
	if conn.AuthMode == patchbay.AuthOAuth2 || conn.AuthMode == patchbay.AuthOAuth2ClientCredentials {
		if missing := conn.MissingScopes(cn.Verify.RequiredScopes); len(missing) > 0 {
			return TestResult{Outcome: patchbay.TestScopeInsufficient, MissingScopes: missing,
				Detail: "The connection lacks scopes the test call needs: " + strings.Join(missing, ", ") + "."}
		}
	}
	method := cn.Verify.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := newVendorRequest(ctx, cn, conn, cred, method, cn.Verify.Path, nil)
	if err != nil {
		return TestResult{Outcome: patchbay.TestVendorError, Detail: patchbay.ErrorMessage(err)}
	}
	if conn.CreatedAt.IsZero() {
		// Not stored yet (a connection being created): a failed test must
		// leave nothing behind, so the call is not logged.
		resp, err := s.client.Do(req)
		if err != nil {
			return TestResult{Outcome: patchbay.TestNetworkError, Detail: safeTransportError(err)}
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return classify(cn, conn, resp, body)
	}
	res, err := s.exchange(ctx, conn, newRedactor(cn, cred), Call{Source: patchbay.SourceTest, Method: method, Path: cn.Verify.Path}, req)
	if IsNetworkError(err) {
		return TestResult{Outcome: patchbay.TestNetworkError, Detail: patchbay.ErrorMessage(err)}
	}
	return classify(cn, conn, &http.Response{StatusCode: res.StatusCode, Header: res.Header}, res.Body)
}

var scopeParam = regexp.MustCompile(`scope="([^"]*)"`)

// classify turns a test call's answer into a TestResult.
func classify(cn *patchbay.Connector, conn *patchbay.Connection, resp *http.Response, body []byte) TestResult {
	r := TestResult{VendorStatus: resp.StatusCode}
	challenge := resp.Header.Get("WWW-Authenticate")
	lower := strings.ToLower(challenge + " " + string(body))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		var doc any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil && (cn.Verify.AccountID != "" || cn.Verify.AccountName != "") {
			r.Outcome, r.Detail = patchbay.TestVendorError, "The vendor's answer is not JSON."
			return r
		}
		r.Outcome = patchbay.TestConnected
		r.AccountID = lookup(doc, cn.Verify.AccountID)
		r.AccountName = lookup(doc, cn.Verify.AccountName)
		r.Detail = "Connected."
		if r.AccountID != "" {
			r.Detail = "Connected to account " + r.AccountID + "."
		}
	case resp.StatusCode == http.StatusUnauthorized:
		if strings.Contains(lower, "revoked") || conn.AuthMode == patchbay.AuthAPIKey || conn.AuthMode == patchbay.AuthBasic {
			r.Outcome, r.Detail = patchbay.TestCredentialRevoked, "The vendor refused the credential: it has been revoked or replaced."
		} else {
			r.Outcome, r.Detail = patchbay.TestCredentialExpired, "The vendor refused the credential: it has expired."
		}
	case strings.Contains(lower, "insufficient_scope") || strings.Contains(lower, "missing_scope"):
		r.Outcome = patchbay.TestScopeInsufficient
		if m := scopeParam.FindStringSubmatch(challenge); m != nil {
			r.MissingScopes = strings.Fields(m[1])
		} else {
			var e struct {
				Scope  string `json:"scope"`
				Needed string `json:"needed"`
			}
			if json.Unmarshal(body, &e) == nil {
				r.MissingScopes = strings.Fields(strings.ReplaceAll(e.Scope+" "+e.Needed, ",", " "))
			}
		}
		r.Detail = "The credential lacks a scope the vendor requires"
		if len(r.MissingScopes) > 0 {
			r.Detail += ": " + strings.Join(r.MissingScopes, ", ")
		}
		r.Detail += "."
	default:
		r.Outcome = patchbay.TestVendorError
		r.Detail = "The vendor answered " + strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode) + "."
	}
	return r
}

// lookup reads a dotted path ("data.account.id") from a decoded JSON value.
func lookup(doc any, path string) string {
	if path == "" {
		return ""
	}
	cur := doc
	for _, part := range strings.Split(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(v) {
				return ""
			}
			cur = v[i]
		default:
			return ""
		}
	}
	switch v := cur.(type) {
	case nil, map[string]any, []any:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}
