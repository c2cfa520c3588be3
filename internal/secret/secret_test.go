package secret_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/patchbay/patchbay/internal/secret"
)

// key returns the standard base64 of a 32-byte key filled with b, so specs
// in tests are readable and distinct.
func key(b byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, secret.KeySize))
}

// mustRing parses spec or fails the test.
func mustRing(tb testing.TB, spec string) *secret.Ring {
	tb.Helper()
	r, err := secret.ParseRing(spec)
	if err != nil {
		tb.Fatalf("ParseRing(%q): %v", spec, err)
	}
	return r
}

// mustSeal seals plaintext or fails the test.
func mustSeal(tb testing.TB, r *secret.Ring, plaintext, ad []byte) string {
	tb.Helper()
	sealed, err := r.Seal(plaintext, ad)
	if err != nil {
		tb.Fatalf("Seal: %v", err)
	}
	return sealed
}

func TestSealOpenRoundTrip(t *testing.T) {
	t.Parallel()
	r := mustRing(t, "k1:"+key(1))
	tests := []struct {
		name      string
		plaintext []byte
		ad        []byte
	}{
		{"short", []byte("hunter2"), []byte("connection:con_1")},
		{"empty plaintext", []byte{}, []byte("connection:con_1")},
		{"no associated data", []byte("refresh-token"), nil},
		{"binary", []byte{0, 1, 2, 255, 254, 0}, []byte{0}},
		{"large", bytes.Repeat([]byte("x"), 64<<10), []byte("ad")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sealed := mustSeal(t, r, tt.plaintext, tt.ad)
			if !strings.HasPrefix(sealed, "pbs1:k1:") {
				t.Errorf("sealed value %q does not start with pbs1:k1:", sealed)
			}
			if len(tt.plaintext) > 3 && strings.Contains(sealed, string(tt.plaintext)) {
				t.Errorf("sealed value contains the plaintext")
			}
			if id, ok := secret.KeyID(sealed); !ok || id != "k1" {
				t.Errorf("KeyID = %q, %v; want k1, true", id, ok)
			}
			got, err := r.Open(sealed, tt.ad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Errorf("Open = %q, want %q", got, tt.plaintext)
			}
		})
	}
}

func TestSealIsRandomized(t *testing.T) {
	t.Parallel()
	r := mustRing(t, "k1:"+key(1))
	a := mustSeal(t, r, []byte("same"), []byte("ad"))
	b := mustSeal(t, r, []byte("same"), []byte("ad"))
	if a == b {
		t.Fatalf("sealing the same plaintext twice gave the same value %q; the nonce must be random", a)
	}
}

func TestOpenWrongAssociatedData(t *testing.T) {
	t.Parallel()
	r := mustRing(t, "k1:"+key(1))
	sealed := mustSeal(t, r, []byte("credential"), []byte("connection:con_1"))
	for _, ad := range [][]byte{
		[]byte("connection:con_2"),
		[]byte("connection:con_1 "),
		[]byte("Connection:con_1"),
		nil,
	} {
		if got, err := r.Open(sealed, ad); !errors.Is(err, secret.ErrOpen) {
			t.Errorf("Open with ad %q = %q, %v; want ErrOpen", ad, got, err)
		}
	}
}

