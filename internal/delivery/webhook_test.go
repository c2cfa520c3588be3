package delivery

import (
	"encoding/json"
	"strconv"
	"sync"
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

// A signer reused from many goroutines signs as Sign does.
func TestSignerReuse(t *testing.T) {
	t.Parallel()
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	key, err := secretKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	s := newSigner(key)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				id, body := "msg_"+strconv.Itoa(g), []byte(`{"n":`+strconv.Itoa(i)+`}`)
				want, _ := Sign(secret, id, time.Unix(int64(1700000000+i), 0), body)
				if got := s.sign(id, int64(1700000000+i), body); got != want {
					t.Errorf("signer %q, Sign %q", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
