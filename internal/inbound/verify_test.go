package inbound

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v84/github"
	"github.com/slack-go/slack"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stripe/stripe-go/v84/webhook"

	"github.com/patchbay/patchbay"
)

const (
	testSecret  = "s3cr3t-signing-key"
	wrongSecret = "not-the-signing-key"
	// Standard Webhooks secrets are "whsec_" + base64 key.
	swSecret      = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	swWrongSecret = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
)

var body = []byte(`{"id":"evt_123","type":"charge.succeeded","data":{"object":{"amount":2000}}}`)

// signer signs body with secret at ts using the vendor's own library and
// returns the request headers. vendorCheck (when set) runs the vendor's own
// verifier on the result so the test proves both sides agree.
type signer struct {
	scheme      string
	secret      string
	wrongSecret string
	sign        func(t *testing.T, secret string, body []byte, ts time.Time) http.Header
	vendorCheck func(t *testing.T, secret string, r Request) error
	sigHeader   string // removed for the "missing header" case
	timestamped bool
	// vendorAcceptsFuture: the vendor's verifier only bounds a timestamp's
	// age (stripe-go checks time.Since(t) > tolerance), so it accepts a
	// future timestamp we refuse.
	vendorAcceptsFuture bool
}

func signers() []signer {
	return []signer{
		{
			scheme: SchemeStripe, secret: "whsec_stripe_test", wrongSecret: "whsec_other",
			sigHeader: HeaderStripeSignature, timestamped: true, vendorAcceptsFuture: true,
			sign: func(t *testing.T, secret string, body []byte, ts time.Time) http.Header {
				p := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: ts})
				h := http.Header{}
				h.Set("Stripe-Signature", p.Header)
				return h
			},
			vendorCheck: func(t *testing.T, secret string, r Request) error {
				return webhook.ValidatePayload(r.Body, r.Header.Get("Stripe-Signature"), secret)
			},
		},
		{
			scheme: SchemeGitHub, secret: testSecret, wrongSecret: wrongSecret,
			sigHeader: github.SHA256SignatureHeader,
			sign: func(t *testing.T, secret string, body []byte, _ time.Time) http.Header {
				// As go-github documents: "sha256=" + hex HMAC-SHA256 of the body.
				m := hmac.New(sha256.New, []byte(secret))
				m.Write(body)
				h := http.Header{}
				h.Set(github.SHA256SignatureHeader, "sha256="+hex.EncodeToString(m.Sum(nil)))
				h.Set(github.EventTypeHeader, "push")
				h.Set(github.DeliveryIDHeader, "72d3162e-cc78-11e3-81ab-4c9367dc0958")
				return h
			},
			vendorCheck: func(t *testing.T, secret string, r Request) error {
				return github.ValidateSignature(r.Header.Get(github.SHA256SignatureHeader), r.Body, []byte(secret))
			},
		},
		{
			scheme: SchemeSlack, secret: testSecret, wrongSecret: wrongSecret,
			sigHeader: HeaderSlackSignature, timestamped: true,
			sign: func(t *testing.T, secret string, body []byte, ts time.Time) http.Header {
				// slack-go only verifies; build the header it expects.
				stamp := strconv.FormatInt(ts.Unix(), 10)
				m := hmac.New(sha256.New, []byte(secret))
				m.Write([]byte("v0:" + stamp + ":"))
				m.Write(body)
				h := http.Header{}
				h.Set("X-Slack-Request-Timestamp", stamp)
				h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(m.Sum(nil)))
				return h
			},
			vendorCheck: func(t *testing.T, secret string, r Request) error {
				sv, err := slack.NewSecretsVerifier(r.Header, secret)
				if err != nil {
					return err
				}
				if _, err := sv.Write(r.Body); err != nil {
					return err
				}
				return sv.Ensure()
			},
		},
		{
			scheme: SchemeShopify, secret: testSecret, wrongSecret: wrongSecret,
			sigHeader: HeaderShopifyHMAC,
			sign: func(t *testing.T, secret string, body []byte, _ time.Time) http.Header {
				m := hmac.New(sha256.New, []byte(secret))
				m.Write(body)
				h := http.Header{}
				h.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(m.Sum(nil)))
				return h
			},
		},
		{
			scheme: SchemeStandardWebhooks, secret: swSecret, wrongSecret: swWrongSecret,
			sigHeader: HeaderWebhookSig, timestamped: true,
			sign: func(t *testing.T, secret string, body []byte, ts time.Time) http.Header {
				wh, err := standardwebhooks.NewWebhook(secret)
				if err != nil {
					t.Fatal(err)
				}
				sig, err := wh.Sign("msg_2Lh9KRb0pzN4LePd3XiA4v12Axj", ts, body)
				if err != nil {
					t.Fatal(err)
				}
				h := http.Header{}
				h.Set("webhook-id", "msg_2Lh9KRb0pzN4LePd3XiA4v12Axj")
				h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
				h.Set("webhook-signature", sig)
				return h
			},
			vendorCheck: func(t *testing.T, secret string, r Request) error {
				wh, err := standardwebhooks.NewWebhook(secret)
				if err != nil {
					return err
				}
				return wh.Verify(r.Body, r.Header)
			},
		},
	}
}

