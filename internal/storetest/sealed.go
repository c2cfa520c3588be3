package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

// The sealed columns the store must list. A migration that adds one adds it
// here and a fixture to sealedFixtureFor.
var (
	colCredential       = patchbay.SealedColumn{Table: "connections", Column: "credential", Key: "id"}
	colRefreshToken     = patchbay.SealedColumn{Table: "connections", Column: "refresh_token", Key: "id"}
	colClientSecret     = patchbay.SealedColumn{Table: "oauth_clients", Column: "client_secret", Key: "id"}
	colCodeVerifier     = patchbay.SealedColumn{Table: "oauth_states", Column: "code_verifier", Key: "state"}
	colEndpointSecret   = patchbay.SealedColumn{Table: "endpoints", Column: "secret", Key: "id"}
	colEndpointPrevious = patchbay.SealedColumn{Table: "endpoints", Column: "previous_secret", Key: "id"}
	colInboundSecret    = patchbay.SealedColumn{Table: "inbound_routes", Column: "secret", Key: "token_hash"}
	colIdempotencyBody  = patchbay.SealedColumn{Table: "idempotency_keys", Column: "response_body", Key: "id"}
	colCacheBody        = patchbay.SealedColumn{Table: "proxy_cache", Column: "body", Key: "id"}
	wantSealed          = []patchbay.SealedColumn{colCredential, colRefreshToken, colClientSecret, colCodeVerifier,
		colEndpointSecret, colEndpointPrevious, colInboundSecret, colIdempotencyBody, colCacheBody}
)

var sealedTests = []testCase{
	{"Columns", testSealedColumns},
	{"ResealConnectionsCredential", testReseal(colCredential)},
	{"ResealConnectionsRefreshToken", testReseal(colRefreshToken)},
	{"ResealOAuthClientsClientSecret", testReseal(colClientSecret)},
	{"ResealOAuthStatesCodeVerifier", testReseal(colCodeVerifier)},
	{"ResealEndpointsSecret", testReseal(colEndpointSecret)},
	{"ResealEndpointsPreviousSecret", testReseal(colEndpointPrevious)},
	{"ResealInboundRoutesSecret", testReseal(colInboundSecret)},
	{"ResealIdempotencyKeysResponseBody", testReseal(colIdempotencyBody)},
	{"ResealProxyCacheBody", testReseal(colCacheBody)},
	{"ResealError", testResealError},
	{"ResealUnknownColumn", testResealUnknownColumn},
}

func sealedName(c patchbay.SealedColumn) string {
	return c.Table + "." + c.Column + " (key " + c.Key + ")"
}

func testSealedColumns(t *testing.T, e *env) {
	got := slices.Clone(e.s.SealedColumns())
	cmp := func(a, b patchbay.SealedColumn) int { return strings.Compare(sealedName(a), sealedName(b)) }
	slices.SortFunc(got, cmp)
	want := slices.Clone(wantSealed)
	slices.SortFunc(want, cmp)
	if !slices.Equal(got, want) {
		t.Errorf("SealedColumns:\n\tgot  %v\n\twant %v", got, want)
	}
}

// sealedFixture stores rows with a value in one sealed column and reads
// them back. Each row also has a sibling value the re-sealing must leave
// alone (the other sealed column of the row, where there is one).
type sealedFixture struct {
	// put stores row i with value in the column and returns its key and
	// its sibling value.
	put func(i int, value string) (key, sibling string)
	// get returns the stored value and sibling of the row; call it once
	// per row (reading an OAuth state takes it).
	get func(key string) (value, sibling string)
}

