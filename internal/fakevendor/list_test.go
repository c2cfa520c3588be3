package fakevendor

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/patchbay/patchbay/internal/connector"
)

func TestRecordsPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.v.SetItemCount(7)
	tok := e.connect()
	type page struct {
		Data    []item `json:"data"`
		HasMore bool   `json:"has_more"`
	}
	var ids []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		var p page
		if err := json.Unmarshal(mustGet(t, e, "/api/records?limit=3&starting_after="+after, tok.AccessToken), &p); err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Data {
			ids = append(ids, it.ID)
		}
		if !p.HasMore {
			if pages != 2 || len(p.Data) != 1 {
				t.Fatalf("last page is page %d with %d records, want page 2 with 1", pages, len(p.Data))
			}
			break
		}
		after = p.Data[len(p.Data)-1].ID
	}
	if len(ids) != 7 || ids[0] != "item_0001" || ids[6] != "item_0007" {
		t.Fatalf("ids = %v", ids)
	}
	for _, bad := range []string{"?starting_after=item_9999", "?limit=0", "?limit=101"} {
		resp, _ := e.get("/api/records"+bad, tok.AccessToken)
		wantStatus(t, bad, resp.StatusCode, http.StatusBadRequest)
	}
	if resp, _ := e.get("/api/records", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no credential: %d", resp.StatusCode)
	}
	// The connector declares both list endpoints, and passes validation.
	c := e.v.Connector()
	if err := connector.Validate(&c); err != nil || c.List("records") == nil || c.List("items") == nil {
		t.Fatalf("connector lists %+v: %v", c.Lists, err)
	}
}
