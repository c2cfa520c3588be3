package connection_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/connection"
	"github.com/patchbay/patchbay/internal/connector"
	"github.com/patchbay/patchbay/internal/fakevendor"
	"github.com/patchbay/patchbay/internal/postgres"
	"github.com/patchbay/patchbay/internal/postgres/pgtest"
	"github.com/patchbay/patchbay/internal/secret"
	"github.com/patchbay/patchbay/internal/sqlite"
	"github.com/patchbay/patchbay/internal/sqlstore"
	"github.com/patchbay/patchbay/internal/storetest"
)

// setup is a connections plane over a fresh store, a key ring, a catalog
// holding the fake vendor, and an org with an Administrator.
type setup struct {
	t      *testing.T
	clock  *storetest.Clock
	store  *sqlstore.Store
	ring   *secret.Ring
	vendor *fakevendor.Vendor
	svc    *connection.Service
	org    *patchbay.NewOrgResult
	ctx    context.Context // acting as the org's Administrator key
}

type engine struct {
	name string
	open func(t *testing.T, now func() time.Time) *sqlstore.Store
}

var engines = []engine{
	{"sqlite", func(t *testing.T, now func() time.Time) *sqlstore.Store {
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "patchbay.db"), now)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
	{"postgres", func(t *testing.T, now func() time.Time) *sqlstore.Store {
		u := pgtest.URL(t)
		s, err := postgres.Open(context.Background(), u, now)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
}

func newSetup(t *testing.T, e engine) *setup {
	t.Helper()
	s := &setup{t: t, clock: storetest.NewClock(time.Now().UTC().Truncate(time.Microsecond)), vendor: fakevendor.New(t)}
	s.store = e.open(t, s.clock.Now)
	t.Cleanup(func() { s.store.Close() })
	if _, err := s.store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	var err error
	if s.ring, err = secret.ParseRing(secret.NewKeySpec("k1")); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := s.vendor.WriteCatalog(dir); err != nil {
		t.Fatal(err)
	}
	cat, err := connector.Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.svc = s.newService(cat)
	if s.org, err = patchbay.CreateOrgWithAdmin(context.Background(), s.store, "Org A", "admin@a.example"); err != nil {
		t.Fatal(err)
	}
	s.ctx = s.as(s.org.Org.ID, patchbay.RoleAdministrator)
	if _, err := s.svc.SetOAuthClient(s.ctx, "", fakevendor.Slug, fakevendor.DefaultClientID, fakevendor.DefaultClientSecret); err != nil {
		t.Fatal(err)
	}
	return s
}

// newService returns another Service over the same store: a replica.
func (s *setup) newService(cat connection.Catalog) *connection.Service {
	return connection.New(connection.Config{Store: s.store, Catalog: cat, Ring: s.ring,
		PublicURL: "http://127.0.0.1:1", Now: s.clock.Now, HTTPClient: &http.Client{Timeout: 10 * time.Second}})
}

// as returns a context acting as a key of the org holding a built-in role.
func (s *setup) as(orgID, roleID string) context.Context {
	r := patchbay.BuiltinRole(roleID)
	return patchbay.WithPrincipal(context.Background(), &patchbay.Principal{OrgID: orgID, ActorType: patchbay.ActorAPIKey,
		ActorID: "key_test_" + roleID, ActorName: "pb_test", RoleID: roleID, Capabilities: patchbay.NewCapabilitySet(r.Capabilities...)})
}

// authorize runs the browser's part of an OAuth flow: it opens the
// authorization URL at the vendor, which approves and redirects to the
// callback, and returns the callback's state and code (or error).
func (s *setup) authorize(authURL string) (state, code, vendorErr string) {
	s.t.Helper()
	// Its own transport: another parallel test's httptest Close would
	// close http.DefaultTransport's connections under this request.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	noFollow := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(authURL)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		s.t.Fatalf("authorize: status %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		s.t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != s.svc.RedirectURI() {
		s.t.Fatalf("vendor redirected to %s, want %s", got, s.svc.RedirectURI())
	}
	q := loc.Query()
	return q.Get("state"), q.Get("code"), q.Get("error")
}

// connectOAuth creates a connection through the whole OAuth dance.
func (s *setup) connectOAuth(req connection.AuthorizeRequest) *patchbay.Connection {
	s.t.Helper()
	if req.Connector == "" {
		req.Connector = fakevendor.Slug
	}
	a, err := s.svc.StartAuthorization(s.ctx, req)
	if err != nil {
		s.t.Fatal(err)
	}
	state, code, vendorErr := s.authorize(a.URL)
	res, err := s.svc.CompleteAuthorization(context.Background(), state, code, vendorErr)
	if err != nil {
		s.t.Fatalf("complete: %v", err)
	}
	return res.Connection
}

// forEngine runs a test on SQLite and on PostgreSQL.
func forEngine(t *testing.T, fn func(t *testing.T, s *setup)) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			fn(t, newSetup(t, e))
		})
	}
}

// catalogWithReal returns the embedded catalog plus the fake vendor, for
// tests that need a real connector.
func (s *setup) catalogWithReal(slugs ...string) (connection.Catalog, error) {
	dir := s.t.TempDir()
	if err := s.vendor.WriteCatalog(dir); err != nil {
		return nil, err
	}
	cat, err := connector.Load(dir, nil)
	if err != nil {
		return nil, err
	}
	for _, slug := range slugs {
		if _, ok := cat.Get(slug); !ok {
			s.t.Fatalf("catalog has no %s", slug)
		}
	}
	return cat, nil
}

// catalogWith returns a catalog holding the fake vendor and one variant
// of it, changed by edit (which must give it a new slug).
func (s *setup) catalogWith(edit func(*patchbay.Connector)) connection.Catalog {
	s.t.Helper()
	dir := s.t.TempDir()
	if err := s.vendor.WriteCatalog(dir); err != nil {
		s.t.Fatal(err)
	}
	c := s.vendor.Connector()
	edit(&c)
	b, err := json.Marshal(c)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, c.Slug+".json"), b, 0o644); err != nil {
		s.t.Fatal(err)
	}
	cat, err := connector.Load(dir, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return cat
}