func sealedFixtureFor(t *testing.T, e *env, col patchbay.SealedColumn) *sealedFixture {
	t.Helper()
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	orgs := []string{a.ID, b.ID}
	orgOf := map[string]string{}
	switch col {
	case colCredential, colRefreshToken:
		return &sealedFixture{
			put: func(i int, value string) (string, string) {
				id := fmt.Sprintf("con_seal%02d", i)
				sibling := "pbs1:old:sibling of " + id
				orgOf[id] = orgs[i%2]
				e.connection(t, orgs[i%2], "shopify", id, func(c *patchbay.Connection) {
					c.ID = id
					c.Credential, c.RefreshToken = value, sibling
					if col == colRefreshToken {
						c.Credential, c.RefreshToken = sibling, value
					}
				})
				return id, sibling
			},
			get: func(key string) (string, string) {
				c := e.findConnection(t, orgOf[key], key)
				if col == colRefreshToken {
					return c.RefreshToken, c.Credential
				}
				return c.Credential, c.RefreshToken
			},
		}
	case colClientSecret:
		orgs = append(orgs, "") // platform-wide clients are sealed too
		slugOf := map[string]string{}
		return &sealedFixture{
			put: func(i int, value string) (string, string) {
				c := &patchbay.OAuthClient{ID: fmt.Sprintf("ocl_seal%02d", i), OrgID: orgs[i%3],
					ConnectorSlug: fmt.Sprintf("connector%02d", i), ClientSecret: value}
				c.ClientID = "client of " + c.ID
				must(t, e.s.SetOAuthClient(e.ctx, c), "SetOAuthClient")
				orgOf[c.ID], slugOf[c.ID] = c.OrgID, c.ConnectorSlug
				return c.ID, c.ClientID
			},
			get: func(key string) (string, string) {
				c := e.findOAuthClient(t, orgOf[key], slugOf[key])
				if c.ID != key {
					t.Errorf("FindOAuthClient(%q, %q) = %s, want %s", orgOf[key], slugOf[key], c.ID, key)
				}
				return c.ClientSecret, c.ClientID
			},
		}
	case colEndpointSecret, colEndpointPrevious:
		return &sealedFixture{
			put: func(i int, value string) (string, string) {
				id := fmt.Sprintf("ep_seal%02d", i)
				sibling := "pbs1:old:sibling of " + id
				orgOf[id] = orgs[i%2]
				e.endpoint(t, orgs[i%2], "https://hooks.example/"+id, []string{"*"}, func(ep *patchbay.Endpoint) {
					ep.ID = id
					ep.Secret, ep.PreviousSecret = value, sibling
					if col == colEndpointPrevious {
						ep.Secret, ep.PreviousSecret = sibling, value
					}
				})
				return id, sibling
			},
			get: func(key string) (string, string) {
				ep := e.findEndpoint(t, orgOf[key], key)
				if col == colEndpointPrevious {
					return ep.PreviousSecret, ep.Secret
				}
				return ep.Secret, ep.PreviousSecret
			},
		}
	case colInboundSecret:
		return &sealedFixture{
			put: func(i int, value string) (string, string) {
				r := &patchbay.InboundRoute{TokenHash: fmt.Sprintf("token-seal%02d", i), OrgID: orgs[i%2],
					ConnectionID: fmt.Sprintf("con_seal%02d", i), Secret: value}
				must(t, e.s.CreateInboundRoute(e.ctx, r), "CreateInboundRoute")
				return r.TokenHash, r.ConnectionID
			},
			get: func(key string) (string, string) {
				r, err := e.s.FindInboundRoute(e.ctx, key)
				must(t, err, "FindInboundRoute("+key+")")
				return r.Secret, r.ConnectionID
			},
		}
	case colIdempotencyBody:
		return &sealedFixture{
			put: func(i int, value string) (string, string) {
				rec := &patchbay.IdempotencyRecord{OrgID: orgs[i%2], ConnectionID: "con_seal", Key: fmt.Sprintf("key-seal%02d", i),
					RequestHash: fmt.Sprintf("hash%02d", i), LockedUntil: e.clock.Now().Add(time.Hour)}
				_, _, err := e.s.ClaimIdempotencyKey(e.ctx, rec, e.clock.Now())
				must(t, err, "ClaimIdempotencyKey")
				rec.StatusCode, rec.Body = 201, value
				must(t, e.s.CompleteIdempotencyKey(e.ctx, rec), "CompleteIdempotencyKey")
				orgOf[rec.ID] = rec.OrgID + "\x00" + rec.Key
				return rec.ID, rec.RequestHash
			},
			get: func(key string) (string, string) {
				org, k, _ := strings.Cut(orgOf[key], "\x00")
				rec, ok, err := e.s.ClaimIdempotencyKey(e.ctx, &patchbay.IdempotencyRecord{OrgID: org, ConnectionID: "con_seal",
					Key: k, RequestHash: "probe", LockedUntil: e.clock.Now()}, e.clock.Now())
				must(t, err, "ClaimIdempotencyKey("+k+")")
				if ok || rec.ID != key {
					t.Errorf("probe of %s claimed %v, found %s", k, ok, rec.ID)
				}
				return rec.Body, rec.RequestHash
			},
		}
	case colCacheBody:
		return &sealedFixture{
			put: func(i int, value string) (string, string) {
				c := &patchbay.CacheEntry{ID: fmt.Sprintf("pxc_seal%02d", i), OrgID: orgs[i%2], ConnectionID: "con_seal",
					Key: fmt.Sprintf("GET /seal/%02d", i), StatusCode: 200, Body: value,
					ExpiresAt: e.clock.Now().Add(time.Hour), StaleUntil: e.clock.Now().Add(time.Hour)}
				must(t, e.s.PutCacheEntry(e.ctx, c), "PutCacheEntry")
				orgOf[c.ID] = c.OrgID + "\x00" + c.Key
				return c.ID, c.Key
			},
			get: func(key string) (string, string) {
				org, k, _ := strings.Cut(orgOf[key], "\x00")
				c, err := e.s.FindCacheEntry(e.ctx, org, "con_seal", k)
				must(t, err, "FindCacheEntry("+k+")")
				return c.Body, c.Key
			},
		}
	case colCodeVerifier:
		return &sealedFixture{
			put: func(i int, value string) (string, string) {
				st := &patchbay.OAuthState{StateHash: fmt.Sprintf("hash-seal%02d", i), OrgID: orgs[i%2],
					ConnectorSlug: "shopify", CodeVerifier: value, ExpiresAt: e.clock.Now().Add(time.Hour)}
				st.RedirectURI = "https://patchbay.example/callback/" + st.StateHash
				must(t, e.s.CreateOAuthState(e.ctx, st), "CreateOAuthState")
				return st.StateHash, st.RedirectURI
			},
			get: func(key string) (string, string) {
				st, err := e.s.TakeOAuthState(e.ctx, key, e.clock.Now())
				must(t, err, "TakeOAuthState("+key+")")
				return st.CodeVerifier, st.RedirectURI
			},
		}
	}
	t.Fatalf("no fixture for sealed column %s", sealedName(col))
	return nil
}

