package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRoutes checks that /v1/openapi.json is OpenAPI 3.1 and
// describes exactly the route table: every route with its operation id, and
// nothing else under /v1.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	f := newFixture(t)
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Responses   map[string]any
		} `json:"paths"`
	}
	f.must(http.StatusOK, "GET", "/v1/openapi.json", "", nil, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi version %q, want 3.1.x", doc.OpenAPI)
	}
	documented := 0
	for _, ops := range doc.Paths {
		documented += len(ops)
	}
	routes := f.srv.Routes()
	if documented != len(routes) {
		t.Errorf("document has %d operations, route table %d", documented, len(routes))
	}
	for _, rt := range routes {
		op, ok := doc.Paths[rt.Path][strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("%s %s missing from the document", rt.Method, rt.Path)
			continue
		}
		if op.OperationID != rt.ID {
			t.Errorf("%s %s: operationId %q, want %q", rt.Method, rt.Path, op.OperationID, rt.ID)
		}
		if _, ok := op.Responses["403"]; !ok {
			t.Errorf("%s: 403 response not documented", rt.ID)
		}
	}
	raw := f.do("GET", "/v1/openapi.json", "", nil).Body.Bytes()
	if !json.Valid(raw) {
		t.Fatal("document is not valid JSON")
	}
}
