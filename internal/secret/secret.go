// Package secret seals and opens credentials with AES-256-GCM under a key
// ring. Every sealed value names the key that sealed it, so keys can rotate:
// the current key seals, every key in the ring opens. Callers bind each
// value to its row with associated data, so a sealed value copied to another
// row does not open there.
//
// Nothing outside this package sees a key.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// Ring is a set of keys, one of which seals.
type Ring struct {
	current string
	aeads   map[string]cipher.AEAD
}

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// ParseRing reads a ring from its text form: comma-separated "id:key"
// pairs, each key 32 bytes in standard base64. The first pair is the current
// key; the others only open values sealed before a rotation.
func ParseRing(spec string) (*Ring, error) {
	r := &Ring{aeads: map[string]cipher.AEAD{}}
	for i, part := range strings.Split(strings.TrimSpace(spec), ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || !keyIDPattern.MatchString(id) {
			return nil, fmt.Errorf("encryption key %d: want id:base64-key with an id of letters, digits, - or _", i+1)
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(key) != KeySize {
			return nil, fmt.Errorf("encryption key %q: want %d bytes in standard base64", id, KeySize)
		}
		if _, dup := r.aeads[id]; dup {
			return nil, fmt.Errorf("encryption key %q appears twice", id)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		if r.aeads[id], err = cipher.NewGCM(block); err != nil {
			return nil, err
		}
		if i == 0 {
			r.current = id
		}
	}
	return r, nil
}

// NewKeySpec returns the text form of a ring holding one new random key.
func NewKeySpec(id string) string {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		panic(err)
	}
	return id + ":" + base64.StdEncoding.EncodeToString(key)
}

// LoadOrCreateFile returns the ring spec stored in the file at path,
// creating the file (mode 0600) with a new key when it does not exist.
// created reports whether it did.
func LoadOrCreateFile(path string) (spec string, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, err
	}
	spec = NewKeySpec("k1")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, err
	}
	if _, err := f.WriteString(spec + "\n"); err != nil {
		f.Close()
		return "", false, err
	}
	return spec, true, f.Close()
}

// CurrentID returns the id of the key that seals.
func (r *Ring) CurrentID() string { return r.current }

// IDs returns the ids of every key in the ring.
func (r *Ring) IDs() []string {
	ids := make([]string, 0, len(r.aeads))
	for id := range r.aeads {
		ids = append(ids, id)
	}
	return ids
}

// sealedPrefix starts every sealed value; the format is
// "pbs1:<key id>:<base64url(nonce || ciphertext)>".
const sealedPrefix = "pbs1:"

// Seal encrypts plaintext under the current key, bound to ad.
func (r *Ring) Seal(plaintext, ad []byte) (string, error) {
	aead := r.aeads[r.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := aead.Seal(nonce, nonce, plaintext, ad)
	return sealedPrefix + r.current + ":" + base64.RawURLEncoding.EncodeToString(out), nil
}

// ErrOpen is returned when a sealed value cannot be opened: unknown key,
// wrong associated data, or tampering. It never says which.
var ErrOpen = errors.New("secret: cannot open sealed value")

// KeyID returns the id of the key that sealed a value.
func KeyID(sealed string) (string, bool) {
	rest, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, ":")
	return id, ok
}

// Open decrypts a value made by Seal with the same associated data.
func (r *Ring) Open(sealed string, ad []byte) ([]byte, error) {
	id, ok := KeyID(sealed)
	if !ok {
		return nil, ErrOpen
	}
	aead := r.aeads[id]
	if aead == nil {
		return nil, ErrOpen
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed[len(sealedPrefix)+len(id)+1:])
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrOpen
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// NewSigningSecret returns a new webhook signing secret in the Standard
// Webhooks form: "whsec_" followed by the standard base64 encoding of 24
// random bytes (the spec's minimum, as Svix uses).
func NewSigningSecret() string {
	key := make([]byte, 24)
	if _, err := rand.Read(key); err != nil {
		panic(err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}
