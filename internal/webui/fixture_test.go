package webui_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/connection"
	"github.com/patchbay/patchbay/internal/connector"
	"github.com/patchbay/patchbay/internal/delivery"
	"github.com/patchbay/patchbay/internal/fakevendor"
	"github.com/patchbay/patchbay/internal/httpapi"
	"github.com/patchbay/patchbay/internal/inbound"
	"github.com/patchbay/patchbay/internal/secret"
	"github.com/patchbay/patchbay/internal/sqlite"
	"github.com/patchbay/patchbay/internal/sqlstore"
	"github.com/patchbay/patchbay/internal/syncs"
	"github.com/patchbay/patchbay/internal/webui"
)

// stack is the real handler stack (REST API with the web UI mounted) over
// a fresh SQLite store, served on 127.0.0.1, with the fake vendor in the
// catalog and the delivery engine running.
type stack struct {
	t       *testing.T
	now     func() time.Time
	store   *sqlstore.Store
	vendor  *fakevendor.Vendor
	conns   *connection.Service
	syncs   *syncs.Service
	srv     *httptest.Server
	org     *patchbay.NewOrgResult
	admin   *patchbay.User
	viewer  *patchbay.User
	editor  *patchbay.User
	ui      *webui.Handler
	handler http.Handler
}

// password is every test user's password.
const password = "correct horse battery"

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newStack(t *testing.T, now func() time.Time, cfg webui.Config) *stack {
	t.Helper()
	st := &stack{t: t, now: now}
	var err error
	if st.store, err = sqlite.Open(filepath.Join(t.TempDir(), "patchbay.db"), now); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.store.Close() })
	ctx := context.Background()
	if _, err := st.store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st.vendor = fakevendor.New(t)
	dir := t.TempDir()
	if err := st.vendor.WriteCatalog(dir); err != nil {
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
	var h atomic.Value
	st.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler, _ := h.Load().(http.Handler) // set below, before any request
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(st.srv.Close)
	st.conns = connection.New(connection.Config{Store: st.store, Catalog: cat, Ring: ring, PublicURL: st.srv.URL, Now: now, Logger: discard()})
	deliveries := delivery.NewService(st.store, ring, nil, discard(), now)
	allow, err := delivery.ParseNetworks("127.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	engine := delivery.NewEngine(delivery.EngineConfig{Store: st.store, Ring: ring, Client: delivery.NewClient(delivery.Options{AllowNetworks: allow}),
		Connections: st.conns, Policy: delivery.DefaultPolicy(), Workers: 2, Logger: discard(), Disable: deliveries.Disable})
	deliveries.SetEngine(engine)
	ectx, cancel := context.WithCancel(ctx)
	engine.Start(ectx)
	t.Cleanup(func() { cancel(); engine.Stop() })
	in := &inbound.Service{Store: st.store, Catalog: cat, Ring: ring, Deliveries: deliveries, PublicURL: st.srv.URL, Now: now}

	st.syncs = syncs.New(syncs.Config{Store: st.store, Catalog: cat, Connections: st.conns, Deliveries: deliveries, Logger: discard(), Now: now})
	cfg.Store, cfg.Catalog, cfg.Connections, cfg.Deliveries, cfg.Logger, cfg.Now = st.store, cat, st.conns, deliveries, discard(), now
	cfg.Syncs, cfg.Inbound = st.syncs, in
	cfg.KeyIDs = func() []string { return []string{ring.CurrentID()} }
	st.ui = webui.New(cfg)
	st.handler = httpapi.NewServer(httpapi.Config{Store: st.store, Now: now, Logger: discard(), Catalog: cat, Connections: st.conns,
		Deliveries: deliveries, Inbound: in, Syncs: st.syncs, UI: st.ui})
	h.Store(st.handler)

	if st.org, err = patchbay.CreateOrgWithAdmin(ctx, st.store, "Acme", "admin@acme.test"); err != nil {
		t.Fatal(err)
	}
	st.admin = st.org.Admin
	st.admin.PasswordHash = patchbay.HashPassword(password) // chosen here, so not one to change at first login
	st.admin.MustChangePassword = false
	if err := st.store.UpdateUser(ctx, st.admin); err != nil {
		t.Fatal(err)
	}
	st.viewer = st.user("viewer@acme.test", patchbay.RoleViewer)
	st.editor = st.user("editor@acme.test", patchbay.RoleEditor)
	// The org's OAuth client at the fake vendor.
	sys := patchbay.WithPrincipal(ctx, &patchbay.Principal{OrgID: st.org.Org.ID, ActorType: patchbay.ActorSystem, ActorID: "test",
		Capabilities: patchbay.NewCapabilitySet(patchbay.AllCapabilities...)})
	if _, err := st.conns.SetOAuthClient(sys, st.org.Org.ID, fakevendor.Slug, fakevendor.DefaultClientID, fakevendor.DefaultClientSecret); err != nil {
		t.Fatal(err)
	}
	return st
}

