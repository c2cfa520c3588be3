package syncs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/connection"
	"github.com/patchbay/patchbay/internal/connector"
	"github.com/patchbay/patchbay/internal/delivery"
	"github.com/patchbay/patchbay/internal/fakevendor"
	"github.com/patchbay/patchbay/internal/postgres"
	"github.com/patchbay/patchbay/internal/postgres/pgtest"
	"github.com/patchbay/patchbay/internal/secret"
	"github.com/patchbay/patchbay/internal/sqlite"
	"github.com/patchbay/patchbay/internal/sqlstore"
	"github.com/patchbay/patchbay/internal/storetest"
	"github.com/patchbay/patchbay/internal/syncs"
)

// engine opens (and, after a crash, reopens) one database.
type engine struct {
	name string
	open func(t *testing.T, now func() time.Time) *sqlstore.Store
}

// engines returns a SQLite file and a PostgreSQL schema, each opened again
// on every call of open, as a restarted process would.
func engines(t *testing.T) []engine {
	return []engine{
		{"sqlite", func(t *testing.T, now func() time.Time) *sqlstore.Store {
			path := filepath.Join(t.TempDir(), "patchbay.db")
			return reopenable(t, func() (*sqlstore.Store, error) { return sqlite.Open(path, now) })
		}},
		{"postgres", func(t *testing.T, now func() time.Time) *sqlstore.Store {
			url := pgtest.URL(t)
			return reopenable(t, func() (*sqlstore.Store, error) { return postgres.Open(context.Background(), url, now) })
		}},
	}
}

// opener remembers how to open a database again, keyed by the store it
// opened first.
var (
	openersMu sync.Mutex
	openers   = map[*sqlstore.Store]func() (*sqlstore.Store, error){}
)

func reopenable(t *testing.T, open func() (*sqlstore.Store, error)) *sqlstore.Store {
	t.Helper()
	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	openersMu.Lock()
	openers[s] = open
	openersMu.Unlock()
	return s
}

// reopen opens the database of s again (s is closed: the process died).
func reopen(t *testing.T, s *sqlstore.Store) *sqlstore.Store {
	t.Helper()
	openersMu.Lock()
	open := openers[s]
	openersMu.Unlock()
	s2, err := open()
	if err != nil {
		t.Fatal(err)
	}
	openersMu.Lock()
	openers[s2] = open
	openersMu.Unlock()
	t.Cleanup(func() { s2.Close() })
	return s2
}

// world is one running Patchbay process: store, connections, deliveries
// and syncs, with the fake vendor connected by API key.
type world struct {
	t      *testing.T
	ctx    context.Context // the org's Administrator
	clock  *storetest.Clock
	store  *sqlstore.Store
	vendor *fakevendor.Vendor
	cat    *connector.Catalog
	ring   *secret.Ring
	org    *patchbay.NewOrgResult
	conn   *patchbay.Connection
	calls  *caller
	events *recorder
	syncs  *syncs.Service
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newWorld(t *testing.T, e engine) *world {
	t.Helper()
	w := &world{t: t, clock: storetest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)), vendor: fakevendor.New(t)}
	dir := t.TempDir()
	if err := w.vendor.WriteCatalog(dir); err != nil {
		t.Fatal(err)
	}
	var err error
	if w.cat, err = connector.Load(dir, nil); err != nil {
		t.Fatal(err)
	}
	if w.ring, err = secret.ParseRing(secret.NewKeySpec("k1")); err != nil {
		t.Fatal(err)
	}
	w.store = e.open(t, w.clock.Now)
	if w.org, err = patchbay.CreateOrgWithAdmin(context.Background(), w.store, "Acme", "admin@acme.example"); err != nil {
		t.Fatal(err)
	}
	w.ctx = patchbay.WithPrincipal(context.Background(), &patchbay.Principal{OrgID: w.org.Org.ID, ActorType: patchbay.ActorAPIKey,
		ActorID: w.org.Key.ID, Capabilities: patchbay.NewCapabilitySet(patchbay.AllCapabilities...)})
	w.wire()
	w.vendor.AddAPIKey("vendor-key")
	res, err := w.calls.conns.Create(w.ctx, connection.CreateRequest{Connector: fakevendor.Slug, AuthMode: patchbay.AuthAPIKey,
		Fields: map[string]string{"api_key": "vendor-key"}})
	if err != nil {
		t.Fatal(err)
	}
	w.conn = res.Connection
	return w
}

