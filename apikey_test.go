package patchbay_test

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

// apiKeyPattern is the documented key format: "pb_", 12 characters of
// public prefix, "_", 32 characters of secret, all in the lower-case
// Crockford alphabet.
var apiKeyPattern = regexp.MustCompile(`^pb_[0-9a-hjkmnp-tv-z]{12}_[0-9a-hjkmnp-tv-z]{32}$`)

func TestGenerateAPIKey(t *testing.T) {
	t.Parallel()
	secret, prefix, hash := patchbay.GenerateAPIKey()
	if !apiKeyPattern.MatchString(secret) {
		t.Fatalf("key %q does not match %s", secret, apiKeyPattern)
	}
	if len(prefix) != len("pb_")+12 || !strings.HasPrefix(secret, prefix+"_") {
		t.Errorf("prefix = %q, want the first 15 characters of %q", prefix, secret)
	}
	sum := sha256.Sum256([]byte(secret))
	if want := hex.EncodeToString(sum[:]); hash != want || patchbay.HashAPIKey(secret) != want {
		t.Errorf("hash = %q, want hex SHA-256 %q", hash, want)
	}
	if strings.Contains(hash, secret) || strings.Contains(hash, prefix) {
		t.Errorf("hash %q contains the key", hash)
	}
	if got, ok := patchbay.ParseAPIKeyPrefix(secret); !ok || got != prefix {
		t.Errorf("ParseAPIKeyPrefix(generated) = %q, %v; want %q, true", got, ok, prefix)
	}
}

func TestGenerateAPIKeyUnique(t *testing.T) {
	t.Parallel()
	const n = 2000
	secrets, prefixes, hashes := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for range n {
		s, p, h := patchbay.GenerateAPIKey()
		if secrets[s] || prefixes[p] || hashes[h] {
			t.Fatalf("GenerateAPIKey repeated itself within %d keys: %q", n, s)
		}
		secrets[s], prefixes[p], hashes[h] = true, true, true
	}
}

func TestParseAPIKeyPrefix(t *testing.T) {
	t.Parallel()
	const prefix = "pb_abcdefghjkmn"
	tests := []struct {
		name, key string
		ok        bool
	}{
		{"typical", prefix + "_" + strings.Repeat("z", 32), true},
		{"one secret character", prefix + "_x", true},
		{"200 characters", prefix + "_" + strings.Repeat("z", 200-len(prefix)-1), true},

		{"empty", "", false},
		{"only tag", "pb_", false},
		{"prefix only", prefix, false},
		{"prefix and separator, no secret", prefix + "_", false},
		{"wrong tag", "pk_abcdefghjkmn_zzzz", false},
		{"upper-case tag", "PB_abcdefghjkmn_zzzz", false},
		{"separator missing", prefix + "zzzzzz", false},
		{"prefix too short", "pb_abcdefghjkm_zzzz", false},
		{"201 characters", prefix + "_" + strings.Repeat("z", 201-len(prefix)-1), false},
		{"bearer word included", "Bearer " + prefix + "_zzzz", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := patchbay.ParseAPIKeyPrefix(tt.key)
			if ok != tt.ok {
				t.Fatalf("ParseAPIKeyPrefix(%q) ok = %v, want %v", tt.key, ok, tt.ok)
			}
			if ok && got != prefix {
				t.Errorf("prefix = %q, want %q", got, prefix)
			} else if !ok && got != "" {
				t.Errorf("prefix = %q on failure, want empty", got)
			}
		})
	}
}

func TestAPIKeyMatches(t *testing.T) {
	t.Parallel()
	secret, prefix, hash := patchbay.GenerateAPIKey()
	other, _, _ := patchbay.GenerateAPIKey()
	k := &patchbay.APIKey{Prefix: prefix, Hash: hash}
	tests := []struct {
		name, presented string
		want            bool
	}{
		{"the key", secret, true},
		{"another key", other, false},
		{"same prefix, other secret", prefix + "_" + strings.Repeat("0", 32), false},
		{"prefix only", prefix, false},
		{"extra character", secret + "x", false},
		{"last character dropped", secret[:len(secret)-1], false},
		{"upper case", strings.ToUpper(secret), false},
		{"the hash itself", hash, false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := k.Matches(tt.presented); got != tt.want {
				t.Errorf("Matches(%q) = %v, want %v", tt.presented, got, tt.want)
			}
		})
	}
	if (&patchbay.APIKey{}).Matches("") {
		t.Errorf("a key with no hash matched the empty string")
	}
}

