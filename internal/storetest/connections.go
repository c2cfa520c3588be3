package storetest

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

var connectionTests = []testCase{
	{"CreateFind", testConnectionCreateFind},
	{"Update", testConnectionUpdate},
	{"OrgIsolation", testConnectionOrgIsolation},
	{"ListFilters", testConnectionListFilters},
	{"ListQuery", testConnectionListQuery},
	{"Pagination", testConnectionPagination},
	{"PaginationSameInstant", testConnectionPaginationSameInstant},
	{"BadCursor", testConnectionBadCursor},
	{"LockWaits", testConnectionLockWaits},
	{"LockSerialises", testConnectionLockSerialises},
	{"ClaimRefreshConcurrent", testClaimRefreshConcurrent},
	{"ClaimRefreshStale", testClaimRefreshStale},
	{"ClaimRefreshLease", testClaimRefreshLease},
	{"ClaimRefreshNoExpiry", testClaimRefreshNoExpiry},
	{"ListExpiring", testListExpiring},
	{"Report", testReportConnections},
}

// wantConnection checks that got has every stored field of want.
func wantConnection(t *testing.T, what string, got, want *patchbay.Connection) {
	t.Helper()
	if got.ID != want.ID || got.OrgID != want.OrgID || got.ConnectorSlug != want.ConnectorSlug ||
		got.DisplayName != want.DisplayName || got.State != want.State || got.AuthMode != want.AuthMode ||
		got.VendorAccountID != want.VendorAccountID || got.VendorAccountName != want.VendorAccountName ||
		!slices.Equal(got.Scopes, want.Scopes) || !maps.Equal(got.Config, want.Config) ||
		got.Credential != want.Credential || got.RefreshToken != want.RefreshToken ||
		got.LastTestOutcome != want.LastTestOutcome || got.LastTestDetail != want.LastTestDetail ||
		got.Health != want.Health || got.ConsecutiveFailures != want.ConsecutiveFailures ||
		got.OperatorOfRecord != want.OperatorOfRecord {
		t.Errorf("%s:\n\tgot  %+v\n\twant %+v", what, *got, *want)
	}
	wantTimePtr(t, what+" ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	wantTimePtr(t, what+" LastTestAt", got.LastTestAt, want.LastTestAt)
	wantTimePtr(t, what+" LastDeliveryAt", got.LastDeliveryAt, want.LastDeliveryAt)
	wantTimePtr(t, what+" DisconnectedAt", got.DisconnectedAt, want.DisconnectedAt)
	wantTime(t, what+" CreatedAt", got.CreatedAt, want.CreatedAt)
	wantTime(t, what+" UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func connectionID(c *patchbay.Connection) string { return c.ID }

// connection creates an active OAuth connection of the org, after applying
// edits.
func (e *env) connection(t *testing.T, orgID, slug, name string, edits ...func(*patchbay.Connection)) *patchbay.Connection {
	t.Helper()
	c := &patchbay.Connection{OrgID: orgID, ConnectorSlug: slug, DisplayName: name, State: patchbay.StateActive,
		AuthMode: patchbay.AuthOAuth2, Credential: "pbs1:k1:credential of " + name, OperatorOfRecord: "user:usr_test"}
	for _, edit := range edits {
		edit(c)
	}
	must(t, e.s.CreateConnection(e.ctx, c), "CreateConnection("+name+")")
	return c
}

// findConnection returns the stored connection, failing the test if it is
// not found.
func (e *env) findConnection(t *testing.T, orgID, id string) *patchbay.Connection {
	t.Helper()
	c, err := e.s.FindConnection(e.ctx, orgID, id)
	must(t, err, "FindConnection("+id+")")
	return c
}

func withState(s patchbay.ConnectionState) func(*patchbay.Connection) {
	return func(c *patchbay.Connection) { c.State = s }
}

func withExpiry(at time.Time) func(*patchbay.Connection) {
	return func(c *patchbay.Connection) { c.ExpiresAt = &at }
}

func withRefresh(token string) func(*patchbay.Connection) {
	return func(c *patchbay.Connection) { c.RefreshToken = token }
}

func testConnectionCreateFind(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	now := e.clock.Now() // not in UTC: the store must normalise
	c := &patchbay.Connection{ID: "con_preset", OrgID: org.ID, ConnectorSlug: "shopify", DisplayName: "Acme Shop",
		State: patchbay.StateActive, AuthMode: patchbay.AuthOAuth2, VendorAccountID: "shop-42",
		VendorAccountName: "Acme Store", Scopes: []string{"write_orders", "read_orders"},
		Config:     map[string]string{"shop_domain": "acme.myshopify.com", "note": `it's "quoted" – ünïcode`},
		Credential: "pbs1:k1:sealed-credential", RefreshToken: "pbs1:k1:sealed-refresh",
		ExpiresAt: ptr(now.Add(time.Hour)), LastTestAt: ptr(now.Add(-time.Minute)), LastTestOutcome: patchbay.TestConnected,
		LastTestDetail: "ok", ConsecutiveFailures: 0, LastDeliveryAt: ptr(now.Add(-time.Second)),
		OperatorOfRecord: "user:usr_alice"}
	must(t, e.s.CreateConnection(e.ctx, c), "CreateConnection with a preset ID")
	if c.ID != "con_preset" {
		t.Errorf("ID = %q, want the preset con_preset kept (sealed values are bound to it)", c.ID)
	}
	if c.Health != patchbay.HealthHealthy {
		t.Errorf("Health = %q, want it defaulted to %q", c.Health, patchbay.HealthHealthy)
	}
	wantTime(t, "CreatedAt", c.CreatedAt, e.now())
	wantTime(t, "UpdatedAt", c.UpdatedAt, e.now())

	got := e.findConnection(t, org.ID, c.ID)
	wantConnection(t, "FindConnection", got, c)
	if got.Health != patchbay.HealthHealthy {
		t.Errorf("stored Health = %q, want %q", got.Health, patchbay.HealthHealthy)
	}
	locked, err := e.s.LockConnection(e.ctx, org.ID, c.ID)
	must(t, err, "LockConnection outside a transaction")
	wantConnection(t, "LockConnection", locked, c)

	// Without an ID the store makes one; a given health is kept.
	e.clock.Advance(time.Second)
	d := &patchbay.Connection{OrgID: org.ID, ConnectorSlug: "stripe", DisplayName: "Billing", State: patchbay.StatePaused,
		AuthMode: patchbay.AuthAPIKey, Credential: "pbs1:k1:key", Health: patchbay.HealthDegraded, ConsecutiveFailures: 2}
	must(t, e.s.CreateConnection(e.ctx, d), "CreateConnection without an ID")
	wantPrefix(t, "generated connection ID", d.ID, "con_")
	if d.ID == c.ID {
		t.Errorf("generated ID %q equals the preset one", d.ID)
	}
	if d.Health != patchbay.HealthDegraded {
		t.Errorf("Health = %q, want the given %q kept", d.Health, patchbay.HealthDegraded)
	}
	wantTime(t, "CreatedAt of the second", d.CreatedAt, e.now())
	gotD := e.findConnection(t, org.ID, d.ID)
	wantConnection(t, "FindConnection(generated ID)", gotD, d)
	if len(gotD.Scopes) != 0 || len(gotD.Config) != 0 {
		t.Errorf("connection created without scopes or config has %v, %v", gotD.Scopes, gotD.Config)
	}

	// A second connection with a taken ID is a conflict and changes nothing.
	dup := &patchbay.Connection{ID: c.ID, OrgID: org.ID, ConnectorSlug: "hubspot", DisplayName: "Dup",
		State: patchbay.StateActive, AuthMode: patchbay.AuthOAuth2}
	wantCode(t, e.s.CreateConnection(e.ctx, dup), patchbay.ECONFLICT, "CreateConnection with a taken ID")
	wantConnection(t, "connection after a duplicate create", e.findConnection(t, org.ID, c.ID), c)

	_, err = e.s.FindConnection(e.ctx, org.ID, "con_doesnotexist")
	wantCode(t, err, patchbay.ENOTFOUND, "FindConnection of an unknown id")
	_, err = e.s.LockConnection(e.ctx, org.ID, "con_doesnotexist")
	wantCode(t, err, patchbay.ENOTFOUND, "LockConnection of an unknown id")
}

func testConnectionUpdate(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	c := e.connection(t, org.ID, "shopify", "Acme Shop", func(c *patchbay.Connection) {
		c.Scopes = []string{"read_orders"}
		c.Config = map[string]string{"shop_domain": "acme.myshopify.com"}
	})
	other := e.connection(t, org.ID, "stripe", "Billing")
	created := c.CreatedAt

	// Every mutable field changes.
	now := e.clock.Advance(time.Hour)
	c.DisplayName = "Acme Shop (EU)"
	c.State = patchbay.StateError
	c.AuthMode = patchbay.AuthOAuth2ClientCredentials
	c.VendorAccountID = "shop-99"
	c.VendorAccountName = "Acme EU"
	c.Scopes = []string{"write_orders", "read_orders", "read_products"}
	c.Config = map[string]string{"shop_domain": "acme-eu.myshopify.com", "region": "eu", "empty": ""}
	c.Credential = "pbs1:k2:new-credential"
	c.RefreshToken = "pbs1:k2:new-refresh"
	c.ExpiresAt = ptr(now.Add(90 * time.Minute))
	c.LastTestAt = ptr(now.Add(-time.Minute))
	c.LastTestOutcome = patchbay.TestVendorError
	c.LastTestDetail = "HTTP 502 from vendor"
	c.Health = patchbay.HealthFailing
	c.ConsecutiveFailures = 4
	c.LastDeliveryAt = ptr(now.Add(-2 * time.Minute))
	c.DisconnectedAt = ptr(now.Add(-3 * time.Minute))
	must(t, e.s.UpdateConnection(e.ctx, c), "UpdateConnection")
	wantTime(t, "UpdatedAt after update", c.UpdatedAt, e.now())
	want := *c
	want.CreatedAt = created
	wantConnection(t, "connection after update", e.findConnection(t, org.ID, c.ID), &want)

	// Every field can be cleared again.
	e.clock.Advance(time.Minute)
	c.DisplayName = "Acme Shop"
	c.State = patchbay.StateDisconnected
	c.AuthMode = patchbay.AuthAPIKey
	c.VendorAccountID, c.VendorAccountName = "", ""
	c.Scopes, c.Config = nil, nil
	c.Credential, c.RefreshToken = "", ""
	c.ExpiresAt, c.LastTestAt, c.LastDeliveryAt, c.DisconnectedAt = nil, nil, nil, nil
	c.LastTestOutcome, c.LastTestDetail = "", ""
	c.Health, c.ConsecutiveFailures = patchbay.HealthHealthy, 0
	must(t, e.s.UpdateConnection(e.ctx, c), "UpdateConnection clearing fields")
	wantTime(t, "UpdatedAt after clearing", c.UpdatedAt, e.now())
	want = *c
	want.CreatedAt = created
	got := e.findConnection(t, org.ID, c.ID)
	wantConnection(t, "connection after clearing", got, &want)
	if len(got.Scopes) != 0 || len(got.Config) != 0 {
		t.Errorf("cleared connection has scopes %v and config %v", got.Scopes, got.Config)
	}

	// The other connection is untouched.
	wantConnection(t, "other connection", e.findConnection(t, org.ID, other.ID), other)

	ghost := *c
	ghost.ID = "con_doesnotexist"
	wantCode(t, e.s.UpdateConnection(e.ctx, &ghost), patchbay.ENOTFOUND, "UpdateConnection of an unknown id")
}

func testConnectionOrgIsolation(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	ca := e.connection(t, a.ID, "shopify", "Acme Shop", withExpiry(e.clock.Now().Add(time.Hour)), withRefresh("pbs1:k1:r"))
	cb := e.connection(t, b.ID, "shopify", "Globex Shop")

	_, err := e.s.FindConnection(e.ctx, b.ID, ca.ID)
	wantCode(t, err, patchbay.ENOTFOUND, "FindConnection with another org's id")
	_, err = e.s.LockConnection(e.ctx, b.ID, ca.ID)
	wantCode(t, err, patchbay.ENOTFOUND, "LockConnection with another org's id")
	err = e.s.WithTx(e.ctx, func(tx patchbay.Store) error {
		_, err := tx.LockConnection(e.ctx, b.ID, ca.ID)
		return err
	})
	wantCode(t, err, patchbay.ENOTFOUND, "LockConnection with another org's id inside WithTx")

	e.clock.Advance(time.Minute)
	hijack := *ca
	hijack.OrgID = b.ID
	hijack.DisplayName = "hijacked"
	hijack.Credential = "pbs1:k1:attacker"
	hijack.State = patchbay.StateDisconnected
	wantCode(t, e.s.UpdateConnection(e.ctx, &hijack), patchbay.ENOTFOUND, "UpdateConnection through another org")
	wantConnection(t, "connection after a cross-org update", e.findConnection(t, a.ID, ca.ID), ca)

	// Another org can neither take nor drop the refresh lease.
	ok, err := e.s.ClaimRefresh(e.ctx, b.ID, ca.ID, ca.ExpiresAt, "claim-b", e.clock.Now().Add(time.Minute))
	must(t, err, "ClaimRefresh through another org")
	if ok {
		t.Error("ClaimRefresh through another org = true, want false")
	}
	ok, err = e.s.ClaimRefresh(e.ctx, a.ID, ca.ID, ca.ExpiresAt, "claim-a", e.clock.Now().Add(time.Minute))
	must(t, err, "ClaimRefresh")
	if !ok {
		t.Error("ClaimRefresh by the owner after a cross-org claim = false, want true")
	}
	must(t, e.s.ReleaseRefresh(e.ctx, b.ID, ca.ID, "claim-a"), "ReleaseRefresh through another org")
	ok, err = e.s.ClaimRefresh(e.ctx, a.ID, ca.ID, ca.ExpiresAt, "claim-a2", e.clock.Now().Add(time.Minute))
	must(t, err, "ClaimRefresh")
	if ok {
		t.Error("a release through another org freed the lease")
	}

	for org, want := range map[string][]string{a.ID: {ca.ID}, b.ID: {cb.ID}, "org_doesnotexist": {}} {
		list, _, err := e.s.ListConnections(e.ctx, org, patchbay.ConnectionFilter{IncludeDisconnected: true})
		must(t, err, "ListConnections")
		wantIDs(t, "ListConnections("+org+")", ids(list, connectionID), want)
	}
	rep, err := e.s.ReportConnections(e.ctx, b.ID, e.clock.Now())
	must(t, err, "ReportConnections")
	if rep.ByState[patchbay.StateActive] != 1 || rep.ActiveByConnector["shopify"] != 1 {
		t.Errorf("ReportConnections(%s) counts another org's connections: %+v", b.ID, *rep)
	}
}

func testConnectionListFilters(t *testing.T, e *env) {
	org, other := e.org(t, "Acme"), e.org(t, "Globex")
	step := func() { e.clock.Advance(time.Minute) }
	c1 := e.connection(t, org.ID, "shopify", "Shop")
	step()
	c2 := e.connection(t, org.ID, "stripe", "Billing", withState(patchbay.StatePaused))
	step()
	c3 := e.connection(t, org.ID, "shopify", "Old shop", withState(patchbay.StateDisconnected),
		func(c *patchbay.Connection) { c.Credential = ""; c.DisconnectedAt = ptr(e.clock.Now()) })
	step()
	c4 := e.connection(t, org.ID, "hubspot", "CRM", withState(patchbay.StateError))
	step()
	c5 := e.connection(t, org.ID, "stripe", "Payouts")
	step()
	c6 := e.connection(t, org.ID, "hubspot", "CRM old", withState(patchbay.StateAuthRevoked))
	step()
	e.connection(t, other.ID, "shopify", "Shop")   // never listed
	e.connection(t, other.ID, "stripe", "Billing") // never listed

	for _, c := range []struct {
		name string
		f    patchbay.ConnectionFilter
		want []*patchbay.Connection
	}{
		{"none excludes disconnected", patchbay.ConnectionFilter{}, []*patchbay.Connection{c6, c5, c4, c2, c1}},
		{"include disconnected", patchbay.ConnectionFilter{IncludeDisconnected: true}, []*patchbay.Connection{c6, c5, c4, c3, c2, c1}},
		{"state active", patchbay.ConnectionFilter{State: patchbay.StateActive}, []*patchbay.Connection{c5, c1}},
		{"state paused", patchbay.ConnectionFilter{State: patchbay.StatePaused}, []*patchbay.Connection{c2}},
		{"state auth_revoked", patchbay.ConnectionFilter{State: patchbay.StateAuthRevoked}, []*patchbay.Connection{c6}},
		{"state disconnected", patchbay.ConnectionFilter{State: patchbay.StateDisconnected}, []*patchbay.Connection{c3}},
		{"state auth_expired", patchbay.ConnectionFilter{State: patchbay.StateAuthExpired}, nil},
		{"nil slugs is every connector", patchbay.ConnectionFilter{Slugs: nil}, []*patchbay.Connection{c6, c5, c4, c2, c1}},
		{"empty slugs is none", patchbay.ConnectionFilter{Slugs: []string{}}, nil},
		{"empty slugs is none, with disconnected", patchbay.ConnectionFilter{Slugs: []string{}, IncludeDisconnected: true}, nil},
		{"one slug", patchbay.ConnectionFilter{Slugs: []string{"shopify"}}, []*patchbay.Connection{c1}},
		{"one slug with disconnected", patchbay.ConnectionFilter{Slugs: []string{"shopify"}, IncludeDisconnected: true}, []*patchbay.Connection{c3, c1}},
		{"two slugs", patchbay.ConnectionFilter{Slugs: []string{"stripe", "shopify"}}, []*patchbay.Connection{c5, c2, c1}},
		{"unknown slug", patchbay.ConnectionFilter{Slugs: []string{"zendesk"}}, nil},
		{"slug and state", patchbay.ConnectionFilter{Slugs: []string{"stripe", "hubspot"}, State: patchbay.StateActive}, []*patchbay.Connection{c5}},
		{"slug and query", patchbay.ConnectionFilter{Slugs: []string{"hubspot"}, Query: "old"}, []*patchbay.Connection{c6}},
	} {
		list, next, err := e.s.ListConnections(e.ctx, org.ID, c.f)
		must(t, err, "ListConnections "+c.name)
		wantIDs(t, "ListConnections "+c.name, ids(list, connectionID), ids(c.want, connectionID))
		if next != "" {
			t.Errorf("ListConnections %s: next cursor %q on the only page", c.name, next)
		}
	}
	// Listed rows carry every field.
	list, _, err := e.s.ListConnections(e.ctx, org.ID, patchbay.ConnectionFilter{State: patchbay.StateDisconnected})
	must(t, err, "ListConnections")
	if len(list) == 1 {
		wantConnection(t, "listed disconnected connection", list[0], c3)
	}
}

func testConnectionListQuery(t *testing.T, e *env) {
	org, other := e.org(t, "Acme"), e.org(t, "Globex")
	step := func() { e.clock.Advance(time.Minute) }
	q1 := e.connection(t, org.ID, "shopify", "Acme Shop")
	step()
	q2 := e.connection(t, org.ID, "stripe", "Billing", func(c *patchbay.Connection) {
		c.VendorAccountName = "Globex Store"
		c.VendorAccountID = "acct_12345"
	})
	step()
	q3 := e.connection(t, org.ID, "hubspot", "Sales 100%")
	step()
	q4 := e.connection(t, org.ID, "hubspot", "Sales 1000")
	step()
	q5 := e.connection(t, org.ID, "salesforce", "my_shop")
	step()
	q6 := e.connection(t, org.ID, "salesforce", "myxshop")
	step()
	q7 := e.connection(t, org.ID, "zendesk", `back\slash`)
	step()
	q8 := e.connection(t, org.ID, "shopify", "ACME old", withState(patchbay.StateDisconnected))
	step()
	e.connection(t, other.ID, "shopify", "Acme Shop", func(c *patchbay.Connection) { c.VendorAccountID = "acct_12345" })

	for _, c := range []struct {
		name string
		f    patchbay.ConnectionFilter
		want []*patchbay.Connection
	}{
		{"display name, any case", patchbay.ConnectionFilter{Query: "aCmE"}, []*patchbay.Connection{q1}},
		{"display name with disconnected", patchbay.ConnectionFilter{Query: "acme", IncludeDisconnected: true}, []*patchbay.Connection{q8, q1}},
		{"display name in state", patchbay.ConnectionFilter{Query: "acme", State: patchbay.StateDisconnected}, []*patchbay.Connection{q8}},
		{"connector slug", patchbay.ConnectionFilter{Query: "SHOPI"}, []*patchbay.Connection{q1}},
		{"account name", patchbay.ConnectionFilter{Query: "globex st"}, []*patchbay.Connection{q2}},
		{"account id", patchbay.ConnectionFilter{Query: "ACCT_123"}, []*patchbay.Connection{q2}},
		{"display name or slug", patchbay.ConnectionFilter{Query: "Sales"}, []*patchbay.Connection{q6, q5, q4, q3}},
		{"percent is literal", patchbay.ConnectionFilter{Query: "0%"}, []*patchbay.Connection{q3}},
		{"lone percent is literal", patchbay.ConnectionFilter{Query: "%"}, []*patchbay.Connection{q3}},
		{"underscore is literal", patchbay.ConnectionFilter{Query: "y_s"}, []*patchbay.Connection{q5}},
		{"lone underscore is literal", patchbay.ConnectionFilter{Query: "_"}, []*patchbay.Connection{q5, q2}},
		{"backslash is literal", patchbay.ConnectionFilter{Query: `k\s`}, []*patchbay.Connection{q7}},
		{"lone backslash is literal", patchbay.ConnectionFilter{Query: `\`}, []*patchbay.Connection{q7}},
		{"no match", patchbay.ConnectionFilter{Query: "nothing like it"}, nil},
		{"query and slugs", patchbay.ConnectionFilter{Query: "sales", Slugs: []string{"hubspot"}}, []*patchbay.Connection{q4, q3}},
	} {
		list, _, err := e.s.ListConnections(e.ctx, org.ID, c.f)
		must(t, err, "ListConnections "+c.name)
		wantIDs(t, fmt.Sprintf("ListConnections %s (query %q)", c.name, c.f.Query), ids(list, connectionID), ids(c.want, connectionID))
	}
}

func testConnectionPagination(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	var all, live, shops []string
	for i := range 9 {
		slug := "shopify"
		if i%2 == 1 {
			slug = "stripe"
		}
		var edits []func(*patchbay.Connection)
		if i%3 == 1 {
			edits = append(edits, withState(patchbay.StateDisconnected))
		}
		c := e.connection(t, a.ID, slug, fmt.Sprintf("conn %d", i), edits...)
		e.connection(t, b.ID, slug, fmt.Sprintf("other %d", i))
		all = append(all, c.ID)
		if i%3 != 1 {
			live = append(live, c.ID)
			if slug == "shopify" {
				shops = append(shops, c.ID)
			}
		}
		e.clock.Advance(time.Second)
	}
	for _, limit := range []int{1, 2, 4} {
		for _, c := range []struct {
			name string
			f    patchbay.ConnectionFilter
			want []string
		}{
			{"live", patchbay.ConnectionFilter{}, reversed(live)},
			{"all", patchbay.ConnectionFilter{IncludeDisconnected: true}, reversed(all)},
			{"shopify", patchbay.ConnectionFilter{Slugs: []string{"shopify"}}, reversed(shops)},
			{"query", patchbay.ConnectionFilter{Query: "CONN"}, reversed(live)},
		} {
			got := walk(t, limit, func(p patchbay.Page) ([]*patchbay.Connection, string, error) {
				f := c.f
				f.Page = p
				return e.s.ListConnections(e.ctx, a.ID, f)
			})
			wantIDs(t, fmt.Sprintf("walk %s with limit %d", c.name, limit), ids(got, connectionID), c.want)
		}
	}
}

func testConnectionPaginationSameInstant(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	var created []string
	for i := range 7 {
		created = append(created, e.connection(t, org.ID, "shopify", fmt.Sprintf("conn %d", i)).ID)
	}
	got := ids(walk(t, 2, func(p patchbay.Page) ([]*patchbay.Connection, string, error) {
		return e.s.ListConnections(e.ctx, org.ID, patchbay.ConnectionFilter{Page: p})
	}), connectionID)
	slices.Sort(got)
	slices.Sort(created)
	wantIDs(t, "walk over connections created at one instant (sorted)", got, created)
}

func testConnectionBadCursor(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	e.connection(t, org.ID, "shopify", "Shop")
	for _, c := range badCursors {
		_, _, err := e.s.ListConnections(e.ctx, org.ID, patchbay.ConnectionFilter{Page: patchbay.Page{Cursor: c}})
		wantCode(t, err, patchbay.EINVALID, "ListConnections with cursor "+c)
	}
}

// testConnectionLockWaits holds a connection locked in one transaction while
// a second transaction locks it too: the second must wait, so it reads what
// the first wrote. (On SQLite the second waits for the one writer; on
// PostgreSQL for the row lock.) The ordering check does not depend on
// timing: a correct store passes however the goroutines are scheduled; the
// pause only gives a store that does not lock the chance to be caught.
func testConnectionLockWaits(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	c := e.connection(t, org.ID, "shopify", "Shop")

	locked := make(chan struct{})  // the first holds the lock
	started := make(chan struct{}) // the second is about to lock
	var closeLocked sync.Once
	var seen *patchbay.Connection
	var secondErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-locked
		close(started)
		secondErr = e.s.WithTx(e.ctx, func(tx patchbay.Store) error {
			got, err := tx.LockConnection(e.ctx, org.ID, c.ID)
			if err != nil {
				return err
			}
			seen = got
			next := *got
			next.DisplayName = "second"
			next.ConsecutiveFailures++
			return tx.UpdateConnection(e.ctx, &next)
		})
	}()

	firstErr := e.s.WithTx(e.ctx, func(tx patchbay.Store) error {
		defer closeLocked.Do(func() { close(locked) })
		got, err := tx.LockConnection(e.ctx, org.ID, c.ID)
		if err != nil {
			return err
		}
		closeLocked.Do(func() { close(locked) })
		<-started
		time.Sleep(100 * time.Millisecond)
		got.DisplayName = "first"
		got.ConsecutiveFailures++
		return tx.UpdateConnection(e.ctx, got)
	})
	closeLocked.Do(func() { close(locked) })
	<-done
	must(t, firstErr, "first transaction")
	must(t, secondErr, "second transaction")
	if seen == nil {
		t.Fatal("the second transaction read nothing")
	}
	if seen.DisplayName != "first" || seen.ConsecutiveFailures != 1 {
		t.Errorf("the second LockConnection read DisplayName %q, ConsecutiveFailures %d; want the first's committed \"first\", 1: it did not wait for the lock",
			seen.DisplayName, seen.ConsecutiveFailures)
	}
	got := e.findConnection(t, org.ID, c.ID)
	if got.DisplayName != "second" || got.ConsecutiveFailures != 2 {
		t.Errorf("after both transactions: DisplayName %q, ConsecutiveFailures %d; want \"second\", 2",
			got.DisplayName, got.ConsecutiveFailures)
	}
}

// testConnectionLockSerialises runs read-modify-write transactions on one
// connection at once: with the row locked none of the increments is lost.
func testConnectionLockSerialises(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	c := e.connection(t, org.ID, "shopify", "Shop")
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = e.s.WithTx(e.ctx, func(tx patchbay.Store) error {
				got, err := tx.LockConnection(e.ctx, org.ID, c.ID)
				if err != nil {
					return err
				}
				got.ConsecutiveFailures++
				got.Health = patchbay.HealthFor(got.ConsecutiveFailures)
				return tx.UpdateConnection(e.ctx, got)
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		must(t, err, fmt.Sprintf("transaction %d", i))
	}
	got := e.findConnection(t, org.ID, c.ID)
	if got.ConsecutiveFailures != n || got.Health != patchbay.HealthDisabled {
		t.Errorf("after %d locked increments: ConsecutiveFailures %d, Health %q; want %d, %q (updates were lost)",
			n, got.ConsecutiveFailures, got.Health, n, patchbay.HealthDisabled)
	}
}

// claim calls ClaimRefresh and fails the test on an error.
func (e *env) claim(t *testing.T, orgID, id string, expiresAt *time.Time, claim string, until time.Time) bool {
	t.Helper()
	ok, err := e.s.ClaimRefresh(e.ctx, orgID, id, expiresAt, claim, until)
	must(t, err, "ClaimRefresh("+claim+")")
	return ok
}

// wantClaim checks the outcome of a claim.
func (e *env) wantClaim(t *testing.T, what string, want bool, orgID, id string, expiresAt *time.Time, claim string, until time.Time) {
	t.Helper()
	if got := e.claim(t, orgID, id, expiresAt, claim, until); got != want {
		t.Errorf("%s: ClaimRefresh(%s) = %v, want %v", what, claim, got, want)
	}
}

func testClaimRefreshConcurrent(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	exp := e.clock.Now().Add(time.Hour)
	c := e.connection(t, org.ID, "shopify", "Shop", withExpiry(exp), withRefresh("pbs1:k1:refresh"))
	until := e.clock.Now().Add(time.Minute)

	const n = 20
	wins := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			at := exp.UTC() // the same instant, however it is spelled
			if i%2 == 0 {
				at = exp
			}
			wins[i], errs[i] = e.s.ClaimRefresh(e.ctx, org.ID, c.ID, &at, fmt.Sprintf("claim-%d", i), until)
		})
	}
	wg.Wait()
	winner := -1
	for i := range n {
		must(t, errs[i], fmt.Sprintf("ClaimRefresh %d", i))
		if wins[i] {
			if winner >= 0 {
				t.Errorf("ClaimRefresh %d and %d both won", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("none of %d concurrent ClaimRefresh calls won", n)
	}
	holder := fmt.Sprintf("claim-%d", winner)
	loser := fmt.Sprintf("claim-%d", (winner+1)%n)

	// Claiming changes none of the connection's fields.
	wantConnection(t, "connection after a claim", e.findConnection(t, org.ID, c.ID), c)

	// A loser's release does nothing; the holder's frees the lease.
	must(t, e.s.ReleaseRefresh(e.ctx, org.ID, c.ID, loser), "ReleaseRefresh by a loser")
	e.wantClaim(t, "after a loser's release", false, org.ID, c.ID, &exp, "late", until)
	must(t, e.s.ReleaseRefresh(e.ctx, org.ID, c.ID, holder), "ReleaseRefresh by the holder")
	e.wantClaim(t, "after the holder's release", true, org.ID, c.ID, &exp, "late", until)
	e.wantClaim(t, "while late holds it", false, org.ID, c.ID, &exp, holder, until)
}

func testClaimRefreshStale(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	exp1 := e.clock.Now().Add(time.Hour)
	c := e.connection(t, org.ID, "shopify", "Shop", withExpiry(exp1), withRefresh("pbs1:k1:refresh"))
	until := e.clock.Now().Add(time.Minute)

	e.wantClaim(t, "first claim", true, org.ID, c.ID, &exp1, "worker-1", until)
	// worker-1 refreshes: the credential now expires later, and it releases.
	exp2 := exp1.Add(2 * time.Hour)
	c.ExpiresAt = &exp2
	c.Credential = "pbs1:k1:refreshed"
	must(t, e.s.UpdateConnection(e.ctx, c), "UpdateConnection")
	must(t, e.s.ReleaseRefresh(e.ctx, org.ID, c.ID, "worker-1"), "ReleaseRefresh")

	// worker-2 read the connection before the refresh: its claim is stale.
	e.wantClaim(t, "claim with the old expiry", false, org.ID, c.ID, &exp1, "worker-2", until)
	e.wantClaim(t, "claim with an expiry a microsecond off", false, org.ID, c.ID, ptr(exp2.Add(time.Microsecond)), "worker-2", until)
	e.wantClaim(t, "claim with no expiry", false, org.ID, c.ID, nil, "worker-2", until)
	e.wantClaim(t, "claim with the current expiry", true, org.ID, c.ID, ptr(exp2.UTC()), "worker-3", until)

	e.wantClaim(t, "claim of an unknown connection", false, org.ID, "con_doesnotexist", &exp2, "worker-4", until)
	must(t, e.s.ReleaseRefresh(e.ctx, org.ID, "con_doesnotexist", "worker-4"), "ReleaseRefresh of an unknown connection")
}

func testClaimRefreshLease(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	exp := e.clock.Now().Add(time.Hour)
	c := e.connection(t, org.ID, "shopify", "Shop", withExpiry(exp), withRefresh("pbs1:k1:refresh"))
	other := e.connection(t, org.ID, "stripe", "Billing", withExpiry(exp), withRefresh("pbs1:k1:refresh"))
	lease := time.Minute

	e.wantClaim(t, "first claim", true, org.ID, c.ID, &exp, "a", e.clock.Now().Add(lease))
	e.wantClaim(t, "second claim", false, org.ID, c.ID, &exp, "b", e.clock.Now().Add(lease))
	// A lease is per connection.
	e.wantClaim(t, "claim of another connection", true, org.ID, other.ID, &exp, "b", e.clock.Now().Add(lease))

	e.clock.Advance(lease / 2)
	e.wantClaim(t, "claim while the lease lives", false, org.ID, c.ID, &exp, "b", e.clock.Now().Add(lease))

	// The holder died without releasing: once the lease ends, another wins.
	e.clock.Advance(lease/2 + time.Second)
	e.wantClaim(t, "claim after the lease ended", true, org.ID, c.ID, &exp, "b", e.clock.Now().Add(lease))
	e.wantClaim(t, "claim right after b's", false, org.ID, c.ID, &exp, "c", e.clock.Now().Add(lease))

	// The former holder's release does not drop b's lease.
	must(t, e.s.ReleaseRefresh(e.ctx, org.ID, c.ID, "a"), "ReleaseRefresh by the former holder")
	e.wantClaim(t, "claim after the former holder's release", false, org.ID, c.ID, &exp, "c", e.clock.Now().Add(lease))
	must(t, e.s.ReleaseRefresh(e.ctx, org.ID, c.ID, "b"), "ReleaseRefresh by the holder")
	e.wantClaim(t, "claim after the holder's release", true, org.ID, c.ID, &exp, "c", e.clock.Now().Add(lease))
}

func testClaimRefreshNoExpiry(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	c := e.connection(t, org.ID, "shopify", "Shop", withRefresh("pbs1:k1:refresh"))
	until := e.clock.Now().Add(time.Minute)

	e.wantClaim(t, "claim with an expiry on a connection without one", false, org.ID, c.ID, ptr(e.clock.Now()), "a", until)
	e.wantClaim(t, "claim with no expiry", true, org.ID, c.ID, nil, "a", until)
	e.wantClaim(t, "second claim with no expiry", false, org.ID, c.ID, nil, "b", until)
	must(t, e.s.ReleaseRefresh(e.ctx, org.ID, c.ID, "a"), "ReleaseRefresh")
	e.wantClaim(t, "claim after release", true, org.ID, c.ID, nil, "b", until)
}

func testListExpiring(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	now := e.clock.Now()
	before := now.Add(24 * time.Hour)
	refresh := withRefresh("pbs1:k1:refresh")
	in := func(d time.Duration) func(*patchbay.Connection) { return withExpiry(now.Add(d)) }

	x1 := e.connection(t, a.ID, "shopify", "in 1h", refresh, in(time.Hour))
	x3 := e.connection(t, a.ID, "stripe", "in 3h", refresh, in(3*time.Hour))
	x0 := e.connection(t, a.ID, "shopify", "expired 1h ago", refresh, in(-time.Hour))
	x2 := e.connection(t, b.ID, "shopify", "other org in 2h", refresh, in(2*time.Hour))
	e.connection(t, a.ID, "shopify", "no refresh token", in(30*time.Minute))
	e.connection(t, a.ID, "shopify", "paused", refresh, in(10*time.Minute), withState(patchbay.StatePaused))
	e.connection(t, a.ID, "shopify", "auth expired", refresh, in(10*time.Minute), withState(patchbay.StateAuthExpired))
	e.connection(t, a.ID, "shopify", "disconnected", refresh, in(10*time.Minute), withState(patchbay.StateDisconnected))
	e.connection(t, b.ID, "shopify", "error", refresh, in(10*time.Minute), withState(patchbay.StateError))
	e.connection(t, a.ID, "shopify", "no expiry", refresh)
	e.connection(t, a.ID, "shopify", "in 2 days", refresh, in(48*time.Hour))
	e.connection(t, b.ID, "shopify", "at the bound", refresh, withExpiry(before))

	soonest := []string{x0.ID, x1.ID, x2.ID, x3.ID}
	for _, limit := range []int{1, 2, 4, 100} {
		list, err := e.s.ListExpiring(e.ctx, before, limit)
		must(t, err, "ListExpiring")
		wantIDs(t, fmt.Sprintf("ListExpiring(limit %d)", limit), ids(list, connectionID), soonest[:min(limit, len(soonest))])
		if len(list) == len(soonest) {
			wantConnection(t, "listed expiring connection", list[2], x2)
		}
	}
	list, err := e.s.ListExpiring(e.ctx, now.Add(-2*time.Hour), 10)
	must(t, err, "ListExpiring")
	wantIDs(t, "ListExpiring before any expiry", ids(list, connectionID), nil)
	list, err = e.s.ListExpiring(e.ctx, now.Add(90*time.Minute).UTC(), 10)
	must(t, err, "ListExpiring")
	wantIDs(t, "ListExpiring within 90 minutes", ids(list, connectionID), []string{x0.ID, x1.ID})
}

func testReportConnections(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	// The report is relative to the time it is given, not the store's clock.
	now := e.clock.Now().Add(48 * time.Hour)
	in := func(d time.Duration) func(*patchbay.Connection) { return withExpiry(now.Add(d)) }
	day := 24 * time.Hour

	e.connection(t, a.ID, "shopify", "r1", in(-time.Hour))                                        // expired
	e.connection(t, a.ID, "shopify", "r2", in(3*day))                                             // soon
	e.connection(t, a.ID, "stripe", "r3")                                                         // no expiry
	e.connection(t, a.ID, "shopify", "r4", in(30*day), withState(patchbay.StatePaused))           // valid
	e.connection(t, a.ID, "stripe", "r5", in(day), withState(patchbay.StateError))                // soon
	e.connection(t, a.ID, "hubspot", "r6", in(-10*day), withState(patchbay.StateAuthExpired))     // expired
	e.connection(t, a.ID, "shopify", "r7", in(-time.Hour), withState(patchbay.StateDisconnected)) // not counted
	e.connection(t, a.ID, "hubspot", "r8", withState(patchbay.StateAuthRevoked))                  // no expiry
	e.connection(t, a.ID, "stripe", "r9", withExpiry(e.clock.Now().Add(day)))                     // expired at now, soon at the clock
	e.connection(t, a.ID, "hubspot", "r10", in(8*day))                                            // valid
	e.connection(t, a.ID, "shopify", "r11", in(7*day-time.Hour))                                  // soon at now, valid at the clock
	e.connection(t, b.ID, "shopify", "other org", in(-time.Hour))                                 // another org
	e.connection(t, b.ID, "zendesk", "other org", in(30*day), withState(patchbay.StateError))     // another org

	rep, err := e.s.ReportConnections(e.ctx, a.ID, now)
	must(t, err, "ReportConnections")
	wantCounts(t, "ByState", rep.ByState, map[patchbay.ConnectionState]int{
		patchbay.StateActive: 6, patchbay.StatePaused: 1, patchbay.StateError: 1,
		patchbay.StateAuthExpired: 1, patchbay.StateAuthRevoked: 1,
	})
	wantCounts(t, "ActiveByConnector", rep.ActiveByConnector, map[string]int{"shopify": 3, "stripe": 2, "hubspot": 1})
	if rep.TokensExpired != 3 || rep.TokensExpiringSoon != 3 || rep.TokensValid != 2 || rep.TokensNoExpiry != 2 {
		t.Errorf("tokens: expired %d, expiring soon %d, valid %d, no expiry %d; want 3, 3, 2, 2",
			rep.TokensExpired, rep.TokensExpiringSoon, rep.TokensValid, rep.TokensNoExpiry)
	}

	empty := e.org(t, "Initech")
	rep, err = e.s.ReportConnections(e.ctx, empty.ID, now)
	must(t, err, "ReportConnections of an org without connections")
	wantCounts(t, "empty ByState", rep.ByState, nil)
	wantCounts(t, "empty ActiveByConnector", rep.ActiveByConnector, nil)
	if rep.TokensExpired+rep.TokensExpiringSoon+rep.TokensValid+rep.TokensNoExpiry != 0 {
		t.Errorf("empty org has token counts %+v", *rep)
	}
}

// wantCounts compares count maps, treating a missing key as zero.
func wantCounts[K comparable](t *testing.T, what string, got, want map[K]int) {
	t.Helper()
	for k, n := range got {
		if n != want[k] {
			t.Errorf("%s[%v] = %d, want %d", what, k, n, want[k])
		}
	}
	for k, n := range want {
		if _, ok := got[k]; !ok && n != 0 {
			t.Errorf("%s[%v] missing, want %d", what, k, n)
		}
	}
}