// wire builds the services over w.store, as a (re)started process does.
func (w *world) wire() {
	conns := connection.New(connection.Config{Store: w.store, Catalog: w.cat, Ring: w.ring, PublicURL: "http://127.0.0.1:1",
		Now: w.clock.Now, Logger: discard()})
	w.calls = &caller{conns: conns}
	w.events = &recorder{pub: delivery.NewService(w.store, w.ring, nil, discard(), w.clock.Now)}
	w.syncs = syncs.New(syncs.Config{Store: w.store, Catalog: w.cat, Connections: w.calls, Deliveries: w.events,
		Logger: discard(), Now: w.clock.Now})
}

// restart is the process coming back after a crash: the database opened
// again and every service built anew.
func (w *world) restart() {
	w.store = reopen(w.t, w.store)
	w.wire()
}

// caller passes vendor calls to the connections plane; before lets a test
// act before a call (count 1, 2, …).
type caller struct {
	conns  *connection.Service
	mu     sync.Mutex
	n      int
	before func(n int)
}

func (c *caller) Do(ctx context.Context, orgID, id, method, path string, body []byte) (*http.Response, error) {
	c.mu.Lock()
	c.n++
	n, before := c.n, c.before
	c.mu.Unlock()
	if before != nil {
		before(n)
	}
	return c.conns.Do(ctx, orgID, id, method, path, body)
}

// recorder publishes through the delivery service and remembers what it
// published; before lets a test act before a publish (count 1, 2, …).
type recorder struct {
	pub    *delivery.Service
	mu     sync.Mutex
	n      int
	before func(n int)
	events []delivery.EventInput
}

func (r *recorder) PublishOwn(ctx context.Context, events []delivery.EventInput) ([]delivery.Published, error) {
	r.mu.Lock()
	r.n++
	n, before := r.n, r.before
	r.mu.Unlock()
	if before != nil {
		before(n)
	}
	out, err := r.pub.PublishOwn(ctx, events)
	if err == nil {
		r.mu.Lock()
		r.events = append(r.events, events...)
		r.mu.Unlock()
	}
	return out, err
}

// externalIDs returns the external ids of the records published as
// events of type typ, in order.
func (r *recorder) externalIDs(t *testing.T, typ string) []string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, e := range r.events {
		if e.Type != typ {
			continue
		}
		var p struct {
			ExternalID string          `json:"external_id"`
			Record     json.RawMessage `json:"record"`
		}
		if err := json.Unmarshal(e.Payload, &p); err != nil || len(p.Record) == 0 {
			t.Fatalf("event payload %s: %v", e.Payload, err)
		}
		ids = append(ids, p.ExternalID)
	}
	return ids
}

// types returns the types of every published event.
func (r *recorder) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Type)
	}
	return out
}

// cursor returns the stored cursor of an entity type of w.conn.
func (w *world) cursor(entity string) string {
	w.t.Helper()
	c, err := w.store.FindSyncCursor(context.Background(), w.org.Org.ID, w.conn.ID, entity, patchbay.SyncInbound)
	if patchbay.ErrorCode(err) == patchbay.ENOTFOUND {
		return ""
	}
	if err != nil {
		w.t.Fatal(err)
	}
	return c.Value
}

// itemIDs returns "item_0001" … "item_<to>" from from.
func itemIDs(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("item_%04d", i))
	}
	return out
}
