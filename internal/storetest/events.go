package storetest

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

var eventTests = []testCase{
	{"CreateFind", testEventCreateFind},
	{"Idempotency", testEventIdempotency},
	{"NoKey", testEventNoKey},
	{"Payload", testEventPayload},
	{"OrgIsolation", testEventOrgIsolation},
	{"CreateMany", testEventCreateMany},
}

// wantEvent checks that got has every stored field of want, the payload
// byte for byte.
func wantEvent(t *testing.T, what string, got, want *patchbay.Event) {
	t.Helper()
	if got.ID != want.ID || got.OrgID != want.OrgID || got.Type != want.Type || !bytes.Equal(got.Payload, want.Payload) ||
		got.SourceModule != want.SourceModule || got.SourceID != want.SourceID || got.IdempotencyKey != want.IdempotencyKey {
		t.Errorf("%s:\n\tgot  %+v (payload %s)\n\twant %+v (payload %s)", what, *got, got.Payload, *want, want.Payload)
	}
	wantTime(t, what+" CreatedAt", got.CreatedAt, want.CreatedAt)
}

// event creates an event of the org, with an idempotency key unless key is
// empty, and checks it was created.
func (e *env) event(t *testing.T, orgID, typ, key string) *patchbay.Event {
	t.Helper()
	ev := &patchbay.Event{OrgID: orgID, Type: typ, Payload: []byte(`{"type":"` + typ + `"}`),
		SourceModule: "billing", SourceID: "src-" + typ, IdempotencyKey: key}
	stored, created, err := e.s.CreateEvent(e.ctx, ev)
	must(t, err, "CreateEvent("+typ+")")
	if !created {
		t.Fatalf("CreateEvent(%s, key %q) created nothing", typ, key)
	}
	return stored
}

// findEvent returns the stored event, failing the test if it is not found.
func (e *env) findEvent(t *testing.T, orgID, id string) *patchbay.Event {
	t.Helper()
	ev, err := e.s.FindEvent(e.ctx, orgID, id)
	must(t, err, "FindEvent("+id+")")
	return ev
}

func testEventCreateFind(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	ev := &patchbay.Event{OrgID: org.ID, Type: "invoice.paid", Payload: []byte(`{"id":"inv_1"}`),
		SourceModule: "billing", SourceID: "INV-0001", IdempotencyKey: "key-1"}
	stored, created, err := e.s.CreateEvent(e.ctx, ev)
	must(t, err, "CreateEvent")
	if !created {
		t.Error("CreateEvent of a new event: created = false")
	}
	if stored == nil {
		t.Fatal("CreateEvent returned no event")
	}
	wantPrefix(t, "generated event ID", stored.ID, "evt_")
	wantTime(t, "CreatedAt", stored.CreatedAt, e.now())
	wantEvent(t, "FindEvent", e.findEvent(t, org.ID, stored.ID), stored)

	// A preset ID is kept.
	e.clock.Advance(time.Second)
	preset := &patchbay.Event{ID: "evt_preset", OrgID: org.ID, Type: "order.created", Payload: []byte(`[]`)}
	stored, created, err = e.s.CreateEvent(e.ctx, preset)
	must(t, err, "CreateEvent with a preset ID")
	if !created || stored.ID != "evt_preset" {
		t.Errorf("CreateEvent with a preset ID = %s, created %v; want evt_preset, true", stored.ID, created)
	}
	wantEvent(t, "FindEvent(preset)", e.findEvent(t, org.ID, "evt_preset"), preset)

	_, err = e.s.FindEvent(e.ctx, org.ID, "evt_doesnotexist")
	wantCode(t, err, patchbay.ENOTFOUND, "FindEvent of an unknown id")
}

