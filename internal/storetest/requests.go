package storetest

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

var requestTests = []testCase{
	{"CreateFindList", testRequestsCreateFindList},
	{"Filters", testRequestsFilters},
	{"OrgIsolation", testRequestsOrgIsolation},
	{"Prune", testRequestsPrune},
	{"IdempotencyClaim", testIdempotencyClaim},
	{"IdempotencyTakeOver", testIdempotencyTakeOver},
	{"IdempotencyConcurrentClaims", testIdempotencyConcurrentClaims},
	{"IdempotencyPrune", testIdempotencyPrune},
	{"Cache", testCache},
	{"RetentionSettings", testRetentionSettings},
}

func (e *env) request(t *testing.T, orgID, connID, path string, edits ...func(*patchbay.APIRequest)) *patchbay.APIRequest {
	t.Helper()
	r := &patchbay.APIRequest{OrgID: orgID, ConnectionID: connID, Connector: "stripe", Source: patchbay.SourceProxy,
		Method: http.MethodGet, Path: path, StatusCode: 200, Duration: 42 * time.Millisecond}
	for _, edit := range edits {
		edit(r)
	}
	must(t, e.s.CreateRequest(e.ctx, r), "CreateRequest")
	return r
}

func testRequestsCreateFindList(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	first := e.request(t, org.ID, "con_1", "/v1/customers?limit=3", func(r *patchbay.APIRequest) {
		r.StatusCode, r.Error, r.VendorRequestID, r.IdempotencyKey = 429, "rate limited", "req_abc", "key-1"
		r.RequestBody, r.ResponseBody = `{"name":"x"}`, `{"error":"rate_limited"}`
	})
	wantPrefix(t, "request id", first.ID, "req_")
	wantTime(t, "CreatedAt", first.CreatedAt, e.now())
	if first.Attempt != 1 {
		t.Errorf("Attempt defaulted to %d, want 1", first.Attempt)
	}
	e.clock.Advance(time.Second)
	retry := e.request(t, org.ID, "con_1", "/v1/customers?limit=3", func(r *patchbay.APIRequest) {
		r.RetryOf, r.Attempt, r.Stale, r.CacheHit, r.Replayed = first.ID, 2, true, true, true
	})

	got, err := e.s.FindRequest(e.ctx, org.ID, first.ID)
	must(t, err, "FindRequest")
	if got.StatusCode != 429 || got.Error != "rate limited" || got.VendorRequestID != "req_abc" || got.IdempotencyKey != "key-1" ||
		got.Duration != 42*time.Millisecond || got.Path != "/v1/customers?limit=3" || got.Source != patchbay.SourceProxy ||
		got.Connector != "stripe" || got.RequestBody != `{"name":"x"}` || got.ResponseBody != `{"error":"rate_limited"}` {
		t.Errorf("FindRequest = %+v", got)
	}
	wantTime(t, "found CreatedAt", got.CreatedAt, first.CreatedAt)
	again, err := e.s.FindRequest(e.ctx, org.ID, retry.ID)
	must(t, err, "FindRequest retry")
	if again.RetryOf != first.ID || again.Attempt != 2 || !again.Stale || !again.CacheHit || !again.Replayed {
		t.Errorf("retry row = %+v", again)
	}
	_, err = e.s.FindRequest(e.ctx, org.ID, "req_missing")
	wantCode(t, err, patchbay.ENOTFOUND, "FindRequest unknown")

	for i := range 5 {
		e.clock.Advance(time.Second)
		e.request(t, org.ID, "con_1", fmt.Sprintf("/v1/items/%d", i))
	}
	all := walk(t, 3, func(p patchbay.Page) ([]*patchbay.APIRequest, string, error) {
		return e.s.ListRequests(e.ctx, org.ID, patchbay.RequestFilter{Page: p})
	})
	if len(all) != 7 || all[0].Path != "/v1/items/4" || all[6].ID != first.ID {
		t.Errorf("newest-first walk: %d rows, first %q, last %s", len(all), all[0].Path, all[len(all)-1].ID)
	}
	oldest := walk(t, 2, func(p patchbay.Page) ([]*patchbay.APIRequest, string, error) {
		return e.s.ListRequests(e.ctx, org.ID, patchbay.RequestFilter{Oldest: true, Page: p})
	})
	wantIDs(t, "oldest first", ids(oldest, func(r *patchbay.APIRequest) string { return r.ID }),
		reversed(ids(all, func(r *patchbay.APIRequest) string { return r.ID })))
}