func TestOpenTampered(t *testing.T) {
	t.Parallel()
	r := mustRing(t, "k2:"+key(2)+",k1:"+key(1))
	ad := []byte("row")
	sealed := mustSeal(t, r, []byte("credential"), ad)
	const prefix = "pbs1:k2:"
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(sealed, prefix))
	if err != nil {
		t.Fatalf("sealed value is not pbs1:k2:<base64url>: %q", sealed)
	}
	// flip returns the sealed value with byte i of its payload changed.
	flip := func(i int) string {
		b := slices.Clone(raw)
		b[i] ^= 0x01
		return prefix + base64.RawURLEncoding.EncodeToString(b)
	}
	tests := []struct {
		name   string
		sealed string
	}{
		{"nonce byte flipped", flip(0)},
		{"ciphertext byte flipped", flip(12)},
		{"tag byte flipped", flip(len(raw) - 1)},
		{"truncated", prefix + base64.RawURLEncoding.EncodeToString(raw[:len(raw)-1])},
		{"shorter than nonce and tag", prefix + base64.RawURLEncoding.EncodeToString(raw[:20])},
		{"empty payload", prefix},
		{"payload not base64url", prefix + "!!!!"},
		{"other key id of the ring", "pbs1:k1:" + strings.TrimPrefix(sealed, prefix)},
		{"no prefix", strings.TrimPrefix(sealed, "pbs1:")},
		{"wrong version", "pbs2:" + strings.TrimPrefix(sealed, "pbs1:")},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, err := r.Open(tt.sealed, ad); !errors.Is(err, secret.ErrOpen) {
				t.Errorf("Open(%q) = %q, %v; want ErrOpen", tt.sealed, got, err)
			}
		})
	}
	// The untouched value still opens: the failures above are the tampering.
	if _, err := r.Open(sealed, ad); err != nil {
		t.Fatalf("Open(untampered): %v", err)
	}
}

func TestOpenUnknownKeyID(t *testing.T) {
	t.Parallel()
	sealer := mustRing(t, "k1:"+key(1))
	other := mustRing(t, "k9:"+key(9))
	sealed := mustSeal(t, sealer, []byte("credential"), nil)
	if got, err := other.Open(sealed, nil); !errors.Is(err, secret.ErrOpen) {
		t.Fatalf("Open under a ring without k1 = %q, %v; want ErrOpen", got, err)
	}
	// Same id, different key material: GCM authentication must fail.
	impostor := mustRing(t, "k1:"+key(7))
	if got, err := impostor.Open(sealed, nil); !errors.Is(err, secret.ErrOpen) {
		t.Fatalf("Open under another key named k1 = %q, %v; want ErrOpen", got, err)
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	oldRing := mustRing(t, "k1:"+key(1))
	newRing := mustRing(t, "k2:"+key(2)+",k1:"+key(1))
	ad := []byte("connection:con_1")

	if got := newRing.CurrentID(); got != "k2" {
		t.Errorf("CurrentID = %q, want k2 (the first key of the spec)", got)
	}
	ids := newRing.IDs()
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"k1", "k2"}) {
		t.Errorf("IDs = %v, want [k1 k2]", ids)
	}

	// A value sealed before the rotation opens after it.
	before := mustSeal(t, oldRing, []byte("old credential"), ad)
	if got, err := newRing.Open(before, ad); err != nil || string(got) != "old credential" {
		t.Errorf("new ring Open(old value) = %q, %v; want the old credential", got, err)
	}

	// New values are sealed under the new key only.
	after := mustSeal(t, newRing, []byte("new credential"), ad)
	if id, _ := secret.KeyID(after); id != "k2" {
		t.Errorf("new value sealed under %q, want k2", id)
	}
	if got, err := newRing.Open(after, ad); err != nil || string(got) != "new credential" {
		t.Errorf("new ring Open(new value) = %q, %v", got, err)
	}
	if _, err := oldRing.Open(after, ad); !errors.Is(err, secret.ErrOpen) {
		t.Errorf("old ring opened a value sealed under k2: err = %v", err)
	}
}