func TestVerifyVendorSigned(t *testing.T) {
	now := time.Now()
	for _, s := range signers() {
		t.Run(s.scheme, func(t *testing.T) {
			tampered := []byte(strings.Replace(string(body), "2000", "9000", 1))
			type tc struct {
				name    string
				secret  string // verifier's secret
				body    []byte // body received
				ts      time.Time
				drop    bool // remove the signature header
				future  bool
				wantErr error
			}
			cases := []tc{
				{name: "valid", secret: s.secret, body: body, ts: now},
				{name: "tampered body", secret: s.secret, body: tampered, ts: now, wantErr: ErrBadSignature},
				{name: "wrong secret", secret: s.wrongSecret, body: body, ts: now, wantErr: ErrBadSignature},
				{name: "empty secret", secret: "", body: body, ts: now, wantErr: ErrBadSignature},
				{name: "missing header", secret: s.secret, body: body, ts: now, drop: true, wantErr: ErrNoSignature},
			}
			if s.timestamped {
				cases = append(cases,
					tc{name: "within tolerance", secret: s.secret, body: body, ts: now.Add(-4 * time.Minute)},
					tc{name: "expired", secret: s.secret, body: body, ts: now.Add(-6 * time.Minute), wantErr: ErrExpired},
					tc{name: "replayed an hour later", secret: s.secret, body: body, ts: now.Add(-time.Hour), wantErr: ErrExpired},
					tc{name: "future", secret: s.secret, body: body, ts: now.Add(6 * time.Minute), future: true, wantErr: ErrExpired},
				)
			} else {
				// No timestamp: an old signature still verifies.
				cases = append(cases, tc{name: "old signature, no timestamp", secret: s.secret, body: body, ts: now.Add(-24 * time.Hour)})
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					h := s.sign(t, s.secret, body, c.ts)
					if c.drop {
						h.Del(s.sigHeader)
					}
					r := Request{Header: h, Body: c.body}
					err := Verify(s.scheme, c.secret, r, now, 0)
					if c.wantErr == nil {
						if err != nil {
							t.Fatalf("Verify = %v, want nil", err)
						}
						// The vendor's own verifier agrees.
						if s.vendorCheck != nil {
							if verr := s.vendorCheck(t, c.secret, r); verr != nil {
								t.Fatalf("vendor library rejects what we accept: %v", verr)
							}
						}
						return
					}
					if !errors.Is(err, c.wantErr) {
						t.Fatalf("Verify = %v, want %v", err, c.wantErr)
					}
					if err != nil && (strings.Contains(err.Error(), c.secret) && c.secret != "") {
						t.Fatalf("error quotes the secret: %v", err)
					}
					// The vendor's verifier also refuses (where it has one and
					// the secret is usable by it).
					skip := c.future && s.vendorAcceptsFuture // stripe-go accepts future timestamps
					if s.vendorCheck != nil && c.secret != "" && !skip {
						if verr := s.vendorCheck(t, c.secret, r); verr == nil {
							t.Fatalf("vendor library accepts what we refuse (%v)", err)
						}
					}
				})
			}
		})
	}
}

func TestVerifyCustomTolerance(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := signers()[0] // stripe
	h := s.sign(t, s.secret, body, now.Add(-20*time.Minute))
	r := Request{Header: h, Body: body}
	if err := Verify(SchemeStripe, s.secret, r, now, 30*time.Minute); err != nil {
		t.Fatalf("30m tolerance: %v", err)
	}
	if err := Verify(SchemeStripe, s.secret, r, now, 10*time.Minute); !errors.Is(err, ErrExpired) {
		t.Fatalf("10m tolerance: %v, want ErrExpired", err)
	}
	spec := patchbay.WebhookSpec{Scheme: SchemeStripe, ToleranceSeconds: 1800}
	if err := VerifySpec(spec, s.secret, r, now); err != nil {
		t.Fatalf("VerifySpec 1800s: %v", err)
	}
	spec.ToleranceSeconds = 0 // default 5 minutes
	if err := VerifySpec(spec, s.secret, r, now); !errors.Is(err, ErrExpired) {
		t.Fatalf("VerifySpec default: %v, want ErrExpired", err)
	}
}

