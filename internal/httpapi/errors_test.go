package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/patchbay/patchbay"
)

// TestErrorAnswers checks that bad requests get the right status and the
// JSON error body, whatever part of the stack refuses them.
func TestErrorAnswers(t *testing.T) {
	f := newFixture(t)
	a := f.newOrg("Org A", "admin@a.example")
	big := `{"name":"` + strings.Repeat("x", 70<<10) + `"}`
	for _, tc := range []struct {
		name, method, path, contentType, body string
		status                                int
		code                                  string
	}{
		{"unknown path", "GET", "/v1/nothing-here", "", "", 404, patchbay.ENOTFOUND},
		{"unknown root path", "GET", "/nothing", "", "", 404, patchbay.ENOTFOUND},
		{"wrong method", "PUT", "/v1/api-keys", "", "", 405, patchbay.ENOTALLOWED},
		{"not JSON", "POST", "/v1/api-keys", "application/x-www-form-urlencoded", "name=x", 415, patchbay.EUNSUPPORTED},
		{"malformed JSON", "POST", "/v1/api-keys", "application/json", `{"name":`, 400, patchbay.EINVALID},
		{"wrong type", "POST", "/v1/api-keys", "application/json", `{"name":7}`, 400, patchbay.EINVALID},
		{"unknown field", "POST", "/v1/api-keys", "application/json", `{"name":"x","admin":true}`, 400, patchbay.EINVALID},
		{"array body", "POST", "/v1/api-keys", "application/json", `[]`, 400, patchbay.EINVALID},
		{"empty name", "POST", "/v1/api-keys", "application/json", `{"name":"  "}`, 400, patchbay.EINVALID},
		{"unknown role", "POST", "/v1/api-keys", "application/json", `{"name":"x","role_id":"root"}`, 400, patchbay.EINVALID},
		{"unknown scope", "POST", "/v1/api-keys", "application/json", `{"name":"x","scopes":["everything"]}`, 400, patchbay.EINVALID},
		{"oversized body", "POST", "/v1/api-keys", "application/json", big, 413, patchbay.ETOOLARGE},
		{"limit too big", "GET", "/v1/activity?limit=100000", "", "", 400, patchbay.EINVALID},
		{"limit not a number", "GET", "/v1/activity?limit=ten", "", "", 400, patchbay.EINVALID},
		{"forged cursor", "GET", "/v1/activity?cursor=bm9wZQ", "", "", 400, patchbay.EINVALID},
		{"bad time", "GET", "/v1/activity?since=yesterday", "", "", 400, patchbay.EINVALID},
		{"empty range", "GET", "/v1/activity?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "", "", 400, patchbay.EINVALID},
		{"missing row", "GET", "/v1/api-keys/key_nothing", "", "", 404, patchbay.ENOTFOUND},
		{"bearer missing", "GET", "/v1/me", "", "", 401, patchbay.EUNAUTHORIZED},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			if tc.name != "bearer missing" {
				req.Header.Set("Authorization", "Bearer "+a.APIKey)
			}
			w := httptest.NewRecorder()
			f.srv.ServeHTTP(w, req)
			if w.Code != tc.status || errorCode(t, w) != tc.code {
				t.Fatalf("status %d, want %d %s; body %s", w.Code, tc.status, tc.code, w.Body)
			}
			if strings.Contains(w.Body.String(), "xxxxxxxx") {
				t.Fatal("error echoes the request body")
			}
		})
	}
	if w := f.do("PUT", "/v1/api-keys", a.APIKey, nil); w.Header().Get("Allow") == "" {
		t.Error("405 without Allow header")
	}
	// Nothing above stored anything.
	if w := f.do("GET", "/v1/api-keys", a.APIKey, nil); strings.Count(w.Body.String(), `"id"`) != 1 {
		t.Fatalf("bad requests stored keys: %s", w.Body)
	}
	_ = http.StatusOK
}