func testRequestsFilters(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	a := e.request(t, org.ID, "con_a", "/v1/charges", func(r *patchbay.APIRequest) { r.Method, r.StatusCode = "POST", 201 })
	e.clock.Advance(time.Minute)
	b := e.request(t, org.ID, "con_b", "/v1/customers/cus_1", func(r *patchbay.APIRequest) { r.StatusCode = 503 })
	e.clock.Advance(time.Minute)
	c := e.request(t, org.ID, "con_a", "/whoami", func(r *patchbay.APIRequest) { r.Source, r.StatusCode = patchbay.SourceTest, 401 })
	e.clock.Advance(time.Minute)
	d := e.request(t, org.ID, "con_b", "/v1/50%_off", func(r *patchbay.APIRequest) { r.Source = patchbay.SourceDelivery })
	since, until := b.CreatedAt, d.CreatedAt
	idOf := func(r *patchbay.APIRequest) string { return r.ID }
	for _, tc := range []struct {
		name string
		f    patchbay.RequestFilter
		want []*patchbay.APIRequest
	}{
		{"connection", patchbay.RequestFilter{ConnectionID: "con_a"}, []*patchbay.APIRequest{c, a}},
		{"source", patchbay.RequestFilter{Source: patchbay.SourceTest}, []*patchbay.APIRequest{c}},
		{"method lower case", patchbay.RequestFilter{Method: "post"}, []*patchbay.APIRequest{a}},
		{"status", patchbay.RequestFilter{StatusCode: 503}, []*patchbay.APIRequest{b}},
		{"class 2xx", patchbay.RequestFilter{StatusClass: 2}, []*patchbay.APIRequest{d, a}},
		{"class 4xx", patchbay.RequestFilter{StatusClass: 4}, []*patchbay.APIRequest{c}},
		{"path text", patchbay.RequestFilter{Query: "CUSTOMERS"}, []*patchbay.APIRequest{b}},
		{"path wildcard is literal", patchbay.RequestFilter{Query: "50%_"}, []*patchbay.APIRequest{d}},
		{"date range", patchbay.RequestFilter{Since: &since, Until: &until}, []*patchbay.APIRequest{c, b}},
	} {
		list, _, err := e.s.ListRequests(e.ctx, org.ID, tc.f)
		must(t, err, "ListRequests "+tc.name)
		wantIDs(t, tc.name, ids(list, idOf), ids(tc.want, idOf))
	}
	_, _, err := e.s.ListRequests(e.ctx, org.ID, patchbay.RequestFilter{Page: patchbay.Page{Cursor: "garbage!"}})
	wantCode(t, err, patchbay.EINVALID, "bad cursor")
}

func testRequestsOrgIsolation(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	r := e.request(t, a.ID, "con_1", "/v1/secret")
	_, err := e.s.FindRequest(e.ctx, b.ID, r.ID)
	wantCode(t, err, patchbay.ENOTFOUND, "FindRequest across orgs")
	list, _, err := e.s.ListRequests(e.ctx, b.ID, patchbay.RequestFilter{})
	must(t, err, "ListRequests")
	if len(list) != 0 {
		t.Errorf("org B lists %d of org A's rows", len(list))
	}
	n, err := e.s.PruneRequests(e.ctx, b.ID, e.now().Add(time.Hour), 100)
	must(t, err, "PruneRequests")
	if n != 0 {
		t.Errorf("pruning org B deleted %d rows", n)
	}
	if _, err := e.s.FindRequest(e.ctx, a.ID, r.ID); err != nil {
		t.Errorf("org A's row after org B's prune: %v", err)
	}
}

