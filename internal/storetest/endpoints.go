package storetest

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

var endpointTests = []testCase{
	{"CreateFind", testEndpointCreateFind},
	{"Update", testEndpointUpdate},
	{"Delete", testEndpointDelete},
	{"OrgIsolation", testEndpointOrgIsolation},
	{"Pagination", testEndpointPagination},
	{"PaginationSameInstant", testEndpointPaginationSameInstant},
	{"BadCursor", testEndpointBadCursor},
	{"Subscribed", testEndpointSubscribed},
}

// wantEndpoint checks that got has every stored field of want.
func wantEndpoint(t *testing.T, what string, got, want *patchbay.Endpoint) {
	t.Helper()
	if got.ID != want.ID || got.OrgID != want.OrgID || got.URL != want.URL || got.Description != want.Description ||
		!slices.Equal(got.EventTypes, want.EventTypes) || got.Active != want.Active ||
		got.ConsecutiveFailures != want.ConsecutiveFailures || got.Secret != want.Secret ||
		got.PreviousSecret != want.PreviousSecret || got.RateLimit != want.RateLimit || got.Timeout != want.Timeout ||
		!maps.Equal(got.Headers, want.Headers) || !slices.Equal(got.Schedule, want.Schedule) ||
		got.MaxAttempts != want.MaxAttempts || got.ConnectionID != want.ConnectionID {
		t.Errorf("%s:\n\tgot  %+v\n\twant %+v", what, *got, *want)
	}
	wantTimePtr(t, what+" DisabledAt", got.DisabledAt, want.DisabledAt)
	wantTimePtr(t, what+" PreviousSecretExpiresAt", got.PreviousSecretExpiresAt, want.PreviousSecretExpiresAt)
	wantTime(t, what+" CreatedAt", got.CreatedAt, want.CreatedAt)
	wantTime(t, what+" UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func endpointID(ep *patchbay.Endpoint) string { return ep.ID }

// endpoint creates an active endpoint of the org subscribed to types, after
// applying edits.
func (e *env) endpoint(t *testing.T, orgID, url string, types []string, edits ...func(*patchbay.Endpoint)) *patchbay.Endpoint {
	t.Helper()
	ep := &patchbay.Endpoint{OrgID: orgID, URL: url, EventTypes: types, Active: true,
		Secret: "pbs1:k1:secret of " + url, Timeout: 10 * time.Second}
	for _, edit := range edits {
		edit(ep)
	}
	must(t, e.s.CreateEndpoint(e.ctx, ep), "CreateEndpoint("+url+")")
	return ep
}

// findEndpoint returns the stored endpoint, failing the test if it is not
// found.
func (e *env) findEndpoint(t *testing.T, orgID, id string) *patchbay.Endpoint {
	t.Helper()
	ep, err := e.s.FindEndpoint(e.ctx, orgID, id)
	must(t, err, "FindEndpoint("+id+")")
	return ep
}

func testEndpointCreateFind(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	now := e.clock.Now() // not in UTC: the store must normalise
	ep := &patchbay.Endpoint{ID: "ep_preset", OrgID: org.ID, URL: "https://hooks.acme.example/patchbay?x=1&y=2",
		Description: `Billing "hooks" – ünïcode`, EventTypes: []string{"invoice.paid", "invoice.*", "*"}, Active: true,
		DisabledAt: ptr(now.Add(-time.Minute)), ConsecutiveFailures: 3,
		Secret: "pbs1:k1:sealed-secret", PreviousSecret: "pbs1:k1:sealed-previous",
		PreviousSecretExpiresAt: ptr(now.Add(24 * time.Hour)), RateLimit: 25, Timeout: 2500 * time.Millisecond,
		Headers:  map[string]string{"X-Tenant": "acme", "Authorization": `Bearer "t0k3n"`, "X-Empty": ""},
		Schedule: []time.Duration{30 * time.Second, 5 * time.Minute, 2 * time.Hour}, MaxAttempts: 7,
		ConnectionID: "con_webhook"}
	must(t, e.s.CreateEndpoint(e.ctx, ep), "CreateEndpoint with a preset ID")
	if ep.ID != "ep_preset" {
		t.Errorf("ID = %q, want the preset ep_preset kept (the sealed secret is bound to it)", ep.ID)
	}
	wantTime(t, "CreatedAt", ep.CreatedAt, e.now())
	wantTime(t, "UpdatedAt", ep.UpdatedAt, e.now())

	wantEndpoint(t, "FindEndpoint", e.findEndpoint(t, org.ID, ep.ID), ep)
	locked, err := e.s.LockEndpoint(e.ctx, org.ID, ep.ID)
	must(t, err, "LockEndpoint outside a transaction")
	wantEndpoint(t, "LockEndpoint", locked, ep)
	err = e.s.WithTx(e.ctx, func(tx patchbay.Store) error {
		locked, err := tx.LockEndpoint(e.ctx, org.ID, ep.ID)
		if err == nil {
			wantEndpoint(t, "LockEndpoint inside WithTx", locked, ep)
		}
		return err
	})
	must(t, err, "LockEndpoint inside WithTx")

	// Without an ID the store makes one; empty fields stay empty.
	e.clock.Advance(time.Second)
	bare := &patchbay.Endpoint{OrgID: org.ID, URL: "https://bare.example/", Secret: "pbs1:k1:s"}
	must(t, e.s.CreateEndpoint(e.ctx, bare), "CreateEndpoint without an ID")
	wantPrefix(t, "generated endpoint ID", bare.ID, "ep_")
	if bare.ID == ep.ID {
		t.Errorf("generated ID %q equals the preset one", bare.ID)
	}
	wantTime(t, "CreatedAt of the second", bare.CreatedAt, e.now())
	got := e.findEndpoint(t, org.ID, bare.ID)
	wantEndpoint(t, "FindEndpoint(generated ID)", got, bare)
	if len(got.EventTypes) != 0 || len(got.Headers) != 0 || len(got.Schedule) != 0 || got.Active {
		t.Errorf("bare endpoint reads back types %v, headers %v, schedule %v, active %v",
			got.EventTypes, got.Headers, got.Schedule, got.Active)
	}

	// A taken ID is a conflict and changes nothing.
	dup := &patchbay.Endpoint{ID: ep.ID, OrgID: org.ID, URL: "https://dup.example/", Secret: "pbs1:k1:dup"}
	wantCode(t, e.s.CreateEndpoint(e.ctx, dup), patchbay.ECONFLICT, "CreateEndpoint with a taken ID")
	wantEndpoint(t, "endpoint after a duplicate create", e.findEndpoint(t, org.ID, ep.ID), ep)

	_, err = e.s.FindEndpoint(e.ctx, org.ID, "ep_doesnotexist")
	wantCode(t, err, patchbay.ENOTFOUND, "FindEndpoint of an unknown id")
	_, err = e.s.LockEndpoint(e.ctx, org.ID, "ep_doesnotexist")
	wantCode(t, err, patchbay.ENOTFOUND, "LockEndpoint of an unknown id")
}

func testEndpointUpdate(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	ep := e.endpoint(t, org.ID, "https://a.example/hook", []string{"invoice.paid"})
	other := e.endpoint(t, org.ID, "https://b.example/hook", []string{"*"})
	created := ep.CreatedAt

	// Every mutable field changes.
	now := e.clock.Advance(time.Hour)
	ep.URL = "https://a.example/v2/hook"
	ep.Description = "Second version"
	ep.EventTypes = []string{"customer.*", "order.created"}
	ep.Active = false
	ep.DisabledAt = ptr(now.Add(-time.Minute))
	ep.ConsecutiveFailures = patchbay.DisableAfter
	ep.Secret = "pbs1:k2:new-secret"
	ep.PreviousSecret = "pbs1:k2:old-secret"
	ep.PreviousSecretExpiresAt = ptr(now.Add(24 * time.Hour))
	ep.RateLimit = 5
	ep.Timeout = 1500 * time.Millisecond
	ep.Headers = map[string]string{"X-One": "1", "X-Two": "two, 2"}
	ep.Schedule = []time.Duration{time.Second, 10 * time.Minute, 7 * 24 * time.Hour}
	ep.MaxAttempts = 12
	ep.ConnectionID = "con_hook"
	must(t, e.s.UpdateEndpoint(e.ctx, ep), "UpdateEndpoint")
	wantTime(t, "UpdatedAt after update", ep.UpdatedAt, e.now())
	want := *ep
	want.CreatedAt = created
	wantEndpoint(t, "endpoint after update", e.findEndpoint(t, org.ID, ep.ID), &want)

	// Every field can be cleared again.
	e.clock.Advance(time.Minute)
	ep.Description = ""
	ep.EventTypes = nil
	ep.Active = true
	ep.DisabledAt = nil
	ep.ConsecutiveFailures = 0
	ep.PreviousSecret, ep.PreviousSecretExpiresAt = "", nil
	ep.RateLimit, ep.Timeout = 0, 0
	ep.Headers, ep.Schedule = nil, nil
	ep.MaxAttempts = 0
	ep.ConnectionID = ""
	must(t, e.s.UpdateEndpoint(e.ctx, ep), "UpdateEndpoint clearing fields")
	want = *ep
	want.CreatedAt = created
	got := e.findEndpoint(t, org.ID, ep.ID)
	wantEndpoint(t, "endpoint after clearing", got, &want)
	if len(got.EventTypes) != 0 || len(got.Headers) != 0 || len(got.Schedule) != 0 {
		t.Errorf("cleared endpoint has types %v, headers %v, schedule %v", got.EventTypes, got.Headers, got.Schedule)
	}

	// The other endpoint is untouched.
	wantEndpoint(t, "other endpoint", e.findEndpoint(t, org.ID, other.ID), other)

	ghost := *ep
	ghost.ID = "ep_doesnotexist"
	wantCode(t, e.s.UpdateEndpoint(e.ctx, &ghost), patchbay.ENOTFOUND, "UpdateEndpoint of an unknown id")
}

func testEndpointDelete(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	ep := e.endpoint(t, org.ID, "https://a.example/hook", []string{"*"})
	keep := e.endpoint(t, org.ID, "https://b.example/hook", []string{"*"})
	ev := e.event(t, org.ID, "invoice.paid", "")
	d := e.delivery(t, org.ID, func(d *patchbay.Delivery) { d.EventID, d.EventType, d.EndpointID = ev.ID, ev.Type, ep.ID })

	must(t, e.s.DeleteEndpoint(e.ctx, org.ID, ep.ID), "DeleteEndpoint")
	_, err := e.s.FindEndpoint(e.ctx, org.ID, ep.ID)
	wantCode(t, err, patchbay.ENOTFOUND, "FindEndpoint after delete")
	_, err = e.s.LockEndpoint(e.ctx, org.ID, ep.ID)
	wantCode(t, err, patchbay.ENOTFOUND, "LockEndpoint after delete")
	wantCode(t, e.s.DeleteEndpoint(e.ctx, org.ID, ep.ID), patchbay.ENOTFOUND, "DeleteEndpoint twice")
	wantCode(t, e.s.UpdateEndpoint(e.ctx, ep), patchbay.ENOTFOUND, "UpdateEndpoint after delete")

	list, _, err := e.s.ListEndpoints(e.ctx, org.ID, patchbay.Page{})
	must(t, err, "ListEndpoints")
	wantIDs(t, "ListEndpoints after delete", ids(list, endpointID), []string{keep.ID})
	subs, err := e.s.SubscribedEndpoints(e.ctx, org.ID, "invoice.paid")
	must(t, err, "SubscribedEndpoints")
	wantIDs(t, "SubscribedEndpoints after delete", ids(subs, endpointID), []string{keep.ID})

	// Its deliveries stay in the log.
	wantDelivery(t, "delivery of a deleted endpoint", e.findDelivery(t, org.ID, d.ID), d)
}

func testEndpointOrgIsolation(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	ea := e.endpoint(t, a.ID, "https://a.example/hook", []string{"*"})
	eb := e.endpoint(t, b.ID, "https://b.example/hook", []string{"*"})

	_, err := e.s.FindEndpoint(e.ctx, b.ID, ea.ID)
	wantCode(t, err, patchbay.ENOTFOUND, "FindEndpoint with another org's id")
	_, err = e.s.LockEndpoint(e.ctx, b.ID, ea.ID)
	wantCode(t, err, patchbay.ENOTFOUND, "LockEndpoint with another org's id")
	err = e.s.WithTx(e.ctx, func(tx patchbay.Store) error {
		_, err := tx.LockEndpoint(e.ctx, b.ID, ea.ID)
		return err
	})
	wantCode(t, err, patchbay.ENOTFOUND, "LockEndpoint with another org's id inside WithTx")

	e.clock.Advance(time.Minute)
	hijack := *ea
	hijack.OrgID = b.ID
	hijack.URL = "https://attacker.example/"
	hijack.Secret = "pbs1:k1:attacker"
	hijack.Active = false
	wantCode(t, e.s.UpdateEndpoint(e.ctx, &hijack), patchbay.ENOTFOUND, "UpdateEndpoint through another org")
	wantCode(t, e.s.DeleteEndpoint(e.ctx, b.ID, ea.ID), patchbay.ENOTFOUND, "DeleteEndpoint through another org")
	wantEndpoint(t, "endpoint after cross-org update and delete", e.findEndpoint(t, a.ID, ea.ID), ea)

	for org, want := range map[string][]string{a.ID: {ea.ID}, b.ID: {eb.ID}, "org_doesnotexist": {}} {
		list, _, err := e.s.ListEndpoints(e.ctx, org, patchbay.Page{})
		must(t, err, "ListEndpoints")
		wantIDs(t, "ListEndpoints("+org+")", ids(list, endpointID), want)
		subs, err := e.s.SubscribedEndpoints(e.ctx, org, "invoice.paid")
		must(t, err, "SubscribedEndpoints")
		wantIDs(t, "SubscribedEndpoints("+org+")", ids(subs, endpointID), want)
	}
}

func testEndpointPagination(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	var all []string
	for i := range 9 {
		all = append(all, e.endpoint(t, a.ID, fmt.Sprintf("https://a.example/%d", i), []string{"*"}).ID)
		e.endpoint(t, b.ID, fmt.Sprintf("https://b.example/%d", i), []string{"*"})
		e.clock.Advance(time.Second)
	}
	for _, limit := range []int{1, 2, 4, 100} {
		got := walk(t, limit, func(p patchbay.Page) ([]*patchbay.Endpoint, string, error) {
			return e.s.ListEndpoints(e.ctx, a.ID, p)
		})
		wantIDs(t, fmt.Sprintf("walk endpoints with limit %d", limit), ids(got, endpointID), reversed(all))
	}
	// Listed rows carry every field.
	list, _, err := e.s.ListEndpoints(e.ctx, a.ID, patchbay.Page{Limit: 1})
	must(t, err, "ListEndpoints")
	if len(list) == 1 {
		wantEndpoint(t, "listed endpoint", list[0], e.findEndpoint(t, a.ID, all[len(all)-1]))
	}
}

func testEndpointPaginationSameInstant(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	var created []string
	for i := range 7 {
		created = append(created, e.endpoint(t, org.ID, fmt.Sprintf("https://a.example/%d", i), nil).ID)
	}
	got := ids(walk(t, 2, func(p patchbay.Page) ([]*patchbay.Endpoint, string, error) {
		return e.s.ListEndpoints(e.ctx, org.ID, p)
	}), endpointID)
	slices.Sort(got)
	slices.Sort(created)
	wantIDs(t, "walk over endpoints created at one instant (sorted)", got, created)
}

func testEndpointBadCursor(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	e.endpoint(t, org.ID, "https://a.example/", nil)
	for _, c := range badCursors {
		_, _, err := e.s.ListEndpoints(e.ctx, org.ID, patchbay.Page{Cursor: c})
		wantCode(t, err, patchbay.EINVALID, "ListEndpoints with cursor "+c)
	}
}

func testEndpointSubscribed(t *testing.T, e *env) {
	org, other := e.org(t, "Acme"), e.org(t, "Globex")
	exact := e.endpoint(t, org.ID, "https://exact.example/", []string{"invoice.paid"})
	prefix := e.endpoint(t, org.ID, "https://prefix.example/", []string{"invoice.*"})
	all := e.endpoint(t, org.ID, "https://all.example/", []string{"*"})
	many := e.endpoint(t, org.ID, "https://many.example/", []string{"order.created", "invoice.paid"})
	customer := e.endpoint(t, org.ID, "https://customer.example/", []string{"customer.created"})
	inactive := e.endpoint(t, org.ID, "https://inactive.example/", []string{"invoice.paid"},
		func(ep *patchbay.Endpoint) { ep.Active = false })
	disabled := e.endpoint(t, org.ID, "https://disabled.example/", []string{"invoice.*"},
		func(ep *patchbay.Endpoint) {
			ep.DisabledAt = ptr(e.clock.Now())
			ep.ConsecutiveFailures = patchbay.DisableAfter
		})
	e.endpoint(t, org.ID, "https://none.example/", nil)
	e.endpoint(t, other.ID, "https://other.example/", []string{"*"})
	e.endpoint(t, other.ID, "https://other-invoice.example/", []string{"invoice.paid"})

	for _, c := range []struct {
		typ  string
		want []*patchbay.Endpoint
	}{
		{"invoice.paid", []*patchbay.Endpoint{exact, prefix, all, many, inactive, disabled}},
		{"invoice.voided", []*patchbay.Endpoint{prefix, all, disabled}},
		{"invoice.line.added", []*patchbay.Endpoint{prefix, all, disabled}},
		{"invoice", []*patchbay.Endpoint{all}},
		{"invoices.paid", []*patchbay.Endpoint{all}},
		{"order.created", []*patchbay.Endpoint{all, many}},
		{"customer.created", []*patchbay.Endpoint{all, customer}},
		{"customer.deleted", []*patchbay.Endpoint{all}},
		{"unknown.type", []*patchbay.Endpoint{all}},
	} {
		subs, err := e.s.SubscribedEndpoints(e.ctx, org.ID, c.typ)
		must(t, err, "SubscribedEndpoints("+c.typ+")")
		got, want := ids(subs, endpointID), ids(c.want, endpointID)
		slices.Sort(got)
		slices.Sort(want)
		wantIDs(t, "SubscribedEndpoints("+c.typ+") (sorted)", got, want)
		for _, s := range subs {
			if s.ID == disabled.ID {
				wantEndpoint(t, "subscribed disabled endpoint", s, disabled)
			}
		}
	}
}
