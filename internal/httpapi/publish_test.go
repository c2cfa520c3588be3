package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/patchbay/patchbay/client"
)

// A publish echoes each event's payload unless asked not to with
// with_content=false; either way the event is stored whole.
func TestPublishWithContent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	key := f.newOrg("Acme", "admin@acme.test").APIKey
	ev := client.EventRequest{Type: "invoice.paid", Payload: json.RawMessage(`{"invoice":"in_1"}`)}
	batch := client.BatchRequest{Events: []client.EventRequest{ev, ev}}

	tests := []struct {
		path        string
		batch       bool
		wantPayload bool
	}{
		{"/v1/events", false, true},
		{"/v1/events?with_content=true", false, true},
		{"/v1/events?with_content=false", false, false},
		{"/v1/events/batch", true, true},
		{"/v1/events/batch?with_content=false", true, false},
	}
	for _, tt := range tests {
		var events []client.Event
		if tt.batch {
			var res client.List[client.Published]
			f.must(http.StatusAccepted, "POST", tt.path, key, batch, &res)
			for _, p := range res.Data {
				events = append(events, p.Event)
			}
		} else {
			var res client.Published
			f.must(http.StatusAccepted, "POST", tt.path, key, ev, &res)
			events = append(events, res.Event)
		}
		for _, e := range events {
			if got := string(e.Payload); (got != "") != tt.wantPayload {
				t.Errorf("%s: payload %q, want it echoed: %v", tt.path, got, tt.wantPayload)
			}
			if e.ID == "" || e.Type != ev.Type {
				t.Errorf("%s: event %+v", tt.path, e)
			}
			var stored client.Event
			f.must(http.StatusOK, "GET", "/v1/events/"+e.ID, key, nil, &stored)
			if string(stored.Payload) != string(ev.Payload) {
				t.Errorf("%s: stored payload %s", tt.path, stored.Payload)
			}
		}
	}

	// Anything but a boolean is a clear error.
	w := f.do("POST", "/v1/events?with_content=maybe", key, ev)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "with_content") {
		t.Fatalf("with_content=maybe: status %d, body %s", w.Code, w.Body)
	}
	if code := errorCode(t, w); code == "" {
		t.Fatal("no error code")
	}
}

// The batch publish skips huma's schema check (Route.DecodeOnly): its
// service validates every field, and the strict decoder refuses what the
// schema would have. Each bad body is a 400 with a readable message.
func TestPublishBatchRefuses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	key := f.newOrg("Acme", "admin@acme.test").APIKey
	tests := []struct {
		name, body, want string
	}{
		{"no events", `{"events": []}`, "Publish 1 to 500 events"},
		{"null events", `{"events": null}`, "Publish 1 to 500 events"},
		{"no events field", `{}`, "Publish 1 to 500 events"},
		{"too many", `{"events": [` + strings.Repeat(`{"type":"a.b","payload":1},`, 500) + `{"type":"a.b","payload":1}]}`, "Publish 1 to 500 events"},
		{"no payload", `{"events": [{"type": "a.b"}]}`, "payload is required"},
		{"no type", `{"events": [{"payload": 1}]}`, "not a valid event type"},
		{"long type", `{"events": [{"type": "` + strings.Repeat("a", 201) + `", "payload": 1}]}`, "not a valid event type"},
		{"long source id", `{"events": [{"type": "a.b", "payload": 1, "source_id": "` + strings.Repeat("a", 201) + `"}]}`, "too long"},
		{"unknown field", `{"events": [{"type": "a.b", "payload": 1, "extra": 2}]}`, `unknown field \"extra\"`},
		{"unknown top-level field", `{"events": [{"type": "a.b", "payload": 1}], "evts": 1}`, `unknown field \"evts\"`},
		{"wrong type", `{"events": [{"type": "a.b", "payload": 1, "source_id": 5}]}`, "cannot unmarshal number"},
		{"not an object", `[1, 2]`, "cannot unmarshal array"},
		{"truncated", `{"events": [`, "unexpected EOF"},
		{"empty body", ``, "body is required"},
		{"trailing data", `{"events": [{"type": "a.b", "payload": 1}]} {}`, "after the JSON value"},
		{"reserved type", `{"events": [{"type": "sync.due", "payload": 1}]}`, "Patchbay's own"},
	}
	for _, tt := range tests {
		w := f.raw("POST", "/v1/events/batch", key, tt.body, http.Header{"Content-Type": {"application/json"}})
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), tt.want) {
			t.Errorf("%s: status %d, body %s; want 400 with %q", tt.name, w.Code, w.Body, tt.want)
			continue
		}
		if code := errorCode(t, w); code != "invalid" {
			t.Errorf("%s: code %q", tt.name, code)
		}
	}
}