func testEventIdempotency(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	first := &patchbay.Event{OrgID: a.ID, Type: "invoice.paid", Payload: []byte(`{"n":1}`), SourceModule: "billing",
		SourceID: "INV-1", IdempotencyKey: "publish-42"}
	stored, created, err := e.s.CreateEvent(e.ctx, first)
	must(t, err, "CreateEvent")
	if !created {
		t.Fatal("first CreateEvent with a key: created = false")
	}
	want := *stored

	// The same key again, with other content and a preset ID, stores
	// nothing and returns the first event.
	e.clock.Advance(time.Minute)
	again := &patchbay.Event{ID: "evt_second", OrgID: a.ID, Type: "invoice.voided", Payload: []byte(`{"n":2}`),
		SourceModule: "other", SourceID: "INV-2", IdempotencyKey: "publish-42"}
	got, created, err := e.s.CreateEvent(e.ctx, again)
	must(t, err, "CreateEvent with a used key")
	if created {
		t.Error("CreateEvent with a used key: created = true, want false")
	}
	if got == nil {
		t.Fatal("CreateEvent with a used key returned no event")
	}
	wantEvent(t, "CreateEvent with a used key", got, &want)
	_, err = e.s.FindEvent(e.ctx, a.ID, "evt_second")
	wantCode(t, err, patchbay.ENOTFOUND, "FindEvent of the event refused as a duplicate")
	wantEvent(t, "first event after the duplicate", e.findEvent(t, a.ID, want.ID), &want)

	// Inside a transaction too.
	err = e.s.WithTx(e.ctx, func(tx patchbay.Store) error {
		dup := &patchbay.Event{OrgID: a.ID, Type: "invoice.paid", Payload: []byte(`{}`), IdempotencyKey: "publish-42"}
		got, created, err := tx.CreateEvent(e.ctx, dup)
		if err == nil {
			if created {
				t.Error("CreateEvent with a used key inside WithTx: created = true")
			}
			wantEvent(t, "CreateEvent with a used key inside WithTx", got, &want)
		}
		return err
	})
	must(t, err, "CreateEvent with a used key inside WithTx")

	// The key is the org's own: another org using it gets a new event.
	inB := &patchbay.Event{OrgID: b.ID, Type: "invoice.paid", Payload: []byte(`{"n":3}`), IdempotencyKey: "publish-42"}
	gotB, created, err := e.s.CreateEvent(e.ctx, inB)
	must(t, err, "CreateEvent in another org with the key")
	if !created || gotB.ID == want.ID || gotB.OrgID != b.ID {
		t.Errorf("CreateEvent in another org with the key = %+v, created %v; want a new event of %s", *gotB, created, b.ID)
	}
	wantEvent(t, "the other org's event", e.findEvent(t, b.ID, gotB.ID), gotB)
	// ...and that does not disturb the first org's.
	got, created, err = e.s.CreateEvent(e.ctx, &patchbay.Event{OrgID: a.ID, Type: "x", Payload: []byte(`{}`), IdempotencyKey: "publish-42"})
	must(t, err, "CreateEvent with the key again")
	if created || got.ID != want.ID {
		t.Errorf("CreateEvent with the key after another org used it = %s, created %v; want %s, false", got.ID, created, want.ID)
	}

	// A different key is a different event.
	other := e.event(t, a.ID, "invoice.paid", "publish-43")
	if other.ID == want.ID {
		t.Error("a different key returned the first event")
	}
}

func testEventNoKey(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	seen := map[string]bool{}
	for range 3 {
		ev := e.event(t, org.ID, "invoice.paid", "") // event checks created is true
		if seen[ev.ID] {
			t.Errorf("CreateEvent without a key returned %s twice", ev.ID)
		}
		seen[ev.ID] = true
		if got := e.findEvent(t, org.ID, ev.ID); got.IdempotencyKey != "" {
			t.Errorf("event without a key reads back key %q", got.IdempotencyKey)
		}
	}
}

func testEventPayload(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	for _, payload := range []string{
		`{"b":1, "a":[2,3]}`,
		`{"b":1,"a":[2,3]}`,
		"{\n  \"z\": \"\\u00e9 ünïcode \\\"quoted\\\"\",\n  \"n\": 1.50,\n  \"big\": 12345678901234567890,\n  \"dup\": 1, \"dup\": 2\n}",
		`[ ]`,
		`"just a string"`,
		`null`,
	} {
		ev := &patchbay.Event{OrgID: org.ID, Type: "invoice.paid", Payload: []byte(payload)}
		stored, _, err := e.s.CreateEvent(e.ctx, ev)
		must(t, err, "CreateEvent")
		got := e.findEvent(t, org.ID, stored.ID)
		if string(got.Payload) != payload {
			t.Errorf("payload reads back as\n\t%q\nwant byte for byte\n\t%q", got.Payload, payload)
		}
	}
}

func testEventOrgIsolation(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	ev := e.event(t, a.ID, "invoice.paid", "k")
	_, err := e.s.FindEvent(e.ctx, b.ID, ev.ID)
	wantCode(t, err, patchbay.ENOTFOUND, "FindEvent with another org's id")
	wantEvent(t, "FindEvent by its org", e.findEvent(t, a.ID, ev.ID), ev)
}

func testEventCreateMany(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	var evs []*patchbay.Event
	for i := range 250 { // more than one multi-row statement
		evs = append(evs, &patchbay.Event{OrgID: org.ID, Type: "invoice.paid",
			Payload: []byte(`{"n": ` + strconv.Itoa(i) + `}`), SourceModule: "billing", SourceID: "INV-" + strconv.Itoa(i)})
	}
	must(t, e.s.CreateEvents(e.ctx, evs), "CreateEvents")
	seen := map[string]bool{}
	for _, ev := range evs {
		if ev.ID == "" || seen[ev.ID] {
			t.Fatalf("CreateEvents left event %+v without a unique id", ev)
		}
		seen[ev.ID] = true
		wantTime(t, "CreatedAt", ev.CreatedAt, e.clock.Now())
	}
	wantEvent(t, "first event", e.findEvent(t, org.ID, evs[0].ID), evs[0])
	wantEvent(t, "last event", e.findEvent(t, org.ID, evs[249].ID), evs[249])

	keyed := &patchbay.Event{OrgID: org.ID, Type: "invoice.paid", Payload: []byte(`{}`), IdempotencyKey: "k"}
	if err := e.s.CreateEvents(e.ctx, []*patchbay.Event{keyed}); patchbay.ErrorCode(err) != patchbay.EINVALID {
		t.Errorf("CreateEvents with an idempotency key: error %v, want %s", err, patchbay.EINVALID)
	}
}
