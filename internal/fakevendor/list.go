package fakevendor

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/patchbay/patchbay"
)

// lists declares the vendor's two list endpoints: /api/items, paged by an
// opaque next_cursor, and /api/records, paged Stripe-style after a record's
// id while has_more is true. Both list the same items, oldest first.
func lists() []patchbay.ListSpec {
	return []patchbay.ListSpec{
		{Entity: "items", Path: "/items", ItemsField: "items", IDField: "id", Pagination: patchbay.PageNextCursor,
			CursorParam: "cursor", NextCursorField: "next_cursor", LimitParam: "limit", PageSize: 10},
		{Entity: "records", Path: "/records", ItemsField: "data", IDField: "id", Pagination: patchbay.PageAfterID,
			CursorParam: "starting_after", HasMoreField: "has_more", LimitParam: "limit", PageSize: 10},
	}
}

// listRecords serves GET /api/records?starting_after=&limit=: the items
// after the one with id starting_after (from the first when empty), at
// most limit (1 to 100, the page size by default), and whether more
// follow.
func (v *Vendor) listRecords(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, e := v.authorizeAPI(r, ScopeItemsRead); e != nil {
		e.write(w)
		return
	}
	limit := v.pageSize
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			writeJSON(w, http.StatusBadRequest, map[string]string{
				"error": "invalid_request", "error_description": "limit must be 1 to 100"})
			return
		}
		limit = n
	}
	start := 0
	if after := r.URL.Query().Get("starting_after"); after != "" {
		i := slices.IndexFunc(v.items, func(it item) bool { return it.ID == after })
		if i < 0 {
			writeJSON(w, http.StatusBadRequest, map[string]string{
				"error": "resource_missing", "error_description": "no record " + after})
			return
		}
		start = i + 1
	}
	end := min(start+limit, len(v.items))
	writeJSON(w, http.StatusOK, map[string]any{"data": slices.Clone(v.items[start:end]), "has_more": end < len(v.items)})
}
