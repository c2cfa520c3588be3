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
