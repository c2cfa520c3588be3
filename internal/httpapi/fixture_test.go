package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/connection"
	"github.com/patchbay/patchbay/internal/connector"
	"github.com/patchbay/patchbay/internal/delivery"
	"github.com/patchbay/patchbay/internal/fakevendor"
	"github.com/patchbay/patchbay/internal/httpapi"
	"github.com/patchbay/patchbay/internal/inbound"
	"github.com/patchbay/patchbay/internal/proxy"
	"github.com/patchbay/patchbay/internal/secret"
	"github.com/patchbay/patchbay/internal/sqlite"
	"github.com/patchbay/patchbay/internal/sqlstore"
	"github.com/patchbay/patchbay/internal/storetest"
)

// fixture is a server over a fresh SQLite store, driven in-process, with
// the fake vendor in its connector catalog.
type fixture struct {
	t          *testing.T
	clock      *storetest.Clock
	store      *sqlstore.Store
	srv        *httpapi.Server
	vendor     *fakevendor.Vendor
	conns      *connection.Service
	deliveries *delivery.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c := storetest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "patchbay.db"), c.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	vendor := fakevendor.New(t)
	dir := t.TempDir()
	if err := vendor.WriteCatalog(dir); err != nil {
		t.Fatal(err)
	}
	cat, err := connector.Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := secret.ParseRing(secret.NewKeySpec("k1"))
	if err != nil {
		t.Fatal(err)
	}
	conns := connection.New(connection.Config{Store: store, Catalog: cat, Ring: ring, PublicURL: "http://127.0.0.1:1",
		Now: c.Now, Logger: discardLogger()})
	deliveries := delivery.NewService(store, ring, nil, discardLogger(), c.Now)
	px := proxy.New(proxy.Config{Store: store, Connections: conns, Ring: ring, Now: c.Now, Logger: discardLogger()})
	in := &inbound.Service{Store: store, Catalog: cat, Ring: ring, Deliveries: deliveries, PublicURL: "http://127.0.0.1:1", Now: c.Now}
	return &fixture{t: t, clock: c, store: store, vendor: vendor, conns: conns, deliveries: deliveries,
		srv: httpapi.NewServer(httpapi.Config{Store: store, Now: c.Now, Logger: discardLogger(), Catalog: cat,
			Connections: conns, Deliveries: deliveries, Inbound: in, Proxy: px})}
}

// org is an org with an Administrator key.
type org struct {
	*patchbay.NewOrgResult
}

func (f *fixture) newOrg(name, email string) *org {
	f.t.Helper()
	res, err := patchbay.CreateOrgWithAdmin(context.Background(), f.store, name, email)
	if err != nil {
		f.t.Fatal(err)
	}
	return &org{res}
}

// do sends a request and returns the recorded answer.
func (f *fixture) do(method, path, key string, body any) *httptest.ResponseRecorder {
	f.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			f.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, req)
	return w
}

// must sends a request, requires the status, and decodes the body into out.
func (f *fixture) must(status int, method, path, key string, body, out any) {
	f.t.Helper()
	w := f.do(method, path, key, body)
	if w.Code != status {
		f.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, w.Code, status, w.Body)
	}
	if out != nil {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			f.t.Fatalf("%s %s: decode: %v; body %s", method, path, err, w.Body)
		}
	}
}

// errorCode returns the code of a JSON error body, failing when the body
// is not one.
func errorCode(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("not a JSON error body (status %d): %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error Content-Type %q", ct)
	}
	return e.Error.Code
}

// newKey creates an API key directly in the store and returns its secret.
func (f *fixture) newKey(orgID, roleID string, scopes []patchbay.Capability, rateLimit int) (string, *patchbay.APIKey) {
	f.t.Helper()
	secret, prefix, hash := patchbay.GenerateAPIKey()
	k := &patchbay.APIKey{OrgID: orgID, Name: "test " + roleID, Prefix: prefix, Hash: hash, RoleID: roleID,
		Scopes: scopes, RateLimit: rateLimit}
	if k.RateLimit == 0 {
		k.RateLimit = patchbay.MaxRateLimit
	}
	if err := f.store.CreateAPIKey(context.Background(), k); err != nil {
		f.t.Fatal(err)
	}
	return secret, k
}

// newConnection connects the fake vendor with an API key, as an
// Administrator of the org would.
func (f *fixture) newConnection(orgID string, n int) *patchbay.Connection {
	f.t.Helper()
	key := fmt.Sprintf("vendor-key-%s-%d", orgID, n)
	f.vendor.AddAPIKey(key)
	ctx := patchbay.WithPrincipal(context.Background(), &patchbay.Principal{OrgID: orgID, ActorType: patchbay.ActorSystem,
		ActorID: "fixture", Capabilities: patchbay.NewCapabilitySet(patchbay.AllCapabilities...)})
	res, err := f.conns.Create(ctx, connection.CreateRequest{Connector: fakevendor.Slug, AuthMode: patchbay.AuthAPIKey,
		Fields: map[string]string{"api_key": key}})
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.conns.SetOAuthClient(ctx, orgID, fakevendor.Slug, "client-"+orgID, "secret-"+orgID); err != nil {
		f.t.Fatal(err)
	}
	return res.Connection
}

func (f *fixture) newRole(orgID, name string, caps ...patchbay.Capability) *patchbay.Role {
	f.t.Helper()
	r := &patchbay.Role{OrgID: orgID, Name: name, Capabilities: caps}
	if err := f.store.CreateRole(context.Background(), r); err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *fixture) newUser(orgID, email, roleID string) *patchbay.User {
	f.t.Helper()
	u := &patchbay.User{OrgID: orgID, Email: email, RoleID: roleID, PasswordHash: "x"}
	if err := f.store.CreateUser(context.Background(), u); err != nil {
		f.t.Fatal(err)
	}
	return u
}

// The server is driven as a plain http.Handler.
var _ http.Handler = (*httpapi.Server)(nil)
