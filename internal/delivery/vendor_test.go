package delivery_test

import (
	"context"
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/connection"
	"github.com/patchbay/patchbay/internal/connector"
	"github.com/patchbay/patchbay/internal/delivery"
	"github.com/patchbay/patchbay/internal/fakevendor"
	"github.com/patchbay/patchbay/internal/secret"
)

// TestVendorCall sends a queued API call over a connection, with the
// connection's credential, and holds calls while it is paused.
func TestVendorCall(t *testing.T) {
	s := newSetup(t)
	vendor := fakevendor.New(t)
	vendor.AddAPIKey("call-key", fakevendor.ScopeItemsWrite, fakevendor.ScopeProfile)
	dir := t.TempDir()
	if err := vendor.WriteCatalog(dir); err != nil {
		t.Fatal(err)
	}
	cat, err := connector.Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ring, _ := secret.ParseRing(secret.NewKeySpec("k1"))
	conns := connection.New(connection.Config{Store: s.store, Catalog: cat, Ring: ring, PublicURL: "http://127.0.0.1:1", Now: s.clock.Now})
	created, err := conns.Create(s.ctx, connection.CreateRequest{Connector: fakevendor.Slug, AuthMode: patchbay.AuthAPIKey,
		Fields: map[string]string{"api_key": "call-key"}})
	if err != nil {
		t.Fatal(err)
	}
	svc := delivery.NewService(s.store, ring, nil, nil, s.clock.Now)
	engine := delivery.NewEngine(delivery.EngineConfig{Store: s.store, Ring: ring, Policy: delivery.DefaultPolicy(),
		Client:      delivery.NewClient(delivery.Options{AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}),
		Connections: conns, Now: s.clock.Now, Rand: func() float64 { return 0.5 }})
	svc.SetEngine(engine)
	s.engine.Stop() // one engine is enough
	engine.Start(context.Background())
	t.Cleanup(engine.Stop)

	d, err := svc.CallVendor(s.ctx, created.Connection.ID, "post", "/items", json.RawMessage(`{"name":"widget"}`), "crm", "contact_7")
	if err != nil {
		t.Fatal(err)
	}
	s.waitFor("the call", func() bool {
		got, _ := s.store.FindDelivery(context.Background(), s.org.Org.ID, d.ID)
		return got.Status == patchbay.DeliveryDelivered
	})
	attempts, _ := s.store.ListAttempts(context.Background(), s.org.Org.ID, d.ID)
	if len(attempts) != 1 || attempts[0].StatusCode/100 != 2 {
		t.Fatalf("attempts %+v", attempts)
	}

	if _, err := conns.Pause(s.ctx, created.Connection.ID); err != nil {
		t.Fatal(err)
	}
	held, err := svc.CallVendor(s.ctx, created.Connection.ID, "POST", "/items", json.RawMessage(`{"name":"gadget"}`), "crm", "")
	if err != nil {
		t.Fatal(err)
	}
	s.waitFor("the hold", func() bool {
		got, _ := s.store.FindDelivery(context.Background(), s.org.Org.ID, held.ID)
		return got.Status == patchbay.DeliveryHeld
	})
	if c, r, err := conns.Resume(s.ctx, created.Connection.ID); err != nil || c.State != patchbay.StateActive {
		t.Fatalf("resume: %v %+v %+v", err, c, r)
	}
	s.waitFor("the release", func() bool {
		got, _ := s.store.FindDelivery(context.Background(), s.org.Org.ID, held.ID)
		return got.Status == patchbay.DeliveryDelivered
	})
	for _, bad := range []struct{ method, path string }{{"TRACE", "/x"}, {"GET", "https://evil.example/"}, {"GET", "items"}} {
		if _, err := svc.CallVendor(s.ctx, created.Connection.ID, bad.method, bad.path, nil, "", ""); patchbay.ErrorCode(err) != patchbay.EINVALID {
			t.Errorf("%s %s: %v", bad.method, bad.path, err)
		}
	}
}