// resealValues are the column's values before a rotation to key "new".
// Empty values and values already under "new" are left alone; "newer" is a
// different key that merely starts with "new".
var resealValues = []string{
	"pbs1:old:v0",
	"pbs1:new:v1",
	"",
	"pbs1:old:v3",
	"pbs1:newer:v4",
	"pbs1:new:v5",
	"pbs1:old:v6",
	"pbs1:old:v7",
}

// testReseal rotates one column to key "new" in small batches, stopping
// part-way and resuming, and checks every row is re-sealed exactly once
// with what reseal returned.
func testReseal(col patchbay.SealedColumn) func(t *testing.T, e *env) {
	return func(t *testing.T, e *env) {
		fx := sealedFixtureFor(t, e, col)
		type row struct{ key, value, sibling string }
		var rows []row
		stale := map[string]string{} // key → value to re-seal
		for i, v := range resealValues {
			key, sibling := fx.put(i, v)
			rows = append(rows, row{key, v, sibling})
			if v != "" && !strings.HasPrefix(v, "pbs1:new:") {
				stale[key] = v
			}
		}

		resealed := map[string]string{} // key → value reseal returned
		calls := 0
		reseal := func(key, sealed string) (string, error) {
			calls++
			if want, ok := stale[key]; !ok {
				t.Errorf("reseal(%q, %q): the row is not stale", key, sealed)
			} else if sealed != want {
				t.Errorf("reseal(%q, %q): want the row's value %q", key, sealed, want)
			}
			if _, again := resealed[key]; again {
				t.Errorf("reseal(%q, %q): the row was re-sealed already", key, sealed)
			}
			fresh := "pbs1:new:resealed " + key
			resealed[key] = fresh
			return fresh, nil
		}
		batch := func(limit, want int) {
			t.Helper()
			before := calls
			n, err := e.s.ResealBatch(e.ctx, col, "new", limit, reseal)
			must(t, err, fmt.Sprintf("ResealBatch(%s, limit %d)", sealedName(col), limit))
			if n != want {
				t.Errorf("ResealBatch(%s, limit %d) = %d, want %d", sealedName(col), limit, n, want)
			}
			if calls-before != n {
				t.Errorf("ResealBatch(%s, limit %d) = %d but called reseal %d times", sealedName(col), limit, n, calls-before)
			}
		}

		// A rotation re-seals a row at a time and stops part-way...
		batch(1, 1)
		batch(1, 1)
		// ...and another resumes with bigger batches until done.
		batch(2, 2)
		batch(2, 1)
		batch(2, 0)
		batch(100, 0)
		if len(resealed) != len(stale) {
			t.Errorf("re-sealed %d rows, want the %d stale ones", len(resealed), len(stale))
		}

		for _, r := range rows {
			value, sibling := fx.get(r.key)
			want := r.value
			if fresh, ok := resealed[r.key]; ok {
				want = fresh
			}
			if value != want {
				t.Errorf("row %s holds %q after the rotation, want %q", r.key, value, want)
			}
			if sibling != r.sibling {
				t.Errorf("row %s: other value %q changed to %q", r.key, r.sibling, sibling)
			}
		}
	}
}

