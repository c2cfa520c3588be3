// Package delivery sends events to webhook endpoints: it signs them per
// Standard Webhooks, decides when a failed attempt is retried, and dials
// user-supplied URLs only where the outbound policy allows.
package delivery

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/patchbay/patchbay"
)

// Standard Webhooks (https://www.standardwebhooks.com) header names.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every signing secret; the rest is the standard base64
// encoding of the HMAC key.
const SecretPrefix = "whsec_"

// Key sizes the spec recommends for a signing secret, in bytes.
const (
	minSecretBytes = 24
	maxSecretBytes = 64
)

// ValidateSecret returns EINVALID unless secret is "whsec_" followed by the
// standard base64 encoding of a 24- to 64-byte key. Use it on secrets that
// users supply; secret.NewSigningSecret's are always valid.
func ValidateSecret(secret string) error {
	_, err := secretKey(secret)
	return err
}

// secretKey decodes the HMAC key of a "whsec_…" secret. Its errors never quote
// the secret.
func secretKey(secret string) ([]byte, error) {
	enc, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, patchbay.Errorf(patchbay.EINVALID, "Signing secret must start with %q.", SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, patchbay.Errorf(patchbay.EINVALID, "Signing secret is not valid base64 after %q.", SecretPrefix)
	}
	if len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return nil, patchbay.Errorf(patchbay.EINVALID, "Signing secret must encode %d to %d bytes.", minSecretBytes, maxSecretBytes)
	}
	return key, nil
}

// Sign returns the Standard Webhooks signature of one message: "v1," followed
// by the base64 HMAC-SHA256, keyed with the secret's decoded key, of
// msgID + "." + ts in unix seconds + "." + body. It returns EINVALID if the
// secret is malformed (see ValidateSecret).
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	return newSigner(key).sign(msgID, ts.Unix(), body), nil
}

// signer signs with one key. It keeps the keyed HMACs it has used for
// reuse: setting up a keyed HMAC (two hashes of the padded key, and their
// allocations) cost as much as signing a small body.
type signer struct {
	macs sync.Pool // of hash.Hash, keyed
}

func newSigner(key []byte) *signer {
	key = bytes.Clone(key)
	return &signer{macs: sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}
}

func (s *signer) sign(msgID string, unix int64, body []byte) string {
	mac := s.macs.Get().(hash.Hash) //nolint:errcheck // the pool holds only what its New makes
	defer s.macs.Put(mac)
	mac.Reset()
	var buf [sha256.Size]byte
	mac.Write([]byte(msgID))
	mac.Write(strconv.AppendInt(append(buf[:0], '.'), unix, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(buf[:0]))
}

// Headers returns the headers of one signed delivery: webhook-id,
// webhook-timestamp (unix seconds), webhook-signature with one "v1,…" per
// secret separated by single spaces (two while a secret rotates, so receivers
// holding either secret verify it), and Content-Type: application/json.
// It returns EINVALID if msgID is empty, no secret is given, or a secret is
// malformed.
func Headers(msgID string, ts time.Time, body []byte, secrets ...string) (http.Header, error) {
	signers := make([]*signer, len(secrets))
	for i, s := range secrets {
		key, err := secretKey(s)
		if err != nil {
			return nil, err
		}
		signers[i] = newSigner(key)
	}
	return headers(msgID, ts, body, signers)
}

// headers is Headers with a signer per secret.
func headers(msgID string, ts time.Time, body []byte, signers []*signer) (http.Header, error) {
	if msgID == "" {
		return nil, patchbay.Errorf(patchbay.EINVALID, "Message ID is required to sign a delivery.")
	}
	if len(signers) == 0 {
		return nil, patchbay.Errorf(patchbay.EINVALID, "At least one signing secret is required.")
	}
	unix := ts.Unix()
	sig := signers[0].sign(msgID, unix, body)
	for _, s := range signers[1:] {
		sig += " " + s.sign(msgID, unix, body)
	}
	return http.Header{
		canonicalID:        {msgID},
		canonicalTimestamp: {strconv.FormatInt(unix, 10)},
		canonicalSignature: {sig},
		"Content-Type":     {"application/json"},
	}, nil
}

// The header names in canonical form, for setting them directly:
// Header.Set would canonicalise each on every delivery.
var (
	canonicalID        = http.CanonicalHeaderKey(HeaderID)
	canonicalTimestamp = http.CanonicalHeaderKey(HeaderTimestamp)
	canonicalSignature = http.CanonicalHeaderKey(HeaderSignature)
)
