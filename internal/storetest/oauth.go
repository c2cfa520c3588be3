package storetest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

var oauthTests = []testCase{
	{"ClientSetReplace", testOAuthClientSetReplace},
	{"ClientFindFallback", testOAuthClientFindFallback},
	{"ClientListDelete", testOAuthClientListDelete},
	{"StateTakeOnce", testOAuthStateTakeOnce},
	{"StateExpired", testOAuthStateExpired},
	{"StatePrune", testOAuthStatePrune},
	{"StateConcurrentTake", testOAuthStateConcurrentTake},
}

// wantOAuthClient checks that got has every stored field of want.
func wantOAuthClient(t *testing.T, what string, got, want *patchbay.OAuthClient) {
	t.Helper()
	if got.ID != want.ID || got.OrgID != want.OrgID || got.ConnectorSlug != want.ConnectorSlug ||
		got.ClientID != want.ClientID || got.ClientSecret != want.ClientSecret {
		t.Errorf("%s:\n\tgot  %+v\n\twant %+v", what, *got, *want)
	}
	wantTime(t, what+" CreatedAt", got.CreatedAt, want.CreatedAt)
	wantTime(t, what+" UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func oauthClientID(c *patchbay.OAuthClient) string { return c.ID }

// oauthClient sets the client of (orgID, slug).
func (e *env) oauthClient(t *testing.T, orgID, slug, clientID string) *patchbay.OAuthClient {
	t.Helper()
	c := &patchbay.OAuthClient{OrgID: orgID, ConnectorSlug: slug, ClientID: clientID, ClientSecret: "pbs1:k1:secret of " + clientID}
	must(t, e.s.SetOAuthClient(e.ctx, c), "SetOAuthClient("+clientID+")")
	return c
}

// findOAuthClient returns the client FindOAuthClient picks, failing the test
// if there is none.
func (e *env) findOAuthClient(t *testing.T, orgID, slug string) *patchbay.OAuthClient {
	t.Helper()
	c, err := e.s.FindOAuthClient(e.ctx, orgID, slug)
	must(t, err, fmt.Sprintf("FindOAuthClient(%q, %q)", orgID, slug))
	return c
}

func testOAuthClientSetReplace(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	c := &patchbay.OAuthClient{OrgID: org.ID, ConnectorSlug: "shopify", ClientID: "cid-1", ClientSecret: "pbs1:k1:secret-1"}
	must(t, e.s.SetOAuthClient(e.ctx, c), "SetOAuthClient")
	wantPrefix(t, "OAuth client ID", c.ID, "ocl_")
	wantTime(t, "CreatedAt", c.CreatedAt, e.now())
	wantTime(t, "UpdatedAt", c.UpdatedAt, e.now())
	wantOAuthClient(t, "FindOAuthClient", e.findOAuthClient(t, org.ID, "shopify"), c)

	// Replacing keeps the row's id (the sealed secret is bound to it) and
	// creation time.
	e.clock.Advance(time.Hour)
	r := &patchbay.OAuthClient{OrgID: org.ID, ConnectorSlug: "shopify", ClientID: "cid-2", ClientSecret: "pbs1:k1:secret-2"}
	must(t, e.s.SetOAuthClient(e.ctx, r), "SetOAuthClient replacing")
	if r.ID != c.ID {
		t.Errorf("replaced client has ID %q, want the row's %q kept", r.ID, c.ID)
	}
	wantTime(t, "CreatedAt after replace", r.CreatedAt, c.CreatedAt)
	wantTime(t, "UpdatedAt after replace", r.UpdatedAt, e.now())
	wantOAuthClient(t, "FindOAuthClient after replace", e.findOAuthClient(t, org.ID, "shopify"), r)

	// Even a replace that brings its own ID keeps the row's.
	e.clock.Advance(time.Hour)
	r2 := &patchbay.OAuthClient{ID: "ocl_other", OrgID: org.ID, ConnectorSlug: "shopify", ClientID: "cid-3", ClientSecret: "pbs1:k1:secret-3"}
	must(t, e.s.SetOAuthClient(e.ctx, r2), "SetOAuthClient replacing with an ID")
	if r2.ID != c.ID {
		t.Errorf("replaced client has ID %q, want the row's %q kept", r2.ID, c.ID)
	}
	wantTime(t, "CreatedAt after second replace", r2.CreatedAt, c.CreatedAt)
	wantOAuthClient(t, "FindOAuthClient after second replace", e.findOAuthClient(t, org.ID, "shopify"), r2)

	list, err := e.s.ListOAuthClients(e.ctx, org.ID)
	must(t, err, "ListOAuthClients")
	wantIDs(t, "ListOAuthClients after replaces", ids(list, oauthClientID), []string{c.ID})

	// A new client keeps a preset ID.
	p := &patchbay.OAuthClient{ID: "ocl_preset", OrgID: org.ID, ConnectorSlug: "stripe", ClientID: "cid-s", ClientSecret: "pbs1:k1:s"}
	must(t, e.s.SetOAuthClient(e.ctx, p), "SetOAuthClient with a preset ID")
	if p.ID != "ocl_preset" {
		t.Errorf("new client has ID %q, want the preset ocl_preset", p.ID)
	}
	wantOAuthClient(t, "FindOAuthClient(preset)", e.findOAuthClient(t, org.ID, "stripe"), p)

	// A platform-wide client of the same connector is another row.
	pw := e.oauthClient(t, "", "shopify", "platform")
	if pw.ID == c.ID {
		t.Errorf("platform-wide client replaced the org's (ID %q)", pw.ID)
	}
	wantOAuthClient(t, "org's client after a platform-wide set", e.findOAuthClient(t, org.ID, "shopify"), r2)
}

func testOAuthClientFindFallback(t *testing.T, e *env) {
	a, b, c := e.org(t, "Acme"), e.org(t, "Globex"), e.org(t, "Initech")
	// Created in an order that puts neither the org's nor the platform's
	// row first by insertion.
	ownA := e.oauthClient(t, a.ID, "shopify", "acme-shopify")
	platShop := e.oauthClient(t, "", "shopify", "platform-shopify")
	platStripe := e.oauthClient(t, "", "stripe", "platform-stripe")
	ownB := e.oauthClient(t, b.ID, "stripe", "globex-stripe")
	e.oauthClient(t, b.ID, "zendesk", "globex-zendesk")

	for _, tc := range []struct {
		org, slug string
		want      *patchbay.OAuthClient
	}{
		{a.ID, "shopify", ownA},
		{a.ID, "stripe", platStripe},
		{b.ID, "shopify", platShop},
		{b.ID, "stripe", ownB},
		{c.ID, "shopify", platShop},
		{c.ID, "stripe", platStripe},
		{"", "shopify", platShop},
	} {
		wantOAuthClient(t, fmt.Sprintf("FindOAuthClient(%q, %q)", tc.org, tc.slug), e.findOAuthClient(t, tc.org, tc.slug), tc.want)
	}
	for _, tc := range []struct{ org, slug string }{
		{a.ID, "hubspot"},
		{a.ID, "zendesk"}, // only another org has one
		{c.ID, "zendesk"},
		{"", "zendesk"},
		{a.ID, "SHOPIFY"},
	} {
		_, err := e.s.FindOAuthClient(e.ctx, tc.org, tc.slug)
		wantCode(t, err, patchbay.ENOTFOUND, fmt.Sprintf("FindOAuthClient(%q, %q)", tc.org, tc.slug))
	}
}

func testOAuthClientListDelete(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	aStripe := e.oauthClient(t, a.ID, "stripe", "acme-stripe")
	aHub := e.oauthClient(t, a.ID, "hubspot", "acme-hubspot")
	bStripe := e.oauthClient(t, b.ID, "stripe", "globex-stripe")
	bZen := e.oauthClient(t, b.ID, "zendesk", "globex-zendesk")
	platStripe := e.oauthClient(t, "", "stripe", "platform-stripe")
	platShop := e.oauthClient(t, "", "shopify", "platform-shopify")

	list := func(org string) []*patchbay.OAuthClient {
		t.Helper()
		l, err := e.s.ListOAuthClients(e.ctx, org)
		must(t, err, "ListOAuthClients")
		slices.SortFunc(l, func(x, y *patchbay.OAuthClient) int { return strings.Compare(x.ConnectorSlug, y.ConnectorSlug) })
		return l
	}
	wantList := func(org string, want ...*patchbay.OAuthClient) {
		t.Helper()
		got := list(org)
		wantIDs(t, fmt.Sprintf("ListOAuthClients(%q) (by connector)", org), ids(got, oauthClientID), ids(want, oauthClientID))
		if len(got) == len(want) {
			for i := range got {
				wantOAuthClient(t, "listed client", got[i], want[i])
			}
		}
	}
	wantList(a.ID, aHub, aStripe)
	wantList(b.ID, bStripe, bZen)
	wantList("", platShop, platStripe)
	wantList("org_doesnotexist")

	// Org isolation: a cannot delete b's or the platform's clients.
	wantCode(t, e.s.DeleteOAuthClient(e.ctx, a.ID, "zendesk"), patchbay.ENOTFOUND, "DeleteOAuthClient of another org's connector")
	wantCode(t, e.s.DeleteOAuthClient(e.ctx, a.ID, "shopify"), patchbay.ENOTFOUND, "DeleteOAuthClient of a platform-wide connector")
	wantCode(t, e.s.DeleteOAuthClient(e.ctx, a.ID, "salesforce"), patchbay.ENOTFOUND, "DeleteOAuthClient of an unknown connector")
	wantList(b.ID, bStripe, bZen)
	wantList("", platShop, platStripe)

	// Deleting a's own stripe client leaves b's and the platform's, and a
	// falls back to the platform's.
	must(t, e.s.DeleteOAuthClient(e.ctx, a.ID, "stripe"), "DeleteOAuthClient")
	wantList(a.ID, aHub)
	wantList(b.ID, bStripe, bZen)
	wantList("", platShop, platStripe)
	wantOAuthClient(t, "FindOAuthClient after deleting the org's own", e.findOAuthClient(t, a.ID, "stripe"), platStripe)
	wantOAuthClient(t, "other org's client after the delete", e.findOAuthClient(t, b.ID, "stripe"), bStripe)
	wantCode(t, e.s.DeleteOAuthClient(e.ctx, a.ID, "stripe"), patchbay.ENOTFOUND, "second DeleteOAuthClient")

	// Setting b's client leaves a's alone.
	e.clock.Advance(time.Minute)
	bHub := e.oauthClient(t, b.ID, "hubspot", "globex-hubspot")
	if bHub.ID == aHub.ID {
		t.Errorf("b's client took a's row %q", aHub.ID)
	}
	wantOAuthClient(t, "a's client after b set one", e.findOAuthClient(t, a.ID, "hubspot"), aHub)

	// Deleting the platform-wide client.
	must(t, e.s.DeleteOAuthClient(e.ctx, "", "stripe"), "DeleteOAuthClient of a platform-wide client")
	_, err := e.s.FindOAuthClient(e.ctx, a.ID, "stripe")
	wantCode(t, err, patchbay.ENOTFOUND, "FindOAuthClient after the fallback went")
	wantOAuthClient(t, "b's own client after the platform's went", e.findOAuthClient(t, b.ID, "stripe"), bStripe)
}

// wantOAuthState checks that got has every stored field of want.
func wantOAuthState(t *testing.T, what string, got, want *patchbay.OAuthState) {
	t.Helper()
	if got.StateHash != want.StateHash || got.OrgID != want.OrgID || got.ConnectorSlug != want.ConnectorSlug ||
		got.ConnectionID != want.ConnectionID || got.CodeVerifier != want.CodeVerifier ||
		got.RedirectURI != want.RedirectURI || !slices.Equal(got.Scopes, want.Scopes) ||
		got.DisplayName != want.DisplayName || !maps.Equal(got.Config, want.Config) ||
		got.ReturnTo != want.ReturnTo || got.Actor != want.Actor || got.ActorName != want.ActorName {
		t.Errorf("%s:\n\tgot  %+v\n\twant %+v", what, *got, *want)
	}
	wantTime(t, what+" CreatedAt", got.CreatedAt, want.CreatedAt)
	wantTime(t, what+" ExpiresAt", got.ExpiresAt, want.ExpiresAt)
}

// oauthState stores a flow in progress that expires after ttl.
func (e *env) oauthState(t *testing.T, orgID, hash string, ttl time.Duration) *patchbay.OAuthState {
	t.Helper()
	st := &patchbay.OAuthState{StateHash: hash, OrgID: orgID, ConnectorSlug: "shopify", CodeVerifier: "pbs1:k1:verifier",
		RedirectURI: "https://patchbay.example/oauth/callback", ExpiresAt: e.clock.Now().Add(ttl)}
	must(t, e.s.CreateOAuthState(e.ctx, st), "CreateOAuthState("+hash+")")
	return st
}

func testOAuthStateTakeOnce(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	st := &patchbay.OAuthState{StateHash: "hash-full", OrgID: org.ID, ConnectorSlug: "shopify", ConnectionID: "con_reauth",
		CodeVerifier: "pbs1:k1:verifier", RedirectURI: "https://patchbay.example/oauth/callback",
		Scopes: []string{"write_orders", "read_orders"}, DisplayName: "Acme Shop",
		Config:   map[string]string{"shop_domain": "acme.myshopify.com", "note": `it's "quoted" – ünïcode`},
		ReturnTo: "/connections/con_reauth?tab=settings", Actor: "user:usr_alice", ActorName: "Alice",
		ExpiresAt: e.clock.Now().Add(10 * time.Minute)} // not in UTC
	must(t, e.s.CreateOAuthState(e.ctx, st), "CreateOAuthState")
	wantTime(t, "CreatedAt", st.CreatedAt, e.now())
	bare := e.oauthState(t, org.ID, "hash-bare", 10*time.Minute)

	// A state with a taken hash is a conflict while the first is unused.
	dup := &patchbay.OAuthState{StateHash: "hash-full", OrgID: org.ID, ConnectorSlug: "stripe",
		RedirectURI: "https://evil.example/", ExpiresAt: e.clock.Now().Add(time.Hour)}
	wantCode(t, e.s.CreateOAuthState(e.ctx, dup), patchbay.ECONFLICT, "CreateOAuthState with a taken hash")

	e.clock.Advance(time.Minute)
	got, err := e.s.TakeOAuthState(e.ctx, "hash-full", e.clock.Now())
	must(t, err, "TakeOAuthState")
	wantOAuthState(t, "taken state", got, st)
	_, err = e.s.TakeOAuthState(e.ctx, "hash-full", e.clock.Now())
	wantCode(t, err, patchbay.ENOTFOUND, "second TakeOAuthState")

	got, err = e.s.TakeOAuthState(e.ctx, "hash-bare", e.clock.Now())
	must(t, err, "TakeOAuthState(bare)")
	wantOAuthState(t, "taken bare state", got, bare)
	if len(got.Scopes) != 0 || len(got.Config) != 0 {
		t.Errorf("state stored without scopes or config has %v, %v", got.Scopes, got.Config)
	}

	for _, h := range []string{"hash-unknown", "", "hash"} {
		_, err = e.s.TakeOAuthState(e.ctx, h, e.clock.Now())
		wantCode(t, err, patchbay.ENOTFOUND, "TakeOAuthState("+h+")")
	}
}

func testOAuthStateExpired(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	start := e.clock.Now()
	e.oauthState(t, org.ID, "hash-old", 10*time.Minute)
	e.oauthState(t, org.ID, "hash-live", time.Hour)

	// Expiry is judged at the time given.
	_, err := e.s.TakeOAuthState(e.ctx, "hash-old", start.Add(10*time.Minute+time.Second))
	wantCode(t, err, patchbay.ENOTFOUND, "TakeOAuthState after expiry")
	_, err = e.s.TakeOAuthState(e.ctx, "hash-live", start.Add(2*time.Hour))
	wantCode(t, err, patchbay.ENOTFOUND, "TakeOAuthState long after expiry")

	live2 := e.oauthState(t, org.ID, "hash-live-2", time.Hour)
	e.clock.Advance(2 * time.Hour) // the store's clock does not decide
	got, err := e.s.TakeOAuthState(e.ctx, "hash-live-2", start.Add(59*time.Minute))
	must(t, err, "TakeOAuthState before expiry at the given time")
	wantOAuthState(t, "taken state", got, live2)
}

func testOAuthStatePrune(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	start := e.clock.Now()

	// Without a create in between, an expired state stays stored: taken
	// with a time before its expiry, it is returned.
	e.oauthState(t, org.ID, "hash-kept", 10*time.Minute)
	e.clock.Advance(11 * time.Minute)
	_, err := e.s.TakeOAuthState(e.ctx, "hash-kept", start)
	must(t, err, "TakeOAuthState of an expired, unpruned state at a time before its expiry")

	// A create prunes expired states, and only those.
	e.clock.Set(start)
	e.oauthState(t, org.ID, "hash-abandoned", 10*time.Minute)
	live := e.oauthState(t, org.ID, "hash-live", time.Hour)
	e.clock.Advance(11 * time.Minute)
	fresh := e.oauthState(t, org.ID, "hash-fresh", 10*time.Minute)

	_, err = e.s.TakeOAuthState(e.ctx, "hash-abandoned", start)
	wantCode(t, err, patchbay.ENOTFOUND, "TakeOAuthState of a state pruned by a later create")
	got, err := e.s.TakeOAuthState(e.ctx, "hash-live", e.clock.Now())
	must(t, err, "TakeOAuthState of a live state after a prune")
	wantOAuthState(t, "live state after a prune", got, live)
	got, err = e.s.TakeOAuthState(e.ctx, "hash-fresh", e.clock.Now())
	must(t, err, "TakeOAuthState of the new state")
	wantOAuthState(t, "new state", got, fresh)
}

func testOAuthStateConcurrentTake(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	st := e.oauthState(t, org.ID, "hash-race", 10*time.Minute)
	const n = 20
	got := make([]*patchbay.OAuthState, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = e.s.TakeOAuthState(e.ctx, st.StateHash, e.clock.Now()) })
	}
	wg.Wait()
	winner := -1
	for i := range n {
		if errs[i] == nil {
			if winner >= 0 {
				t.Errorf("TakeOAuthState %d and %d both got the state", winner, i)
			}
			winner = i
			wantOAuthState(t, "state taken in a race", got[i], st)
			continue
		}
		wantCode(t, errs[i], patchbay.ENOTFOUND, fmt.Sprintf("losing TakeOAuthState %d", i))
	}
	if winner < 0 {
		t.Errorf("none of %d concurrent TakeOAuthState calls got the state", n)
	}
}