// testResealError checks that a failing reseal stops the batch with its
// error and leaves the value as it was.
func testResealError(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	c := e.connection(t, org.ID, "shopify", "Shop", func(c *patchbay.Connection) { c.Credential = "pbs1:old:x" })
	n, err := e.s.ResealBatch(e.ctx, colCredential, "new", 10, func(string, string) (string, error) { return "", errBoom })
	if !errors.Is(err, errBoom) {
		t.Errorf("ResealBatch with a failing reseal = %d, %v; want reseal's error", n, err)
	}
	wantConnection(t, "connection after a failed re-seal", e.findConnection(t, org.ID, c.ID), c)

	// A later run re-seals it.
	n, err = e.s.ResealBatch(e.ctx, colCredential, "new", 10, func(string, string) (string, error) { return "pbs1:new:x", nil })
	must(t, err, "ResealBatch")
	if n != 1 {
		t.Errorf("ResealBatch after a failure = %d, want 1", n)
	}
	if got := e.findConnection(t, org.ID, c.ID).Credential; got != "pbs1:new:x" {
		t.Errorf("Credential = %q after the rotation, want pbs1:new:x", got)
	}
}

func testResealUnknownColumn(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	c := e.connection(t, org.ID, "shopify", "Shop", func(c *patchbay.Connection) {
		c.Credential = "pbs1:old:x"
		c.VendorAccountName = "pbs1:old:name"
	})
	for _, col := range []patchbay.SealedColumn{
		{Table: "connections", Column: "vendor_account_name", Key: "id"},
		{Table: "connections", Column: "credential", Key: "org_id"},
		{Table: "oauth_clients", Column: "credential", Key: "id"},
		{Table: "users", Column: "password_hash", Key: "id"},
		{Table: "connections; DROP TABLE connections; --", Column: "credential", Key: "id"},
		{},
	} {
		called := false
		n, err := e.s.ResealBatch(e.ctx, col, "new", 10, func(string, string) (string, error) {
			called = true
			return "pbs1:new:x", nil
		})
		if err == nil || n != 0 {
			t.Errorf("ResealBatch(%s) = %d, %v; want an error", sealedName(col), n, err)
		}
		if called {
			t.Errorf("ResealBatch(%s) called reseal", sealedName(col))
		}
	}
	wantConnection(t, "connection after refused rotations", e.findConnection(t, org.ID, c.ID), c)
}