func TestVerifyStripeMultipleSignatures(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	good := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: "whsec_new", Timestamp: now})
	old := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: "whsec_old", Timestamp: now})
	v0 := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: "whsec_new", Timestamp: now, Scheme: "v0"})
	sigOf := func(p *webhook.SignedPayload) string { return hex.EncodeToString(p.Signature) }
	ts := strconv.FormatInt(now.Unix(), 10)
	tests := []struct {
		name   string
		header string
		secret string
		want   error
	}{
		{"first of two matches", "t=" + ts + ",v1=" + sigOf(good) + ",v1=" + sigOf(old), "whsec_new", nil},
		{"second of two matches", "t=" + ts + ",v1=" + sigOf(good) + ",v1=" + sigOf(old), "whsec_old", nil},
		{"neither matches", "t=" + ts + ",v1=" + sigOf(good) + ",v1=" + sigOf(old), "whsec_third", ErrBadSignature},
		{"only v0 is not enough", v0.Header, "whsec_new", ErrNoSignature},
		{"v0 ignored beside v1", v0.Header + ",v1=" + sigOf(good), "whsec_new", nil},
		{"no timestamp", "v1=" + sigOf(good), "whsec_new", ErrBadSignature},
		{"timestamp not a number", "t=abc,v1=" + sigOf(good), "whsec_new", ErrBadSignature},
		{"v1 not hex", "t=" + ts + ",v1=zz", "whsec_new", ErrBadSignature},
		{"timestamp changed", "t=" + strconv.FormatInt(now.Unix()+1, 10) + ",v1=" + sigOf(good), "whsec_new", ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("Stripe-Signature", tt.header)
			err := Verify(SchemeStripe, tt.secret, Request{Header: h, Body: body}, now, 0)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyStandardWebhooks(t *testing.T) {
	// Reference vector from the Standard Webhooks library's own tests.
	ts := time.Unix(1614265330, 0)
	vec := http.Header{}
	vec.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	vec.Set("webhook-timestamp", "1614265330")
	vec.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	vecBody := []byte(`{"test": 2432232314}`)

	rawKey := []byte("a raw key without any prefix")
	rawWH, _ := standardwebhooks.NewWebhookRaw(rawKey)
	rawSig, _ := rawWH.Sign("msg_raw", ts, vecBody)

	with := func(mut func(h http.Header)) http.Header {
		h := vec.Clone()
		mut(h)
		return h
	}
	tests := []struct {
		name   string
		secret string
		header http.Header
		body   []byte
		want   error
	}{
		{"reference vector", swSecret, vec, vecBody, nil},
		{"rotation: second entry matches", swSecret, with(func(h http.Header) {
			h.Set("webhook-signature", "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
		}), vecBody, nil},
		{"asymmetric v1a entries ignored", swSecret, with(func(h http.Header) {
			h.Set("webhook-signature", "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
		}), vecBody, ErrBadSignature},
		{"id changed", swSecret, with(func(h http.Header) { h.Set("webhook-id", "msg_other") }), vecBody, ErrBadSignature},
		{"timestamp changed", swSecret, with(func(h http.Header) { h.Set("webhook-timestamp", "1614265331") }), vecBody, ErrBadSignature},
		{"missing id", swSecret, with(func(h http.Header) { h.Del("webhook-id") }), vecBody, ErrNoSignature},
		{"missing timestamp", swSecret, with(func(h http.Header) { h.Del("webhook-timestamp") }), vecBody, ErrNoSignature},
		{"malformed whsec secret", "whsec_!!!notbase64", vec, vecBody, ErrBadSignature},
		{"raw secret as key bytes", string(rawKey), http.Header{
			"Webhook-Id":        {"msg_raw"},
			"Webhook-Timestamp": {"1614265330"},
			"Webhook-Signature": {rawSig},
		}, vecBody, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(SchemeStandardWebhooks, tt.secret, Request{Header: tt.header, Body: tt.body}, ts.Add(time.Minute), 0)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyShopifyKnownVector(t *testing.T) {
	// Known vector: HMAC-SHA256("hush", `{"id":1}`) in base64, computed
	// independently with crypto/hmac.
	m := hmac.New(sha256.New, []byte("hush"))
	m.Write([]byte(`{"id":1}`))
	want := base64.StdEncoding.EncodeToString(m.Sum(nil))
	h := http.Header{}
	h.Set("X-Shopify-Hmac-Sha256", want)
	r := Request{Header: h, Body: []byte(`{"id":1}`)}
	if err := Verify(SchemeShopify, "hush", r, time.Now(), 0); err != nil {
		t.Fatalf("known vector: %v", err)
	}
	h.Set("X-Shopify-Hmac-Sha256", "not base64!")
	if err := Verify(SchemeShopify, "hush", r, time.Now(), 0); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("not base64: %v", err)
	}
}

func TestVerifyHMAC(t *testing.T) {
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write(body)
	sig := hex.EncodeToString(m.Sum(nil))
	tests := []struct {
		name   string
		header string // header the caller names
		value  string // value sent (in X-Signature)
		secret string
		body   []byte
		want   error
	}{
		{"bare hex", "X-Signature", sig, testSecret, body, nil},
		{"sha256= prefix", "X-Signature", "sha256=" + sig, testSecret, body, nil},
		{"upper-case hex", "X-Signature", strings.ToUpper(sig), testSecret, body, nil},
		{"tampered body", "X-Signature", sig, testSecret, append([]byte(nil), append(body, ' ')...), ErrBadSignature},
		{"wrong secret", "X-Signature", sig, wrongSecret, body, ErrBadSignature},
		{"not hex", "X-Signature", "sha256=xyz", testSecret, body, ErrBadSignature},
		{"missing header", "X-Other-Signature", sig, testSecret, body, ErrNoSignature},
		{"no header configured", "", sig, testSecret, body, ErrUnknownScheme},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("X-Signature", tt.value)
			r := Request{Header: h, Body: tt.body}
			err := VerifyHMAC(tt.header, tt.secret, r)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("VerifyHMAC = %v, want %v", err, tt.want)
			}
			// VerifySpec routes hmac_sha256 to VerifyHMAC with spec.Header.
			err2 := VerifySpec(patchbay.WebhookSpec{Scheme: SchemeHMACSHA256, Header: tt.header}, tt.secret, r, time.Now())
			if !errors.Is(err2, tt.want) || (tt.want == nil && err2 != nil) {
				t.Fatalf("VerifySpec = %v, want %v", err2, tt.want)
			}
		})
	}
}

func TestVerifyUnknownScheme(t *testing.T) {
	for _, scheme := range []string{"", "paypal", "STRIPE", SchemeHMACSHA256} {
		err := Verify(scheme, testSecret, Request{Header: http.Header{}, Body: body}, time.Now(), 0)
		if !errors.Is(err, ErrUnknownScheme) {
			t.Errorf("Verify(%q) = %v, want ErrUnknownScheme", scheme, err)
		}
	}
}

func TestEventTypeAndDeliveryID(t *testing.T) {
	slackBody := []byte(`{"type":"event_callback","event_id":"Ev08MFMKH6","event":{"type":"app_mention","ts":1700000000.5}}`)
	nested := []byte(`{"event":{"type":"order.paid","meta":{"id":12345,"flag":true}},"items":[1]}`)
	tests := []struct {
		name     string
		spec     patchbay.WebhookSpec
		header   http.Header
		body     []byte
		wantType string
		wantID   string
	}{
		{"stripe defaults from body", patchbay.WebhookSpec{Scheme: SchemeStripe}, nil, body, "charge.succeeded", "evt_123"},
		{"standard webhooks: id header, type body", patchbay.WebhookSpec{Scheme: SchemeStandardWebhooks},
			http.Header{"Webhook-Id": {"msg_1"}}, []byte(`{"type":"invoice.created","id":"not-this"}`), "invoice.created", "msg_1"},
		{"github headers", patchbay.WebhookSpec{Scheme: SchemeGitHub},
			http.Header{"X-Github-Event": {"push"}, "X-Github-Delivery": {"d-1"}}, []byte(`{}`), "push", "d-1"},
		{"declared headers win over body", patchbay.WebhookSpec{Scheme: SchemeStripe, EventTypeHeader: "X-Event", DeliveryIDHeader: "X-Delivery"},
			http.Header{"X-Event": {"from.header"}, "X-Delivery": {"hdr-9"}}, body, "from.header", "hdr-9"},
		{"declared header absent falls back to field", patchbay.WebhookSpec{Scheme: SchemeHMACSHA256, EventTypeHeader: "X-Event", EventTypeField: "event.type", DeliveryIDField: "event.meta.id"},
			http.Header{}, nested, "order.paid", "12345"},
		{"dotted fields", patchbay.WebhookSpec{Scheme: SchemeHMACSHA256, EventTypeField: "event.type", DeliveryIDField: "event.meta.flag"},
			nil, nested, "order.paid", "true"},
		{"object and array values are not ids", patchbay.WebhookSpec{Scheme: SchemeHMACSHA256, EventTypeField: "event", DeliveryIDField: "items"},
			nil, nested, "", ""},
		{"missing path", patchbay.WebhookSpec{Scheme: SchemeHMACSHA256, EventTypeField: "event.nope.type", DeliveryIDField: "id"},
			nil, nested, "", ""},
		{"body not JSON", patchbay.WebhookSpec{Scheme: SchemeStripe}, nil, []byte("payload=x"), "", ""},
		{"empty body", patchbay.WebhookSpec{Scheme: SchemeStripe}, nil, nil, "", ""},
		{"slack defaults", patchbay.WebhookSpec{Scheme: SchemeSlack}, nil, slackBody, "app_mention", "Ev08MFMKH6"},
		{"shopify headers", patchbay.WebhookSpec{Scheme: SchemeShopify},
			http.Header{"X-Shopify-Topic": {"orders/create"}, "X-Shopify-Webhook-Id": {"b54557e4"}}, []byte(`{"id":1}`), "orders/create", "b54557e4"},
		{"generic without spec fields", patchbay.WebhookSpec{Scheme: SchemeHMACSHA256}, nil, body, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Request{Header: tt.header, Body: tt.body}
			if r.Header == nil {
				r.Header = http.Header{}
			}
			if got := EventType(tt.spec, r); got != tt.wantType {
				t.Errorf("EventType = %q, want %q", got, tt.wantType)
			}
			if got := DeliveryID(tt.spec, r); got != tt.wantID {
				t.Errorf("DeliveryID = %q, want %q", got, tt.wantID)
			}
		})
	}
}

func TestRedactHeaders(t *testing.T) {
	in := http.Header{
		"Authorization":             {"Bearer sk_live_abc"},
		"Cookie":                    {"session=abc"},
		"Stripe-Signature":          {"t=1,v1=abc"},
		"X-Hub-Signature":           {"sha1=abc"},
		"X-Hub-Signature-256":       {"sha256=abc"},
		"X-Slack-Signature":         {"v0=abc"},
		"X-Shopify-Hmac-Sha256":     {"abc="},
		"Webhook-Signature":         {"v1,abc", "v1,def"},
		"X-Webhook-Secret":          {"abc"},
		"X-Auth-Token":              {"abc"},
		"X-Api-Key":                 {"abc"},
		"x-custom-signature":        {"abc"}, // non-canonical key
		"Content-Type":              {"application/json"},
		"User-Agent":                {"Stripe/1.0"},
		"X-Github-Event":            {"push"},
		"Webhook-Id":                {"msg_1"},
		"X-Slack-Request-Timestamp": {"1700000000"},
	}
	orig := in.Clone()
	out := RedactHeaders(in)

	redacted := []string{"Authorization", "Cookie", "Stripe-Signature", "X-Hub-Signature", "X-Hub-Signature-256",
		"X-Slack-Signature", "X-Shopify-Hmac-Sha256", "Webhook-Signature", "X-Webhook-Secret", "X-Auth-Token", "X-Api-Key", "x-custom-signature"}
	for _, k := range redacted {
		vs := out[k]
		if len(vs) == 0 {
			t.Errorf("%s: dropped, want redacted", k)
		}
		for _, v := range vs {
			if v != Redacted {
				t.Errorf("%s = %q, want %q", k, v, Redacted)
			}
		}
	}
	if got := out["Webhook-Signature"]; len(got) != 2 {
		t.Errorf("Webhook-Signature kept %d values, want 2", len(got))
	}
	for _, k := range []string{"Content-Type", "User-Agent", "X-Github-Event", "Webhook-Id", "X-Slack-Request-Timestamp"} {
		if !reflect.DeepEqual(out[k], in[k]) {
			t.Errorf("%s = %q, want kept %q", k, out[k], in[k])
		}
	}
	if len(out) != len(in) {
		t.Errorf("out has %d headers, want %d", len(out), len(in))
	}
	// No secret survives anywhere in the copy.
	for k, vs := range out {
		for _, v := range vs {
			if strings.Contains(v, "abc") {
				t.Errorf("%s still holds a secret: %q", k, v)
			}
		}
	}
	// The input is untouched, and the copy does not alias it.
	if !reflect.DeepEqual(in, orig) {
		t.Fatalf("input modified: %v", in)
	}
	out["Content-Type"][0] = "changed"
	if in.Get("Content-Type") != "application/json" {
		t.Fatalf("output aliases input slices")
	}
	if RedactHeaders(nil) != nil {
		t.Fatalf("RedactHeaders(nil) != nil")
	}
}
