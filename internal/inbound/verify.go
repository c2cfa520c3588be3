// Package inbound receives vendor webhooks: it verifies their signatures per
// the connector's declared scheme, reads their event type and delivery id,
// and redacts secret-bearing headers before they are stored.
package inbound

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/patchbay/patchbay"
)

// Verification errors. Every error Verify returns wraps exactly one of them;
// none quotes the secret or a signature.
var (
	// ErrNoSignature: the scheme's signature (or a header it needs, such as
	// a timestamp or message id) is absent.
	ErrNoSignature = errors.New("inbound: request is not signed")
	// ErrBadSignature: a signature is present but none matches, it is
	// malformed, or the secret cannot be used.
	ErrBadSignature = errors.New("inbound: signature does not match")
	// ErrExpired: the signature matches but its timestamp is outside the
	// tolerance, in the past or the future (a replay, or a skewed clock).
	ErrExpired = errors.New("inbound: signature timestamp outside tolerance")
	// ErrUnknownScheme: the scheme is not one Verify knows.
	ErrUnknownScheme = errors.New("inbound: unknown signature scheme")
)

// Schemes Verify knows (patchbay.WebhookSpec.Scheme).
const (
	SchemeStripe           = "stripe"
	SchemeGitHub           = "github"
	SchemeSlack            = "slack"
	SchemeShopify          = "shopify"
	SchemeStandardWebhooks = "standard_webhooks"
	SchemeHMACSHA256       = "hmac_sha256"
)

// DefaultTolerance bounds timestamp skew when the caller passes zero.
const DefaultTolerance = 5 * time.Minute

// Header names the schemes read.
const (
	HeaderStripeSignature = "Stripe-Signature"
	HeaderGitHubSignature = "X-Hub-Signature-256"
	HeaderGitHubEvent     = "X-GitHub-Event"
	HeaderGitHubDelivery  = "X-GitHub-Delivery"
	HeaderSlackSignature  = "X-Slack-Signature"
	HeaderSlackTimestamp  = "X-Slack-Request-Timestamp"
	HeaderShopifyHMAC     = "X-Shopify-Hmac-Sha256"
	HeaderShopifyTopic    = "X-Shopify-Topic"
	HeaderShopifyWebhook  = "X-Shopify-Webhook-Id"
	HeaderWebhookID       = "webhook-id"
	HeaderWebhookTS       = "webhook-timestamp"
	HeaderWebhookSig      = "webhook-signature"
)

// standardSecretPrefix starts a Standard Webhooks secret; the rest is the
// standard base64 encoding of the key.
const standardSecretPrefix = "whsec_"

// Request is what verification needs of an inbound HTTP request: its headers
// and its raw, unparsed body.
type Request struct {
	Header http.Header
	Body   []byte
}

// Verify returns nil when r is authentically signed with secret under
// scheme, and otherwise an error wrapping ErrNoSignature, ErrBadSignature,
// ErrExpired or ErrUnknownScheme. now is the receiving time; tolerance bounds
// how far a signed timestamp may be from now, either way (DefaultTolerance
// when zero or negative). Signatures are checked before timestamps, so
// ErrExpired means an authentic but stale (or future) request. Comparisons are
// constant-time. An empty secret never verifies.
//
// "hmac_sha256" needs a header name: use VerifyHMAC or VerifySpec.
func Verify(scheme string, secret string, r Request, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	switch scheme {
	case SchemeStripe:
		return verifyStripe(secret, r, now, tolerance)
	case SchemeGitHub:
		return verifyHexBody(HeaderGitHubSignature, "sha256=", true, secret, r)
	case SchemeSlack:
		return verifySlack(secret, r, now, tolerance)
	case SchemeShopify:
		return verifyShopify(secret, r)
	case SchemeStandardWebhooks:
		return verifyStandard(secret, r, now, tolerance)
	case SchemeHMACSHA256:
		return fmt.Errorf("%w: %q needs a header name (use VerifyHMAC or VerifySpec)", ErrUnknownScheme, scheme)
	default:
		return fmt.Errorf("%w: %q", ErrUnknownScheme, scheme)
	}
}