func (st *stack) user(email, role string) *patchbay.User {
	st.t.Helper()
	u := &patchbay.User{OrgID: st.org.Org.ID, Email: email, Name: email, RoleID: role, PasswordHash: patchbay.HashPassword(password)}
	if err := st.store.CreateUser(context.Background(), u); err != nil {
		st.t.Fatal(err)
	}
	return u
}

// sys is a context acting as Patchbay itself in the org, with every
// capability.
func (st *stack) sys() context.Context {
	return patchbay.WithPrincipal(context.Background(), &patchbay.Principal{OrgID: st.org.Org.ID, ActorType: patchbay.ActorSystem,
		ActorID: "test", Capabilities: patchbay.NewCapabilitySet(patchbay.AllCapabilities...)})
}

// pull pulls the fake vendor's items over conn through the sync service:
// a completed run with items, an operation-log tree and a stored cursor.
func (st *stack) pull(conn *patchbay.Connection) *patchbay.SyncRun {
	st.t.Helper()
	run, err := st.syncs.PullNow(st.sys(), conn.ID, "items")
	if err != nil || run.Status != patchbay.SyncCompleted {
		st.t.Fatalf("pull: %+v %v", run, err)
	}
	return run
}

// failedRun records a run the host platform started and then failed.
func (st *stack) failedRun(conn *patchbay.Connection) *patchbay.SyncRun {
	st.t.Helper()
	run, err := st.syncs.StartRun(st.sys(), &patchbay.SyncRun{ConnectionID: conn.ID, EntityType: "contacts"})
	if err != nil {
		st.t.Fatal(err)
	}
	if run, err = st.syncs.Finish(st.sys(), run.ID, patchbay.SyncFinish{Status: patchbay.SyncFailed, Error: "vendor said 502"}); err != nil {
		st.t.Fatal(err)
	}
	return run
}

// requests stores two request-log rows over conn: a failed first attempt
// and its retry, with a vendor request id and an idempotency key.
func (st *stack) requests(conn *patchbay.Connection) (first, retry *patchbay.APIRequest) {
	st.t.Helper()
	first = &patchbay.APIRequest{OrgID: st.org.Org.ID, ConnectionID: conn.ID, Connector: conn.ConnectorSlug, Source: patchbay.SourceProxy,
		Method: "POST", Path: "/api/contacts", StatusCode: 503, Duration: 120 * time.Millisecond, IdempotencyKey: "idem-42",
		Attempt: 1, Error: "vendor unavailable", RequestBody: `{"name":"Ada"}`, ResponseBody: `{"error":"busy"}`}
	if err := st.store.CreateRequest(context.Background(), first); err != nil {
		st.t.Fatal(err)
	}
	retry = &patchbay.APIRequest{OrgID: st.org.Org.ID, ConnectionID: conn.ID, Connector: conn.ConnectorSlug, Source: patchbay.SourceProxy,
		Method: "POST", Path: "/api/contacts", StatusCode: 201, Duration: 80 * time.Millisecond, IdempotencyKey: "idem-42",
		VendorRequestID: "req_vendor_7", RetryOf: first.ID, Attempt: 2, RequestBody: `{"name":"Ada"}`, ResponseBody: `{"id":"c_1"}`}
	if err := st.store.CreateRequest(context.Background(), retry); err != nil {
		st.t.Fatal(err)
	}
	return first, retry
}

// inboundHook stores a verified, processed vendor webhook over conn.
func (st *stack) inboundHook(conn *patchbay.Connection) *patchbay.InboundWebhook {
	st.t.Helper()
	w := &patchbay.InboundWebhook{OrgID: st.org.Org.ID, ConnectionID: conn.ID, Provider: conn.ConnectorSlug, EventType: "item.created",
		DeliveryID: "evt_vendor_1", Verified: true, Status: patchbay.InboundProcessed,
		Headers: http.Header{"Content-Type": {"application/json"}, "X-Signature": {"[redacted]"}}, Payload: []byte(`{"id":"it_1"}`)}
	if err := st.store.CreateInbound(context.Background(), w); err != nil {
		st.t.Fatal(err)
	}
	return w
}

// connection connects the fake vendor with an API key.
func (st *stack) connection() *patchbay.Connection {
	st.t.Helper()
	st.vendor.AddAPIKey("vendor-key-1")
	ctx := st.sys()
	res, err := st.conns.Create(ctx, connection.CreateRequest{Connector: fakevendor.Slug, AuthMode: patchbay.AuthAPIKey,
		Fields: map[string]string{"api_key": "vendor-key-1"}})
	if err != nil {
		st.t.Fatal(err)
	}
	return res.Connection
}
