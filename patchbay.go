// Package patchbay holds Patchbay's domain: the types every other package
// speaks (orgs, users, roles, API keys, activity), the store interface the
// SQLite and PostgreSQL engines implement, and the error codes.
//
// Implementation packages live under internal/ and are named for what they
// wrap (sqlite, postgres, httpapi, secret); they import this package and never
// each other's insides.
package patchbay

import (
	"crypto/rand"
	"encoding/base32"
	"time"

	"github.com/google/uuid"
)

// idEncoding is Crockford's base32 alphabet in lower case: it preserves the
// byte order of the UUIDv7 underneath, so ids sort by creation time.
var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a new time-ordered identifier such as "org_06bq3…" whose
// prefix names the kind of row it identifies.
func NewID(prefix string) string {
	u, err := uuid.NewV7()
	if err != nil {
		// NewV7 fails only when the system's random source does.
		panic(err)
	}
	return prefix + "_" + idEncoding.EncodeToString(u[:])
}

// RandomToken returns n random bytes encoded in the id alphabet. It is used
// for secrets such as API keys and generated passwords.
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand.Read never fails on supported platforms
	}
	return idEncoding.EncodeToString(b)
}

// Now returns the current time in UTC, truncated to the microsecond precision
// both storage engines keep. Stores and services take a Now func so tests can
// control time; this is the default.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