func TestParseRing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		spec    string
		current string // "" when the spec must be rejected
	}{
		{"one key", "k1:" + key(1), "k1"},
		{"two keys, first is current", "k2:" + key(2) + ",k1:" + key(1), "k2"},
		{"spaces around pairs", "  a_b-9:" + key(1) + " , k1:" + key(2) + " ", "a_b-9"},
		{"32-character id", strings.Repeat("i", 32) + ":" + key(1), strings.Repeat("i", 32)},

		{"empty", "", ""},
		{"blank", "   ", ""},
		{"no colon", "k1" + key(1), ""},
		{"empty id", ":" + key(1), ""},
		{"bad id characters", "k 1:" + key(1), ""},
		{"bad id punctuation", "k.1:" + key(1), ""},
		{"id too long", strings.Repeat("i", 33) + ":" + key(1), ""},
		{"empty key", "k1:", ""},
		{"short key", "k1:" + base64.StdEncoding.EncodeToString(make([]byte, 16)), ""},
		{"long key", "k1:" + base64.StdEncoding.EncodeToString(make([]byte, 33)), ""},
		{"bad base64", "k1:" + strings.Repeat("*", 44), ""},
		{"url base64 is not standard", "k1:" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), ""},
		{"duplicate id", "k1:" + key(1) + ",k1:" + key(2), ""},
		{"duplicate id, same key", "k1:" + key(1) + ",k1:" + key(1), ""},
		{"trailing comma", "k1:" + key(1) + ",", ""},
		{"one good, one bad", "k1:" + key(1) + ",k2:short", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := secret.ParseRing(tt.spec)
			if tt.current == "" {
				if err == nil {
					t.Fatalf("ParseRing(%q) succeeded with current key %q; want an error", tt.spec, r.CurrentID())
				}
				// The error names the pair, never the key material.
				if k := strings.TrimPrefix(tt.spec, "k1:"); len(k) >= 40 && strings.Contains(err.Error(), k) {
					t.Errorf("error %q reveals key material", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRing(%q): %v", tt.spec, err)
			}
			if got := r.CurrentID(); got != tt.current {
				t.Errorf("CurrentID = %q, want %q", got, tt.current)
			}
		})
	}
}

func TestNewKeySpec(t *testing.T) {
	t.Parallel()
	a, b := secret.NewKeySpec("k1"), secret.NewKeySpec("k1")
	if a == b {
		t.Fatalf("NewKeySpec returned the same key twice: %q", a)
	}
	r := mustRing(t, a)
	if r.CurrentID() != "k1" {
		t.Errorf("CurrentID = %q, want k1", r.CurrentID())
	}
	// Two fresh keys do not open each other's values.
	sealed := mustSeal(t, r, []byte("x"), nil)
	if _, err := mustRing(t, b).Open(sealed, nil); !errors.Is(err, secret.ErrOpen) {
		t.Errorf("a value sealed under one new key opened under another: err = %v", err)
	}
}

func TestLoadOrCreateFile(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "encryption.key")

	spec, created, err := secret.LoadOrCreateFile(path)
	if err != nil {
		t.Fatalf("first LoadOrCreateFile: %v", err)
	}
	if !created {
		t.Errorf("first call: created = false, want true")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat key file: %v", err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %v, want 0600", perm)
	}
	if di, err := os.Stat(dir); err != nil {
		t.Fatalf("stat data dir: %v", err)
	} else if perm := di.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("created directory mode = %v, want no group or other access", perm)
	}
	r := mustRing(t, spec)
	if r.CurrentID() != "k1" {
		t.Errorf("generated ring's current key = %q, want k1", r.CurrentID())
	}
	sealed := mustSeal(t, r, []byte("credential"), []byte("ad"))

	spec2, created2, err := secret.LoadOrCreateFile(path)
	if err != nil {
		t.Fatalf("second LoadOrCreateFile: %v", err)
	}
	if created2 {
		t.Errorf("second call: created = true, want false")
	}
	if spec2 != spec {
		t.Errorf("second call returned a different spec:\n got %q\nwant %q", spec2, spec)
	}
	if got, err := mustRing(t, spec2).Open(sealed, []byte("ad")); err != nil || string(got) != "credential" {
		t.Errorf("ring from the reloaded file: Open = %q, %v", got, err)
	}
}

func TestLoadOrCreateFileReadsExisting(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "encryption.key")
	want := "k2:" + key(2) + ",k1:" + key(1)
	if err := os.WriteFile(path, []byte("\n"+want+"\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	spec, created, err := secret.LoadOrCreateFile(path)
	if err != nil || created || spec != want {
		t.Fatalf("LoadOrCreateFile = %q, %v, %v; want %q, false, nil", spec, created, err, want)
	}
}

func TestLoadOrCreateFileUnreadable(t *testing.T) {
	t.Parallel()
	// A directory where the file should be is an error, not a new key.
	path := t.TempDir()
	if spec, created, err := secret.LoadOrCreateFile(path); err == nil {
		t.Fatalf("LoadOrCreateFile(directory) = %q, %v, nil; want an error", spec, created)
	}
}