func TestAPIKeyActive(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	tests := []struct {
		name string
		key  patchbay.APIKey
		want bool
	}{
		{"no expiry", patchbay.APIKey{}, true},
		{"expires later", patchbay.APIKey{ExpiresAt: at(time.Second)}, true},
		{"expires now", patchbay.APIKey{ExpiresAt: at(0)}, false},
		{"expired", patchbay.APIKey{ExpiresAt: at(-time.Hour)}, false},
		{"revoked", patchbay.APIKey{RevokedAt: at(-time.Hour)}, false},
		{"revoked in the future still counts", patchbay.APIKey{RevokedAt: at(time.Hour)}, false},
		{"revoked and unexpired", patchbay.APIKey{RevokedAt: at(-time.Hour), ExpiresAt: at(time.Hour)}, false},
	}
	for _, tt := range tests {
		if got := tt.key.Active(now); got != tt.want {
			t.Errorf("%s: Active = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestAPIKeyValidate(t *testing.T) {
	t.Parallel()
	valid := func(edit func(k *patchbay.APIKey)) patchbay.APIKey {
		k := patchbay.APIKey{Name: "deploy bot", RoleID: patchbay.RoleEditor, RateLimit: patchbay.DefaultRateLimit}
		edit(&k)
		return k
	}
	tests := []struct {
		name     string
		key      patchbay.APIKey
		ok       bool
		wantName string
	}{
		{"valid", valid(func(*patchbay.APIKey) {}), true, "deploy bot"},
		{"trims name", valid(func(k *patchbay.APIKey) { k.Name = "  deploy bot\n" }), true, "deploy bot"},
		{"200-character name", valid(func(k *patchbay.APIKey) { k.Name = strings.Repeat("n", 200) }), true, strings.Repeat("n", 200)},
		{"rate limit 1", valid(func(k *patchbay.APIKey) { k.RateLimit = 1 }), true, "deploy bot"},
		{"rate limit max", valid(func(k *patchbay.APIKey) { k.RateLimit = patchbay.MaxRateLimit }), true, "deploy bot"},
		{"known scopes", valid(func(k *patchbay.APIKey) {
			k.Scopes = []patchbay.Capability{patchbay.CapConnectionsRead, patchbay.CapDeliveriesRetry}
		}), true, "deploy bot"},
		{"custom role id", valid(func(k *patchbay.APIKey) { k.RoleID = "rol_123" }), true, "deploy bot"},

		{"empty name", valid(func(k *patchbay.APIKey) { k.Name = "" }), false, ""},
		{"blank name", valid(func(k *patchbay.APIKey) { k.Name = " \t " }), false, ""},
		{"201-character name", valid(func(k *patchbay.APIKey) { k.Name = strings.Repeat("n", 201) }), false, ""},
		{"no role", valid(func(k *patchbay.APIKey) { k.RoleID = "" }), false, ""},
		{"rate limit 0", valid(func(k *patchbay.APIKey) { k.RateLimit = 0 }), false, ""},
		{"negative rate limit", valid(func(k *patchbay.APIKey) { k.RateLimit = -5 }), false, ""},
		{"rate limit above max", valid(func(k *patchbay.APIKey) { k.RateLimit = patchbay.MaxRateLimit + 1 }), false, ""},
		{"unknown scope", valid(func(k *patchbay.APIKey) {
			k.Scopes = []patchbay.Capability{patchbay.CapConnectionsRead, "connections:nuke"}
		}), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := tt.key
			err := k.Validate()
			if !tt.ok {
				if code := patchbay.ErrorCode(err); code != patchbay.EINVALID {
					t.Fatalf("Validate() = %v (code %q), want EINVALID", err, code)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if k.Name != tt.wantName {
				t.Errorf("Name = %q, want %q", k.Name, tt.wantName)
			}
		})
	}
}