// VerifySpec verifies r per a connector's webhook spec: its Scheme, its
// Header for "hmac_sha256" and its ToleranceSeconds.
func VerifySpec(spec patchbay.WebhookSpec, secret string, r Request, now time.Time) error {
	if spec.Scheme == SchemeHMACSHA256 {
		return VerifyHMAC(spec.Header, secret, r)
	}
	return Verify(spec.Scheme, secret, r, now, time.Duration(spec.ToleranceSeconds)*time.Second)
}

// VerifyHMAC verifies a generic signature: the hex HMAC-SHA256 of the body,
// keyed with secret, in the named header, optionally prefixed "sha256=".
func VerifyHMAC(header string, secret string, r Request) error {
	if header == "" {
		return fmt.Errorf("%w: no signature header is configured", ErrUnknownScheme)
	}
	return verifyHexBody(header, "sha256=", false, secret, r)
}

func mac(secret []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, secret)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

func noSecret() error { return fmt.Errorf("%w: no secret is configured", ErrBadSignature) }

// checkTime parses a unix-seconds timestamp and checks it against now.
func checkTime(ts string, now time.Time, tolerance time.Duration) error {
	unix, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp is not unix seconds", ErrBadSignature)
	}
	// Compare in seconds so huge values cannot overflow a Duration.
	diff := now.Unix() - unix
	if diff < 0 {
		diff = -diff
	}
	if diff < 0 || diff > int64(tolerance/time.Second) {
		return fmt.Errorf("%w: timestamp is %ds from now, tolerance %s", ErrExpired, now.Unix()-unix, tolerance)
	}
	return nil
}

// verifyHexBody checks a header holding the hex HMAC of the body. With
// required, the prefix must be present; otherwise it is optional.
func verifyHexBody(header, prefix string, required bool, secret string, r Request) error {
	sig := strings.TrimSpace(r.Header.Get(header))
	if sig == "" {
		return fmt.Errorf("%w: no %s header", ErrNoSignature, header)
	}
	if secret == "" {
		return noSecret()
	}
	rest, ok := cutPrefixFold(sig, prefix)
	if !ok && required {
		return fmt.Errorf("%w: %s does not start with %q", ErrBadSignature, header, prefix)
	}
	got, err := hex.DecodeString(rest)
	if err != nil {
		return fmt.Errorf("%w: %s is not hex", ErrBadSignature, header)
	}
	if !hmac.Equal(got, mac([]byte(secret), r.Body)) {
		return fmt.Errorf("%w: %s", ErrBadSignature, header)
	}
	return nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// verifyStripe: Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]; other
// schemes (v0) are ignored.
func verifyStripe(secret string, r Request, now time.Time, tolerance time.Duration) error {
	h := r.Header.Get(HeaderStripeSignature)
	if strings.TrimSpace(h) == "" {
		return fmt.Errorf("%w: no %s header", ErrNoSignature, HeaderStripeSignature)
	}
	var ts string
	var sigs [][]byte
	malformed := false
	for _, item := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil {
				malformed = true
				continue
			}
			sigs = append(sigs, b)
		}
	}
	if len(sigs) == 0 {
		if malformed {
			return fmt.Errorf("%w: %s v1 is not hex", ErrBadSignature, HeaderStripeSignature)
		}
		return fmt.Errorf("%w: %s has no v1 signature", ErrNoSignature, HeaderStripeSignature)
	}
	if ts == "" {
		return fmt.Errorf("%w: %s has no timestamp", ErrBadSignature, HeaderStripeSignature)
	}
	if secret == "" {
		return noSecret()
	}
	want := mac([]byte(secret), []byte(ts), []byte{'.'}, r.Body)
	if !anyEqual(sigs, want) {
		return fmt.Errorf("%w: %s", ErrBadSignature, HeaderStripeSignature)
	}
	return checkTime(ts, now, tolerance)
}

// anyEqual compares want with every candidate, in constant time each and
// without stopping at the first match.
func anyEqual(candidates [][]byte, want []byte) bool {
	found := false
	for _, c := range candidates {
		if hmac.Equal(c, want) {
			found = true
		}
	}
	return found
}