func testRequestsPrune(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	var old []*patchbay.APIRequest
	for i := range 5 {
		old = append(old, e.request(t, org.ID, "con_1", fmt.Sprintf("/old/%d", i)))
		e.clock.Advance(time.Second)
	}
	cutoff := e.now()
	e.clock.Advance(time.Second)
	keep := e.request(t, org.ID, "con_1", "/new")
	n, err := e.s.PruneRequests(e.ctx, org.ID, cutoff, 3)
	must(t, err, "PruneRequests")
	if n != 3 {
		t.Errorf("first batch deleted %d, want 3", n)
	}
	n, err = e.s.PruneRequests(e.ctx, org.ID, cutoff, 3)
	must(t, err, "PruneRequests")
	if n != 2 {
		t.Errorf("second batch deleted %d, want 2", n)
	}
	list, _, err := e.s.ListRequests(e.ctx, org.ID, patchbay.RequestFilter{})
	must(t, err, "ListRequests")
	if len(list) != 1 || list[0].ID != keep.ID {
		t.Errorf("after pruning: %v, want only %s", ids(list, func(r *patchbay.APIRequest) string { return r.ID }), keep.ID)
	}
	_ = old
}

func (e *env) idemRecord(orgID, connID, key, hash string) *patchbay.IdempotencyRecord {
	return &patchbay.IdempotencyRecord{OrgID: orgID, ConnectionID: connID, Key: key, RequestHash: hash,
		LockedUntil: e.clock.Now().Add(time.Minute)}
}

func testIdempotencyClaim(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	rec, ok, err := e.s.ClaimIdempotencyKey(e.ctx, e.idemRecord(a.ID, "con_1", "order-1", "h1"), e.clock.Now())
	must(t, err, "ClaimIdempotencyKey")
	if !ok || rec.State != patchbay.IdempotencyInProgress {
		t.Fatalf("first claim = %+v, %v", rec, ok)
	}
	wantPrefix(t, "key id", rec.ID, "idk_")

	// Held: the same key is refused while in progress, for any request.
	for _, hash := range []string{"h1", "h2"} {
		held, ok, err := e.s.ClaimIdempotencyKey(e.ctx, e.idemRecord(a.ID, "con_1", "order-1", hash), e.clock.Now())
		must(t, err, "ClaimIdempotencyKey again")
		if ok || held.ID != rec.ID || held.State != patchbay.IdempotencyInProgress || held.RequestHash != "h1" {
			t.Errorf("second claim (%s) = %+v, %v; want the held record", hash, held, ok)
		}
	}
	// Another connection and another org have keys of their own.
	for _, other := range []*patchbay.IdempotencyRecord{e.idemRecord(a.ID, "con_2", "order-1", "h9"), e.idemRecord(b.ID, "con_1", "order-1", "h9")} {
		got, ok, err := e.s.ClaimIdempotencyKey(e.ctx, other, e.clock.Now())
		must(t, err, "ClaimIdempotencyKey elsewhere")
		if !ok || got.RequestHash != "h9" {
			t.Errorf("claim in %s/%s = %+v, %v; want its own", other.OrgID, other.ConnectionID, got, ok)
		}
	}

	e.clock.Advance(time.Second)
	rec.StatusCode, rec.Header, rec.Body = 201, http.Header{"Content-Type": {"application/json"}}, "pbs1:k1:sealed"
	must(t, e.s.CompleteIdempotencyKey(e.ctx, rec), "CompleteIdempotencyKey")
	wantCode(t, e.s.CompleteIdempotencyKey(e.ctx, rec), patchbay.ENOTFOUND, "completing twice")

	done, ok, err := e.s.ClaimIdempotencyKey(e.ctx, e.idemRecord(a.ID, "con_1", "order-1", "h1"), e.clock.Now())
	must(t, err, "ClaimIdempotencyKey after completion")
	if ok || done.State != patchbay.IdempotencyCompleted || done.StatusCode != 201 || done.Body != "pbs1:k1:sealed" ||
		done.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("completed record = %+v, %v", done, ok)
	}
	wantTimePtr(t, "CompletedAt", done.CompletedAt, ptr(e.now()))

	// Release forgets only in-progress keys.
	must(t, e.s.ReleaseIdempotencyKey(e.ctx, a.ID, "con_1", "order-1"), "Release completed")
	if _, ok, _ := e.s.ClaimIdempotencyKey(e.ctx, e.idemRecord(a.ID, "con_1", "order-1", "h1"), e.clock.Now()); ok {
		t.Error("a released completed key could be claimed again")
	}
	must(t, e.s.ReleaseIdempotencyKey(e.ctx, a.ID, "con_2", "order-1"), "Release in progress")
	if _, ok, _ := e.s.ClaimIdempotencyKey(e.ctx, e.idemRecord(a.ID, "con_2", "order-1", "h3"), e.clock.Now()); !ok {
		t.Error("a released in-progress key could not be claimed again")
	}
}

