package delivery_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/delivery"
	"github.com/patchbay/patchbay/internal/secret"
)

// The spec's reference vector, from its own library tests.
const (
	refSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	refID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	refUnix   = 1614265330
	refBody   = `{"test": 2432232314}`
	refSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSign_ReferenceVector(t *testing.T) {
	got, err := delivery.Sign(refSecret, refID, time.Unix(refUnix, 0), []byte(refBody))
	if err != nil {
		t.Fatal(err)
	}
	if got != refSig {
		t.Fatalf("Sign() = %q, want %q", got, refSig)
	}
}

func TestNewSigningSecret(t *testing.T) {
	s := secret.NewSigningSecret()
	enc, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		t.Fatalf("NewSigningSecret() = %q, want whsec_ prefix", s)
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(key) != 24 {
		t.Fatalf("NewSigningSecret() key = %d bytes, err %v; want 24 bytes", len(key), err)
	}
	if err := delivery.ValidateSecret(s); err != nil {
		t.Fatalf("ValidateSecret(NewSigningSecret()) = %v", err)
	}
	if s == secret.NewSigningSecret() {
		t.Fatal("two NewSigningSecret() calls returned the same secret")
	}
}

func TestSign_MalformedSecret(t *testing.T) {
	for name, secret := range map[string]string{
		"empty":     "",
		"no prefix": "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"not b64":   "whsec_not*base64!",
		"too short": "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 8)),
		"too long":  "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 65)),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := delivery.Sign(secret, refID, time.Unix(refUnix, 0), []byte(refBody))
			if code := patchbay.ErrorCode(err); code != patchbay.EINVALID {
				t.Fatalf("Sign() = %v (code %q), want EINVALID", err, code)
			}
			if _, err := delivery.Headers(refID, time.Now(), nil, refSecret, secret); patchbay.ErrorCode(err) != patchbay.EINVALID {
				t.Fatalf("Headers() = %v, want EINVALID", err)
			}
		})
	}
}

func TestHeaders_Invalid(t *testing.T) {
	if _, err := delivery.Headers("", time.Now(), nil, refSecret); patchbay.ErrorCode(err) != patchbay.EINVALID {
		t.Fatalf("Headers(no id) = %v, want EINVALID", err)
	}
	if _, err := delivery.Headers(refID, time.Now(), nil); patchbay.ErrorCode(err) != patchbay.EINVALID {
		t.Fatalf("Headers(no secret) = %v, want EINVALID", err)
	}
}

func TestHeaders_ReferenceVector(t *testing.T) {
	h, err := delivery.Headers(refID, time.Unix(refUnix, 0), []byte(refBody), refSecret)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"webhook-id":        refID,
		"webhook-timestamp": "1614265330",
		"webhook-signature": refSig,
		"Content-Type":      "application/json",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
}

// TestHeaders_OfficialVerifier checks our headers with the official Standard
// Webhooks Go library, as a receiver would.
func TestHeaders_OfficialVerifier(t *testing.T) {
	oldSecret, newSecret := secret.NewSigningSecret(), secret.NewSigningSecret()
	body := []byte(`{"type":"invoice.paid","data":{"id":"inv_1"}}`)
	now := time.Now()

	// verify signs body with the sender's secrets and verifies what the
	// receiver got with the receiver's secret.
	verify := func(t *testing.T, secret string, received []byte, ts time.Time, secrets ...string) error {
		t.Helper()
		h, err := delivery.Headers("msg_1", ts, body, secrets...)
		if err != nil {
			t.Fatal(err)
		}
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		return wh.Verify(received, h)
	}

	tests := []struct {
		name    string
		secret  string // the receiver's
		body    []byte // as received
		ts      time.Time
		secrets []string // the sender's
		wantErr error
	}{
		{name: "one secret", secret: oldSecret, body: body, ts: now, secrets: []string{oldSecret}},
		{name: "rotating, old verifies alone", secret: oldSecret, body: body, ts: now, secrets: []string{newSecret, oldSecret}},
		{name: "rotating, new verifies alone", secret: newSecret, body: body, ts: now, secrets: []string{newSecret, oldSecret}},
		{name: "tampered body", secret: oldSecret, body: []byte(`{"type":"invoice.paid","data":{"id":"inv_2"}}`), ts: now, secrets: []string{oldSecret}, wantErr: standardwebhooks.ErrNoMatchingSignature},
		{name: "wrong secret", secret: newSecret, body: body, ts: now, secrets: []string{oldSecret}, wantErr: standardwebhooks.ErrNoMatchingSignature},
		{name: "old timestamp", secret: oldSecret, body: body, ts: now.Add(-10 * time.Minute), secrets: []string{oldSecret}, wantErr: standardwebhooks.ErrMessageTooOld},
		{name: "future timestamp", secret: oldSecret, body: body, ts: now.Add(10 * time.Minute), secrets: []string{oldSecret}, wantErr: standardwebhooks.ErrMessageTooNew},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := verify(t, tt.secret, tt.body, tt.ts, tt.secrets...)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("Verify() = %v, want success", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestHeaders_RotationFormat(t *testing.T) {
	h, err := delivery.Headers(refID, time.Unix(refUnix, 0), []byte(refBody), refSecret, secret.NewSigningSecret())
	if err != nil {
		t.Fatal(err)
	}
	sigs := strings.Split(h.Get("webhook-signature"), " ")
	if len(sigs) != 2 || sigs[0] != refSig || !strings.HasPrefix(sigs[1], "v1,") {
		t.Fatalf("webhook-signature = %q, want two space-separated v1 signatures, the first %q", h.Get("webhook-signature"), refSig)
	}
}