// verifySlack: X-Slack-Signature: v0=<hex HMAC of "v0:"+ts+":"+body>.
func verifySlack(secret string, r Request, now time.Time, tolerance time.Duration) error {
	sig := strings.TrimSpace(r.Header.Get(HeaderSlackSignature))
	if sig == "" {
		return fmt.Errorf("%w: no %s header", ErrNoSignature, HeaderSlackSignature)
	}
	ts := strings.TrimSpace(r.Header.Get(HeaderSlackTimestamp))
	if ts == "" {
		return fmt.Errorf("%w: no %s header", ErrNoSignature, HeaderSlackTimestamp)
	}
	if secret == "" {
		return noSecret()
	}
	rest, ok := strings.CutPrefix(sig, "v0=")
	if !ok {
		return fmt.Errorf("%w: %s does not start with v0=", ErrBadSignature, HeaderSlackSignature)
	}
	got, err := hex.DecodeString(rest)
	if err != nil {
		return fmt.Errorf("%w: %s is not hex", ErrBadSignature, HeaderSlackSignature)
	}
	want := mac([]byte(secret), []byte("v0:"+ts+":"), r.Body)
	if !hmac.Equal(got, want) {
		return fmt.Errorf("%w: %s", ErrBadSignature, HeaderSlackSignature)
	}
	return checkTime(ts, now, tolerance)
}

// verifyShopify: X-Shopify-Hmac-Sha256: <base64 HMAC of body>.
func verifyShopify(secret string, r Request) error {
	sig := strings.TrimSpace(r.Header.Get(HeaderShopifyHMAC))
	if sig == "" {
		return fmt.Errorf("%w: no %s header", ErrNoSignature, HeaderShopifyHMAC)
	}
	if secret == "" {
		return noSecret()
	}
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return fmt.Errorf("%w: %s is not base64", ErrBadSignature, HeaderShopifyHMAC)
	}
	if !hmac.Equal(got, mac([]byte(secret), r.Body)) {
		return fmt.Errorf("%w: %s", ErrBadSignature, HeaderShopifyHMAC)
	}
	return nil
}

// standardKey returns the HMAC key of a Standard Webhooks secret: the decoded
// base64 after "whsec_", or a secret without the prefix as raw key bytes.
func standardKey(secret string) ([]byte, error) {
	enc, ok := strings.CutPrefix(secret, standardSecretPrefix)
	if !ok {
		return []byte(secret), nil
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("%w: secret is not valid base64 after %q", ErrBadSignature, standardSecretPrefix)
	}
	return key, nil
}

// verifyStandard: webhook-id, webhook-timestamp and webhook-signature
// ("v1,<base64>" entries separated by spaces; other versions are ignored).
func verifyStandard(secret string, r Request, now time.Time, tolerance time.Duration) error {
	id := r.Header.Get(HeaderWebhookID)
	ts := r.Header.Get(HeaderWebhookTS)
	sigHeader := r.Header.Get(HeaderWebhookSig)
	switch {
	case strings.TrimSpace(sigHeader) == "":
		return fmt.Errorf("%w: no %s header", ErrNoSignature, HeaderWebhookSig)
	case id == "":
		return fmt.Errorf("%w: no %s header", ErrNoSignature, HeaderWebhookID)
	case ts == "":
		return fmt.Errorf("%w: no %s header", ErrNoSignature, HeaderWebhookTS)
	}
	if secret == "" {
		return noSecret()
	}
	key, err := standardKey(secret)
	if err != nil {
		return err
	}
	var sigs [][]byte
	for _, entry := range strings.Fields(sigHeader) {
		v, s, ok := strings.Cut(entry, ",")
		if !ok || v != "v1" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			continue
		}
		sigs = append(sigs, b)
	}
	if len(sigs) == 0 {
		return fmt.Errorf("%w: %s has no valid v1 signature", ErrBadSignature, HeaderWebhookSig)
	}
	want := mac(key, []byte(id), []byte{'.'}, []byte(ts), []byte{'.'}, r.Body)
	if !anyEqual(sigs, want) {
		return fmt.Errorf("%w: %s", ErrBadSignature, HeaderWebhookSig)
	}
	return checkTime(ts, now, tolerance)
}