func testIdempotencyTakeOver(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	first, ok, err := e.s.ClaimIdempotencyKey(e.ctx, e.idemRecord(org.ID, "con_1", "k", "h1"), e.clock.Now())
	must(t, err, "claim")
	if !ok {
		t.Fatal("first claim refused")
	}
	e.clock.Advance(2 * time.Minute) // past the lock
	if _, ok, _ := e.s.ClaimIdempotencyKey(e.ctx, e.idemRecord(org.ID, "con_1", "k", "h2"), e.clock.Now()); ok {
		t.Error("an expired lock was taken over by a different request")
	}
	rec, ok, err := e.s.ClaimIdempotencyKey(e.ctx, e.idemRecord(org.ID, "con_1", "k", "h1"), e.clock.Now())
	must(t, err, "take over")
	if !ok || rec.ID != first.ID || !rec.LockedUntil.After(e.clock.Now()) {
		t.Errorf("take-over = %+v, %v; want the same record, locked again", rec, ok)
	}
	rec.StatusCode = 200
	must(t, e.s.CompleteIdempotencyKey(e.ctx, rec), "complete after take-over")
}

func testIdempotencyPrune(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	for i := range 3 {
		_, _, err := e.s.ClaimIdempotencyKey(e.ctx, e.idemRecord(a.ID, "con_1", fmt.Sprint("k", i), "h"), e.clock.Now())
		must(t, err, "claim")
	}
	_, _, err := e.s.ClaimIdempotencyKey(e.ctx, e.idemRecord(b.ID, "con_1", "k0", "h"), e.clock.Now())
	must(t, err, "claim b")
	e.clock.Advance(time.Second)
	_, _, err = e.s.ClaimIdempotencyKey(e.ctx, e.idemRecord(a.ID, "con_1", "fresh", "h"), e.clock.Now())
	must(t, err, "claim fresh")
	n, err := e.s.PruneIdempotencyKeys(e.ctx, a.ID, e.now(), 2)
	must(t, err, "prune")
	if n != 2 {
		t.Errorf("first batch %d, want 2", n)
	}
	n, err = e.s.PruneIdempotencyKeys(e.ctx, a.ID, e.now(), 2)
	must(t, err, "prune")
	if n != 1 {
		t.Errorf("second batch %d, want 1", n)
	}
	if _, ok, _ := e.s.ClaimIdempotencyKey(e.ctx, e.idemRecord(a.ID, "con_1", "k0", "other"), e.clock.Now()); !ok {
		t.Error("a pruned key is still held")
	}
	for _, k := range []struct{ org, key string }{{a.ID, "fresh"}, {b.ID, "k0"}} {
		if _, ok, _ := e.s.ClaimIdempotencyKey(e.ctx, e.idemRecord(k.org, "con_1", k.key, "other"), e.clock.Now()); ok {
			t.Errorf("key %s of %s was pruned", k.key, k.org)
		}
	}
}

