package inbound_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/connector"
	"github.com/patchbay/patchbay/internal/delivery"
	"github.com/patchbay/patchbay/internal/fakevendor"
	"github.com/patchbay/patchbay/internal/inbound"
	"github.com/patchbay/patchbay/internal/secret"
	"github.com/patchbay/patchbay/internal/sqlite"
)

// TestReceive plays a vendor delivering signed webhooks to a connection's
// inbound URL: verified ones are recorded and forwarded once, duplicates
// acknowledged, forgeries refused and recorded without their body.
func TestReceive(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "p.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ring, _ := secret.ParseRing(secret.NewKeySpec("k1"))
	dir := t.TempDir()
	if err := fakevendor.New(t).WriteCatalog(dir); err != nil {
		t.Fatal(err)
	}
	cat, err := connector.Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	org, err := patchbay.CreateOrgWithAdmin(ctx, store, "Org", "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	admin := patchbay.WithPrincipal(ctx, &patchbay.Principal{OrgID: org.Org.ID, ActorType: patchbay.ActorAPIKey,
		ActorID: org.Key.ID, Capabilities: patchbay.NewCapabilitySet(patchbay.AllCapabilities...)})
	conn := &patchbay.Connection{OrgID: org.Org.ID, ConnectorSlug: fakevendor.Slug, DisplayName: "Vendor",
		State: patchbay.StateActive, AuthMode: patchbay.AuthAPIKey}
	if err := store.CreateConnection(ctx, conn); err != nil {
		t.Fatal(err)
	}
	svc := &inbound.Service{Store: store, Catalog: cat, Ring: ring, PublicURL: "https://patchbay.example",
		Deliveries: delivery.NewService(store, ring, nil, nil, nil)}

	signing := secret.NewSigningSecret()
	url, err := svc.CreateRoute(admin, conn.ID, signing)
	if err != nil {
		t.Fatal(err)
	}
	token, ok := strings.CutPrefix(url, "https://patchbay.example/inbound/")
	if !ok || len(token) < 30 {
		t.Fatalf("inbound URL %q", url)
	}
	send := func(id string, body string, sign string) (*patchbay.InboundWebhook, bool, error) {
		h, err := delivery.Headers(id, time.Now(), []byte(body), sign)
		if err != nil {
			t.Fatal(err)
		}
		return svc.Receive(ctx, token, h, []byte(body))
	}

	body := `{"type": "item.created", "item": {"id": 7}}`
	w, dup, err := send("msg_1", body, signing)
	if err != nil || dup || w.Status != patchbay.InboundProcessed || !w.Verified || w.EventID == "" {
		t.Fatalf("first delivery: %v %v %+v", err, dup, w)
	}
	ev, err := store.FindEvent(ctx, org.Org.ID, w.EventID)
	if err != nil || ev.Type != "inbound.fakevendor.item.created" || string(ev.Payload) != body || ev.SourceID != w.ID {
		t.Fatalf("forwarded event %+v %v", ev, err)
	}
	if got := w.Headers.Get("webhook-signature"); got == "" || strings.Contains(got, "v1,") {
		t.Fatalf("signature header kept as %q", got)
	}

	// The vendor retries the same delivery: acknowledged, not processed again.
	if _, dup, err := send("msg_1", body, signing); err != nil || !dup {
		t.Fatalf("duplicate: %v %v", dup, err)
	}
	list, _, _ := store.ListInbound(ctx, org.Org.ID, patchbay.InboundFilter{Status: patchbay.InboundProcessed})
	if len(list) != 1 {
		t.Fatalf("%d processed webhooks after a duplicate, want 1", len(list))
	}

	// A forgery is refused and recorded, without its body.
	if _, _, err := send("msg_2", `{"type":"item.created","secret":"hunter2"}`, secret.NewSigningSecret()); patchbay.ErrorCode(err) != patchbay.EUNAUTHORIZED {
		t.Fatalf("forged: %v", err)
	}
	rejected, _, _ := store.ListInbound(ctx, org.Org.ID, patchbay.InboundFilter{Status: patchbay.InboundRejected})
	if len(rejected) != 1 || len(rejected[0].Payload) != 0 || rejected[0].Verified {
		t.Fatalf("rejected record %+v", rejected)
	}
	raw, _ := json.Marshal(rejected[0])
	if strings.Contains(string(raw), "hunter2") {
		t.Fatal("a rejected webhook's body was stored")
	}

	if _, _, err := svc.Receive(ctx, "not-a-token", http.Header{}, []byte(`{}`)); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		t.Fatalf("unknown token: %v", err)
	}

	// Replay forwards it again, as a new event.
	again, err := svc.Replay(admin, w.ID)
	if err != nil || again.EventID == "" || again.EventID == w.EventID {
		t.Fatalf("replay: %v %+v", err, again)
	}
	if _, err := svc.Replay(admin, rejected[0].ID); patchbay.ErrorCode(err) != patchbay.ECONFLICT {
		t.Fatalf("replay of a rejected webhook: %v", err)
	}

	// A new URL replaces the old one.
	if _, err := svc.CreateRoute(admin, conn.ID, signing); err != nil {
		t.Fatal(err)
	}
	if _, _, err := send("msg_3", body, signing); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		t.Fatalf("old URL after a new one: %v", err)
	}
}
