package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

var deliveryTests = []testCase{
	{"CreateFind", testDeliveryCreateFind},
	{"OrgIsolation", testDeliveryOrgIsolation},
	{"ListFilters", testDeliveryListFilters},
	{"ListSearch", testDeliveryListSearch},
	{"ListTimeRange", testDeliveryListTimeRange},
	{"Pagination", testDeliveryPagination},
	{"PaginationSameInstant", testDeliveryPaginationSameInstant},
	{"BadCursor", testDeliveryBadCursor},
	{"Prune", testDeliveryPrune},
}

// wantDelivery checks that got has every stored field of want.
func wantDelivery(t *testing.T, what string, got, want *patchbay.Delivery) {
	t.Helper()
	if got.ID != want.ID || got.OrgID != want.OrgID || got.EventID != want.EventID || got.EventType != want.EventType ||
		got.SourceModule != want.SourceModule || got.SourceID != want.SourceID || got.EndpointID != want.EndpointID ||
		got.ConnectionID != want.ConnectionID || got.Method != want.Method || got.Path != want.Path ||
		!bytes.Equal(got.Body, want.Body) || got.Status != want.Status || got.Attempts != want.Attempts ||
		got.RoundAttempts != want.RoundAttempts || got.LastStatusCode != want.LastStatusCode ||
		got.LastError != want.LastError {
		t.Errorf("%s:\n\tgot  %+v (body %s)\n\twant %+v (body %s)", what, *got, got.Body, *want, want.Body)
	}
	wantTime(t, what+" NextAttemptAt", got.NextAttemptAt, want.NextAttemptAt)
	wantTimePtr(t, what+" LastAttemptAt", got.LastAttemptAt, want.LastAttemptAt)
	wantTimePtr(t, what+" DeliveredAt", got.DeliveredAt, want.DeliveredAt)
	wantTime(t, what+" CreatedAt", got.CreatedAt, want.CreatedAt)
	wantTime(t, what+" UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func deliveryID(d *patchbay.Delivery) string { return d.ID }

// delivery creates a pending delivery of the org, after applying edits.
func (e *env) delivery(t *testing.T, orgID string, edits ...func(*patchbay.Delivery)) *patchbay.Delivery {
	t.Helper()
	d := &patchbay.Delivery{OrgID: orgID, EventType: "invoice.paid", SourceModule: "billing", Status: patchbay.DeliveryPending}
	for _, edit := range edits {
		edit(d)
	}
	must(t, e.s.CreateDeliveries(e.ctx, []*patchbay.Delivery{d}), "CreateDeliveries")
	return d
}

// findDelivery returns the stored delivery, failing the test if it is not
// found.
func (e *env) findDelivery(t *testing.T, orgID, id string) *patchbay.Delivery {
	t.Helper()
	d, err := e.s.FindDelivery(e.ctx, orgID, id)
	must(t, err, "FindDelivery("+id+")")
	return d
}

func withStatus(s patchbay.DeliveryStatus) func(*patchbay.Delivery) {
	return func(d *patchbay.Delivery) { d.Status = s }
}

func toEndpoint(id string) func(*patchbay.Delivery) {
	return func(d *patchbay.Delivery) { d.EndpointID = id }
}

func dueAt(at time.Time) func(*patchbay.Delivery) {
	return func(d *patchbay.Delivery) { d.NextAttemptAt = at }
}

func testDeliveryCreateFind(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	ep := e.endpoint(t, org.ID, "https://a.example/", []string{"*"})
	ev := e.event(t, org.ID, "invoice.paid", "")
	e.clock.Advance(time.Second)
	now := e.clock.Now() // not in UTC
	webhook := &patchbay.Delivery{ID: "dlv_preset", OrgID: org.ID, EventID: ev.ID, EventType: ev.Type,
		SourceModule: "billing", SourceID: "INV-0001", EndpointID: ep.ID, ConnectionID: "con_hook",
		Status: patchbay.DeliveryPending}
	vendor := &patchbay.Delivery{OrgID: org.ID, ConnectionID: "con_shop", Method: "POST", Path: "/v1/orders?x=1&y=ü",
		Body: []byte(`{"b":1, "a":[2,3]}`), Status: patchbay.DeliveryRetrying, Attempts: 3, RoundAttempts: 1,
		NextAttemptAt: now.Add(5 * time.Minute), LastAttemptAt: ptr(now.Add(-time.Minute)), LastStatusCode: 503,
		LastError: `HTTP 503: "busy"`}
	delivered := &patchbay.Delivery{OrgID: org.ID, EventID: ev.ID, EventType: ev.Type, EndpointID: ep.ID,
		Status: patchbay.DeliveryDelivered, Attempts: 1, RoundAttempts: 1, NextAttemptAt: now.Add(-time.Hour),
		LastAttemptAt: ptr(now.Add(-time.Hour)), LastStatusCode: 204, DeliveredAt: ptr(now.Add(-time.Hour))}
	must(t, e.s.CreateDeliveries(e.ctx, []*patchbay.Delivery{webhook, vendor, delivered}), "CreateDeliveries")
	if webhook.ID != "dlv_preset" {
		t.Errorf("ID = %q, want the preset dlv_preset kept", webhook.ID)
	}
	for _, d := range []*patchbay.Delivery{vendor, delivered} {
		wantPrefix(t, "generated delivery ID", d.ID, "dlv_")
	}
	if vendor.ID == delivered.ID {
		t.Errorf("two deliveries got the same ID %s", vendor.ID)
	}
	for _, d := range []*patchbay.Delivery{webhook, vendor, delivered} {
		wantTime(t, d.ID+" CreatedAt", d.CreatedAt, e.now())
		wantTime(t, d.ID+" UpdatedAt", d.UpdatedAt, e.now())
	}
	// Without a next attempt time a delivery is due now.
	if !webhook.NextAttemptAt.Equal(e.now()) {
		t.Errorf("NextAttemptAt = %v, want it defaulted to now %v", webhook.NextAttemptAt, e.now())
	}

	for _, d := range []*patchbay.Delivery{webhook, vendor, delivered} {
		wantDelivery(t, "FindDelivery("+d.ID+")", e.findDelivery(t, org.ID, d.ID), d)
	}
	if got := e.findDelivery(t, org.ID, vendor.ID); string(got.Body) != `{"b":1, "a":[2,3]}` {
		t.Errorf("Body reads back as %q, want it byte for byte", got.Body)
	}
	if got := e.findDelivery(t, org.ID, webhook.ID); len(got.Body) != 0 {
		t.Errorf("a delivery without a body reads back body %q", got.Body)
	}

	// Listed rows carry every field.
	list, _, err := e.s.ListDeliveries(e.ctx, org.ID, patchbay.DeliveryFilter{})
	must(t, err, "ListDeliveries")
	for _, got := range list {
		for _, d := range []*patchbay.Delivery{webhook, vendor, delivered} {
			if got.ID == d.ID {
				wantDelivery(t, "listed "+d.ID, got, d)
			}
		}
	}
	if len(list) != 3 {
		t.Errorf("ListDeliveries lists %d deliveries, want 3", len(list))
	}

	_, err = e.s.FindDelivery(e.ctx, org.ID, "dlv_doesnotexist")
	wantCode(t, err, patchbay.ENOTFOUND, "FindDelivery of an unknown id")
	must(t, e.s.CreateDeliveries(e.ctx, nil), "CreateDeliveries of none")
}

func testDeliveryOrgIsolation(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	da := e.delivery(t, a.ID, func(d *patchbay.Delivery) { d.SourceID = "shared" })
	db := e.delivery(t, b.ID, func(d *patchbay.Delivery) { d.SourceID = "shared" })
	_, err := e.s.FindDelivery(e.ctx, b.ID, da.ID)
	wantCode(t, err, patchbay.ENOTFOUND, "FindDelivery with another org's id")
	for org, want := range map[string][]string{a.ID: {da.ID}, b.ID: {db.ID}, "org_doesnotexist": {}} {
		for _, f := range []patchbay.DeliveryFilter{{}, {Search: "shared"}, {Oldest: true}, {EventType: "invoice.*"}} {
			list, _, err := e.s.ListDeliveries(e.ctx, org, f)
			must(t, err, "ListDeliveries")
			wantIDs(t, fmt.Sprintf("ListDeliveries(%s, %+v)", org, f), ids(list, deliveryID), want)
		}
	}
}

func testDeliveryListFilters(t *testing.T, e *env) {
	org, other := e.org(t, "Acme"), e.org(t, "Globex")
	step := func() { e.clock.Advance(time.Minute) }
	d1 := e.delivery(t, org.ID, toEndpoint("ep_1"), func(d *patchbay.Delivery) { d.ConnectionID = "con_1" })
	step()
	d2 := e.delivery(t, org.ID, toEndpoint("ep_1"), withStatus(patchbay.DeliveryDelivered),
		func(d *patchbay.Delivery) { d.EventType = "invoice.voided"; d.DeliveredAt = ptr(e.clock.Now()) })
	step()
	d3 := e.delivery(t, org.ID, toEndpoint("ep_2"), withStatus(patchbay.DeliveryRetrying),
		func(d *patchbay.Delivery) { d.EventType = "order.created"; d.ConnectionID = "con_2" })
	step()
	d4 := e.delivery(t, org.ID, withStatus(patchbay.DeliveryDeadLetter), func(d *patchbay.Delivery) {
		d.EventType, d.ConnectionID, d.Method, d.Path = "", "con_3", "POST", "/v1/orders"
	})
	step()
	d5 := e.delivery(t, org.ID, toEndpoint("ep_2"), withStatus(patchbay.DeliveryHeld))
	step()
	d6 := e.delivery(t, org.ID, toEndpoint("ep_1"), withStatus(patchbay.DeliveryDeadLetter),
		func(d *patchbay.Delivery) { d.EventType = "invoices.paid" })
	step()
	d7 := e.delivery(t, org.ID, toEndpoint("ep_2"), func(d *patchbay.Delivery) { d.EventType = "invoice" })
	step()
	// Another org's, matching every filter: never listed.
	for _, st := range patchbay.DeliveryStatuses {
		e.delivery(t, other.ID, toEndpoint("ep_1"), withStatus(st), func(d *patchbay.Delivery) { d.ConnectionID = "con_1" })
	}

	type ds = []*patchbay.Delivery
	for _, c := range []struct {
		name string
		f    patchbay.DeliveryFilter
		want ds
	}{
		{"none", patchbay.DeliveryFilter{}, ds{d7, d6, d5, d4, d3, d2, d1}},
		{"endpoint", patchbay.DeliveryFilter{EndpointID: "ep_1"}, ds{d6, d2, d1}},
		{"unknown endpoint", patchbay.DeliveryFilter{EndpointID: "ep_none"}, nil},
		{"connection", patchbay.DeliveryFilter{ConnectionID: "con_2"}, ds{d3}},
		{"vendor connection", patchbay.DeliveryFilter{ConnectionID: "con_3"}, ds{d4}},
		{"one status", patchbay.DeliveryFilter{Statuses: []patchbay.DeliveryStatus{patchbay.DeliveryDeadLetter}}, ds{d6, d4}},
		{"statuses", patchbay.DeliveryFilter{Statuses: []patchbay.DeliveryStatus{patchbay.DeliveryPending,
			patchbay.DeliveryRetrying, patchbay.DeliveryHeld}}, ds{d7, d5, d3, d1}},
		{"empty statuses", patchbay.DeliveryFilter{Statuses: []patchbay.DeliveryStatus{}}, ds{d7, d6, d5, d4, d3, d2, d1}},
		{"status sending", patchbay.DeliveryFilter{Statuses: []patchbay.DeliveryStatus{patchbay.DeliverySending}}, nil},
		{"event type exact", patchbay.DeliveryFilter{EventType: "invoice.paid"}, ds{d5, d1}},
		{"event type exact without dot", patchbay.DeliveryFilter{EventType: "invoice"}, ds{d7}},
		{"event type prefix", patchbay.DeliveryFilter{EventType: "invoice.*"}, ds{d5, d2, d1}},
		{"event type other prefix", patchbay.DeliveryFilter{EventType: "order.*"}, ds{d3}},
		{"event type no match", patchbay.DeliveryFilter{EventType: "customer.*"}, nil},
		{"endpoint and status", patchbay.DeliveryFilter{EndpointID: "ep_1",
			Statuses: []patchbay.DeliveryStatus{patchbay.DeliveryDeadLetter}}, ds{d6}},
		{"endpoint and event type", patchbay.DeliveryFilter{EndpointID: "ep_1", EventType: "invoice.*"}, ds{d2, d1}},
		{"connection and endpoint", patchbay.DeliveryFilter{EndpointID: "ep_1", ConnectionID: "con_1"}, ds{d1}},
		{"oldest first", patchbay.DeliveryFilter{EndpointID: "ep_2", Oldest: true}, ds{d3, d5, d7}},
	} {
		list, next, err := e.s.ListDeliveries(e.ctx, org.ID, c.f)
		must(t, err, "ListDeliveries "+c.name)
		wantIDs(t, "ListDeliveries "+c.name, ids(list, deliveryID), ids(c.want, deliveryID))
		if next != "" {
			t.Errorf("ListDeliveries %s: next cursor %q on the only page", c.name, next)
		}
	}
}

func testDeliveryListSearch(t *testing.T, e *env) {
	org, other := e.org(t, "Acme"), e.org(t, "Globex")
	step := func() { e.clock.Advance(time.Minute) }
	source := func(id string) func(*patchbay.Delivery) { return func(d *patchbay.Delivery) { d.SourceID = id } }
	s1 := e.delivery(t, org.ID, source("SUB_100%"))
	step()
	s2 := e.delivery(t, org.ID, source("sub-1000"))
	step()
	s3 := e.delivery(t, org.ID, source("subx100"))
	step()
	s4 := e.delivery(t, org.ID, source("Order 42"), func(d *patchbay.Delivery) { d.EventID = "evt_AbC123" })
	step()
	s5 := e.delivery(t, org.ID, source(`back\slash`), func(d *patchbay.Delivery) { d.ID = "dlv_XyZ789" })
	step()
	s6 := e.delivery(t, org.ID, source("order 7"), withStatus(patchbay.DeliveryDeadLetter))
	step()
	e.delivery(t, other.ID, source("SUB_100%"), func(d *patchbay.Delivery) { d.EventID = "evt_AbC1234" })

	type ds = []*patchbay.Delivery
	for _, c := range []struct {
		name string
		f    patchbay.DeliveryFilter
		want ds
	}{
		{"source id, any case", patchbay.DeliveryFilter{Search: "Sub"}, ds{s3, s2, s1}},
		{"underscore is literal", patchbay.DeliveryFilter{Search: "sub_"}, ds{s1}},
		{"underscore is literal inside", patchbay.DeliveryFilter{Search: "b_1"}, ds{s1}},
		{"percent is literal", patchbay.DeliveryFilter{Search: "0%"}, ds{s1}},
		{"lone percent is literal", patchbay.DeliveryFilter{Search: "%"}, ds{s1}},
		{"backslash is literal", patchbay.DeliveryFilter{Search: `k\s`}, ds{s5}},
		{"dash", patchbay.DeliveryFilter{Search: "SUB-10"}, ds{s2}},
		{"event id, any case", patchbay.DeliveryFilter{Search: "abc123"}, ds{s4}},
		{"delivery id, any case", patchbay.DeliveryFilter{Search: "DLV_xyz789"}, ds{s5}},
		{"delivery id part", patchbay.DeliveryFilter{Search: "xyz7"}, ds{s5}},
		{"source id with a space", patchbay.DeliveryFilter{Search: "ORDER "}, ds{s6, s4}},
		{"search and status", patchbay.DeliveryFilter{Search: "order", Statuses: []patchbay.DeliveryStatus{patchbay.DeliveryDeadLetter}}, ds{s6}},
		{"search oldest first", patchbay.DeliveryFilter{Search: "sub", Oldest: true}, ds{s1, s2, s3}},
		{"no match", patchbay.DeliveryFilter{Search: "nothing like it"}, nil},
	} {
		list, _, err := e.s.ListDeliveries(e.ctx, org.ID, c.f)
		must(t, err, "ListDeliveries "+c.name)
		wantIDs(t, fmt.Sprintf("ListDeliveries %s (search %q)", c.name, c.f.Search), ids(list, deliveryID), ids(c.want, deliveryID))
	}
}

func testDeliveryListTimeRange(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	t0 := e.clock.Now()
	var ds []*patchbay.Delivery
	for range 4 {
		ds = append(ds, e.delivery(t, org.ID))
		e.clock.Advance(time.Minute)
	}
	at := func(i int) *time.Time { return ptr(t0.Add(time.Duration(i) * time.Minute)) }
	for _, c := range []struct {
		name string
		f    patchbay.DeliveryFilter
		want []*patchbay.Delivery
	}{
		{"since is inclusive", patchbay.DeliveryFilter{Since: at(1)}, []*patchbay.Delivery{ds[3], ds[2], ds[1]}},
		{"since in UTC", patchbay.DeliveryFilter{Since: ptr(at(2).UTC())}, []*patchbay.Delivery{ds[3], ds[2]}},
		{"since a microsecond later", patchbay.DeliveryFilter{Since: ptr(at(2).Add(time.Microsecond))}, []*patchbay.Delivery{ds[3]}},
		{"until is exclusive", patchbay.DeliveryFilter{Until: at(2)}, []*patchbay.Delivery{ds[1], ds[0]}},
		{"until a microsecond later", patchbay.DeliveryFilter{Until: ptr(at(2).Add(time.Microsecond))}, []*patchbay.Delivery{ds[2], ds[1], ds[0]}},
		{"range", patchbay.DeliveryFilter{Since: at(1), Until: at(3)}, []*patchbay.Delivery{ds[2], ds[1]}},
		{"range oldest first", patchbay.DeliveryFilter{Since: at(1), Until: at(3), Oldest: true}, []*patchbay.Delivery{ds[1], ds[2]}},
		{"empty range", patchbay.DeliveryFilter{Since: at(3), Until: at(3)}, nil},
		{"after everything", patchbay.DeliveryFilter{Since: at(4)}, nil},
	} {
		list, _, err := e.s.ListDeliveries(e.ctx, org.ID, c.f)
		must(t, err, "ListDeliveries "+c.name)
		wantIDs(t, "ListDeliveries "+c.name, ids(list, deliveryID), ids(c.want, deliveryID))
	}
}

func testDeliveryPagination(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	var all, first []string
	for i := range 9 {
		ep := "ep_1"
		if i%3 == 1 {
			ep = "ep_2"
		}
		d := e.delivery(t, a.ID, toEndpoint(ep))
		e.delivery(t, b.ID, toEndpoint(ep))
		all = append(all, d.ID)
		if ep == "ep_1" {
			first = append(first, d.ID)
		}
		e.clock.Advance(time.Second)
	}
	for _, limit := range []int{1, 2, 4, 100} {
		for _, c := range []struct {
			name string
			f    patchbay.DeliveryFilter
			want []string
		}{
			{"newest first", patchbay.DeliveryFilter{}, reversed(all)},
			{"oldest first", patchbay.DeliveryFilter{Oldest: true}, all},
			{"endpoint newest first", patchbay.DeliveryFilter{EndpointID: "ep_1"}, reversed(first)},
			{"endpoint oldest first", patchbay.DeliveryFilter{EndpointID: "ep_1", Oldest: true}, first},
		} {
			got := walk(t, limit, func(p patchbay.Page) ([]*patchbay.Delivery, string, error) {
				f := c.f
				f.Page = p
				return e.s.ListDeliveries(e.ctx, a.ID, f)
			})
			wantIDs(t, fmt.Sprintf("walk %s with limit %d", c.name, limit), ids(got, deliveryID), c.want)
		}
	}
}

func testDeliveryPaginationSameInstant(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	ds := make([]*patchbay.Delivery, 7)
	for i := range ds {
		ds[i] = &patchbay.Delivery{OrgID: org.ID, Status: patchbay.DeliveryPending}
	}
	must(t, e.s.CreateDeliveries(e.ctx, ds), "CreateDeliveries")
	created := ids(ds, deliveryID)
	slices.Sort(created)
	for _, oldest := range []bool{false, true} {
		got := ids(walk(t, 2, func(p patchbay.Page) ([]*patchbay.Delivery, string, error) {
			return e.s.ListDeliveries(e.ctx, org.ID, patchbay.DeliveryFilter{Oldest: oldest, Page: p})
		}), deliveryID)
		want := created
		if !oldest {
			want = reversed(created)
		}
		// Rows of one instant are ordered by id.
		wantIDs(t, fmt.Sprintf("walk over deliveries created at one instant (oldest %v)", oldest), got, want)
	}
}

func testDeliveryBadCursor(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	e.delivery(t, org.ID)
	for _, c := range badCursors {
		for _, oldest := range []bool{false, true} {
			_, _, err := e.s.ListDeliveries(e.ctx, org.ID, patchbay.DeliveryFilter{Oldest: oldest, Page: patchbay.Page{Cursor: c}})
			wantCode(t, err, patchbay.EINVALID, fmt.Sprintf("ListDeliveries (oldest %v) with cursor %s", oldest, c))
		}
	}
}

// Pruning deletes the org's finished deliveries created before the cutoff,
// at most limit at a time, and their attempts with them; unfinished, newer
// and other orgs' deliveries stay, attempts included.
func testDeliveryPrune(t *testing.T, e *env) {
	org, other := e.org(t, "Acme"), e.org(t, "Globex")
	old := e.deliveries(t, 4, org.ID)
	otherOld := e.deliveries(t, 1, other.ID)
	c := e.lease(t, "w1", append(old, otherOld...)...)
	retrying := e.failed(c[3])
	retrying.Delivery.NextAttemptAt = e.clock.Now().Add(2 * time.Hour) // not due again in this test
	e.finish(t, "w1", e.succeeded(c[0]), e.succeeded(c[1]), e.outcome(c[2], patchbay.DeliveryDeadLetter, 500),
		retrying, e.succeeded(c[4]))
	e.clock.Advance(time.Hour)
	cutoff := e.clock.Now()
	recent := e.deliveries(t, 1, org.ID)
	e.finish(t, "w1", e.succeeded(e.lease(t, "w1", recent...)[0]))

	for _, step := range []struct{ limit, want int }{{2, 2}, {10, 1}, {10, 0}} {
		n, err := e.s.PruneDeliveries(e.ctx, org.ID, cutoff, step.limit)
		must(t, err, "PruneDeliveries")
		if n != step.want {
			t.Fatalf("PruneDeliveries(limit %d) = %d, want %d", step.limit, n, step.want)
		}
	}
	for _, d := range old[:3] {
		_, err := e.s.FindDelivery(e.ctx, org.ID, d.ID)
		wantCode(t, err, patchbay.ENOTFOUND, "FindDelivery of a pruned delivery")
		if as := e.attempts(t, org.ID, d.ID); len(as) != 0 {
			t.Errorf("pruned delivery %s left %d attempts", d.ID, len(as))
		}
	}
	for _, d := range []*patchbay.Delivery{old[3], otherOld[0], recent[0]} {
		e.findDelivery(t, d.OrgID, d.ID)
		if as := e.attempts(t, d.OrgID, d.ID); len(as) != 1 {
			t.Errorf("kept delivery %s has %d attempts, want 1", d.ID, len(as))
		}
	}
}
