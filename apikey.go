package patchbay

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
	"time"
)

// APIKey is an org's machine credential. Only a public prefix and a SHA-256
// hash of the whole key are stored: the key itself is shown once, when it is
// created, and never again. SHA-256 (not a slow password hash) is right here
// because the key carries 160 random bits; there is nothing to brute-force.
type APIKey struct {
	ID     string
	OrgID  string
	Name   string
	Prefix string // "pb_" plus 12 characters; identifies the key in lists and logs
	Hash   string // hex SHA-256 of the full key

	// RoleID names the role whose capabilities the key holds. Scopes, when
	// not empty, narrow them further: the key holds only capabilities that
	// are both in the role and in Scopes.
	RoleID string
	Scopes []Capability

	// RateLimit is the number of requests per minute the key may make.
	RateLimit int

	CreatedBy  string // the actor that created the key, e.g. "user:usr_…" or "api_key:key_…"
	CreatedAt  time.Time
	LastUsedAt *time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
}

// DefaultRateLimit is the requests-per-minute limit of a key created without one.
const DefaultRateLimit = 1200

// MaxRateLimit bounds the requests-per-minute limit a key may be given.
const MaxRateLimit = 1_000_000

const (
	apiKeyTag       = "pb_"
	apiKeyPrefixLen = len(apiKeyTag) + 12
)

// GenerateAPIKey returns a new secret key such as "pb_0h3k…_…" together with
// its public prefix and the hash to store.
func GenerateAPIKey() (secret, prefix, hash string) {
	secret = apiKeyTag + RandomToken(8)[:12] + "_" + RandomToken(20)
	return secret, secret[:apiKeyPrefixLen], HashAPIKey(secret)
}

// ParseAPIKeyPrefix returns the public prefix of a presented key, or false
// if the string cannot be a Patchbay key.
func ParseAPIKeyPrefix(secret string) (string, bool) {
	if !strings.HasPrefix(secret, apiKeyTag) || len(secret) < apiKeyPrefixLen+2 || len(secret) > 200 ||
		secret[apiKeyPrefixLen] != '_' {
		return "", false
	}
	return secret[:apiKeyPrefixLen], true
}

// HashAPIKey returns the hex SHA-256 of a key.
func HashAPIKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Matches reports, in constant time, whether secret is this key.
func (k *APIKey) Matches(secret string) bool {
	return subtle.ConstantTimeCompare([]byte(HashAPIKey(secret)), []byte(k.Hash)) == 1
}

// Active reports whether the key may be used at time now.
func (k *APIKey) Active(now time.Time) bool {
	return k.RevokedAt == nil && (k.ExpiresAt == nil || now.Before(*k.ExpiresAt))
}

// Validate returns EINVALID if the key's settable fields are not acceptable.
func (k *APIKey) Validate() error {
	k.Name = strings.TrimSpace(k.Name)
	if k.Name == "" {
		return Errorf(EINVALID, "API key name is required.")
	} else if len(k.Name) > 200 {
		return Errorf(EINVALID, "API key name must be at most 200 characters.")
	} else if k.RoleID == "" {
		return Errorf(EINVALID, "API key role is required.")
	} else if k.RateLimit < 1 || k.RateLimit > MaxRateLimit {
		return Errorf(EINVALID, "Rate limit must be between 1 and %d requests per minute.", MaxRateLimit)
	}
	for _, c := range k.Scopes {
		if !c.Valid() {
			return Errorf(EINVALID, "Unknown capability %q in scopes.", c)
		}
	}
	return nil
}

// APIKeyFilter selects API keys of one org for listing.
type APIKeyFilter struct {
	IncludeRevoked bool
	Page
}