func testCache(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	now := e.now()
	put := func(orgID, id, key string, status int, staleUntil time.Time) *patchbay.CacheEntry {
		c := &patchbay.CacheEntry{ID: id, OrgID: orgID, ConnectionID: "con_1", Key: key, StatusCode: status,
			Header: http.Header{"Etag": {`"` + id + `"`}}, Body: "pbs1:k1:" + id, ExpiresAt: now.Add(time.Minute), StaleUntil: staleUntil}
		must(t, e.s.PutCacheEntry(e.ctx, c), "PutCacheEntry")
		return c
	}
	put(a.ID, "pxc_1", "GET /items", 200, now.Add(time.Hour))
	_, err := e.s.FindCacheEntry(e.ctx, b.ID, "con_1", "GET /items")
	wantCode(t, err, patchbay.ENOTFOUND, "cache entry of another org")
	_, err = e.s.FindCacheEntry(e.ctx, a.ID, "con_2", "GET /items")
	wantCode(t, err, patchbay.ENOTFOUND, "cache entry of another connection")

	put(a.ID, "pxc_2", "GET /items", 203, now.Add(2*time.Hour)) // replaces, under a new id
	got, err := e.s.FindCacheEntry(e.ctx, a.ID, "con_1", "GET /items")
	must(t, err, "FindCacheEntry")
	if got.ID != "pxc_2" || got.StatusCode != 203 || got.Body != "pbs1:k1:pxc_2" || got.Header.Get("Etag") != `"pxc_2"` {
		t.Errorf("replaced entry = %+v", got)
	}
	wantTime(t, "StoredAt", got.StoredAt, now)
	wantTime(t, "ExpiresAt", got.ExpiresAt, now.Add(time.Minute))
	wantTime(t, "StaleUntil", got.StaleUntil, now.Add(2*time.Hour))

	put(a.ID, "pxc_3", "GET /old", 200, now.Add(time.Minute))
	put(b.ID, "pxc_4", "GET /old", 200, now.Add(time.Minute))
	n, err := e.s.PruneCacheEntries(e.ctx, a.ID, now.Add(time.Hour), 10)
	must(t, err, "PruneCacheEntries")
	if n != 1 {
		t.Errorf("pruned %d entries, want 1", n)
	}
	_, err = e.s.FindCacheEntry(e.ctx, a.ID, "con_1", "GET /old")
	wantCode(t, err, patchbay.ENOTFOUND, "pruned entry")
	for _, k := range []struct{ org, key string }{{a.ID, "GET /items"}, {b.ID, "GET /old"}} {
		if _, err := e.s.FindCacheEntry(e.ctx, k.org, "con_1", k.key); err != nil {
			t.Errorf("entry %s of %s: %v", k.key, k.org, err)
		}
	}
}

func testRetentionSettings(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	st, err := e.s.FindSettings(e.ctx, org.ID)
	must(t, err, "FindSettings")
	if st.RequestLogRetention() != patchbay.DefaultRequestRetention || st.IdempotencyKeyRetention() != patchbay.DefaultIdempotencyRetention {
		t.Errorf("defaults: %v, %v", st.RequestLogRetention(), st.IdempotencyKeyRetention())
	}
	st.RequestRetention, st.IdempotencyRetention = 7*24*time.Hour, 24*time.Hour
	must(t, e.s.SaveSettings(e.ctx, st), "SaveSettings")
	got, err := e.s.FindSettings(e.ctx, org.ID)
	must(t, err, "FindSettings")
	if got.RequestRetention != 7*24*time.Hour || got.IdempotencyRetention != 24*time.Hour {
		t.Errorf("saved retention: %v, %v", got.RequestRetention, got.IdempotencyRetention)
	}
	all, err := e.s.ListSettings(e.ctx)
	must(t, err, "ListSettings")
	if len(all) != 1 || all[0].RequestRetention != 7*24*time.Hour || all[0].IdempotencyRetention != 24*time.Hour {
		t.Errorf("ListSettings = %+v", all)
	}
}

// testIdempotencyConcurrentClaims claims one key from many goroutines at
// once, as replicas would: exactly one holds it.
func testIdempotencyConcurrentClaims(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	var claimed atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			_, ok, err := e.s.ClaimIdempotencyKey(e.ctx, e.idemRecord(org.ID, "con_1", "once", "h"), e.clock.Now())
			if err != nil {
				t.Errorf("ClaimIdempotencyKey: %v", err)
			}
			if ok {
				claimed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := claimed.Load(); n != 1 {
		t.Errorf("%d goroutines claimed the key, want 1", n)
	}
}