// EventType returns the request's event type: from spec.EventTypeHeader,
// else from the dotted JSON field spec.EventTypeField of the body, else the
// scheme's usual place (body "type" for stripe and standard_webhooks,
// X-GitHub-Event, X-Shopify-Topic, "event.type" then "type" for slack).
// It returns "" when none is found.
func EventType(spec patchbay.WebhookSpec, r Request) string {
	if v := headerOrField(spec.EventTypeHeader, spec.EventTypeField, r); v != "" {
		return v
	}
	switch spec.Scheme {
	case SchemeStripe, SchemeStandardWebhooks:
		return jsonField(r.Body, "type")
	case SchemeGitHub:
		return strings.TrimSpace(r.Header.Get(HeaderGitHubEvent))
	case SchemeShopify:
		return strings.TrimSpace(r.Header.Get(HeaderShopifyTopic))
	case SchemeSlack:
		if v := jsonField(r.Body, "event.type"); v != "" {
			return v
		}
		return jsonField(r.Body, "type")
	}
	return ""
}

// DeliveryID returns the request's delivery id: from spec.DeliveryIDHeader,
// else from the dotted JSON field spec.DeliveryIDField of the body, else the
// scheme's usual place (body "id" for stripe, webhook-id for
// standard_webhooks, X-GitHub-Delivery, X-Shopify-Webhook-Id, body
// "event_id" for slack). It returns "" when none is found.
func DeliveryID(spec patchbay.WebhookSpec, r Request) string {
	if v := headerOrField(spec.DeliveryIDHeader, spec.DeliveryIDField, r); v != "" {
		return v
	}
	switch spec.Scheme {
	case SchemeStripe:
		return jsonField(r.Body, "id")
	case SchemeStandardWebhooks:
		return strings.TrimSpace(r.Header.Get(HeaderWebhookID))
	case SchemeGitHub:
		return strings.TrimSpace(r.Header.Get(HeaderGitHubDelivery))
	case SchemeShopify:
		return strings.TrimSpace(r.Header.Get(HeaderShopifyWebhook))
	case SchemeSlack:
		return jsonField(r.Body, "event_id")
	}
	return ""
}

func headerOrField(header, field string, r Request) string {
	if header != "" {
		if v := strings.TrimSpace(r.Header.Get(header)); v != "" {
			return v
		}
	}
	if field != "" {
		return jsonField(r.Body, field)
	}
	return ""
}

// jsonField returns the scalar at a dotted path ("event.type") of a JSON
// object body as a string; "" when the body is not a JSON object, the path is
// missing, or the value is null, an object or an array.
func jsonField(body []byte, path string) string {
	if len(body) == 0 || path == "" {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return ""
	}
	for _, part := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		if v, ok = obj[part]; !ok {
			return ""
		}
	}
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	}
	return ""
}

// Redacted replaces the values of secret-bearing headers.
const Redacted = "[redacted]"

// sensitive are lower-case substrings of header names whose values are
// redacted: credentials, cookies, signatures and HMACs.
var sensitive = []string{
	"authorization", "cookie", "signature", "secret", "token", "password",
	"api-key", "api_key", "apikey", "hmac", "x-hub-signature",
}

// RedactHeaders returns a copy of h in which every value of a secret-bearing
// header (Authorization, Cookie, Stripe-Signature, X-Hub-Signature*,
// X-Slack-Signature, X-Shopify-Hmac-Sha256, webhook-signature, and any header
// whose name contains "signature", "secret", "token", "api-key", "password"
// or "hmac", case-insensitively) is replaced by "[redacted]". h is not
// modified; nil gives nil.
func RedactHeaders(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		if isSensitive(k) {
			red := make([]string, len(vs))
			for i := range red {
				red[i] = Redacted
			}
			out[k] = red
			continue
		}
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func isSensitive(name string) bool {
	l := strings.ToLower(name)
	for _, s := range sensitive {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}
