package delivery

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

// The envelope's timestamp reads as encoding/json writes a time.Time, and
// the payload is spliced in byte for byte.
func TestWebhookBody(t *testing.T) {
	t.Parallel()
	for _, ts := range []time.Time{
		time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.FixedZone("CET", 3600)),
		time.Date(2026, 3, 1, 12, 0, 0, 120000000, time.UTC),
	} {
		ev := &patchbay.Event{ID: "evt_1", Type: "invoice.paid", CreatedAt: ts, SourceModule: "billing", SourceID: `in "1"`,
			Payload: []byte(`{ "n" : 1 }`)}
		body, err := webhookBody(newEnvelope(ev), ev.Payload)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(ts.UTC())
		wantBody := `{"id":"evt_1","type":"invoice.paid","timestamp":` + string(want) +
			`,"source":{"module":"billing","id":"in \"1\""},"data":{ "n" : 1 }}`
		if string(body) != wantBody {
			t.Errorf("body\n%s\nwant\n%s", body, wantBody)
		}
	}
}
