package patchbay_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/patchbay/patchbay"
)

// Hashing is deliberately slow (argon2id, 19 MiB), so the tests share one
// hash of one password.
const testPassword = "correct horse battery staple"

var testHash = sync.OnceValue(func() string { return patchbay.HashPassword(testPassword) })

func TestHashPasswordFormat(t *testing.T) {
	t.Parallel()
	h := testHash()
	if !strings.Contains(h, "$argon2id$") {
		t.Fatalf("hash %q does not contain $argon2id$", h)
	}
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(h, want) {
		t.Errorf("hash %q does not start with %q", h, want)
	}
	if parts := strings.Split(h, "$"); len(parts) != 6 || parts[4] == "" || parts[5] == "" {
		t.Errorf("hash %q is not $argon2id$v$params$salt$key", h)
	}
	if strings.Contains(h, testPassword) {
		t.Errorf("hash contains the password")
	}
}

func TestHashPasswordSalted(t *testing.T) {
	t.Parallel()
	if a, b := testHash(), patchbay.HashPassword(testPassword); a == b {
		t.Fatalf("two hashes of the same password are equal (%q): the salt must be random", a)
	}
}

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	h := testHash()
	parts := strings.Split(h, "$")
	// with returns the test hash with part i replaced.
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := []struct {
		name, hash, password string
		want                 bool
	}{
		{"right password", h, testPassword, true},
		{"wrong password", h, "correct horse battery stapler", false},
		{"empty password", h, "", false},
		{"different case", h, strings.ToUpper(testPassword), false},
		{"trailing space", h, testPassword + " ", false},

		{"empty hash", "", testPassword, false},
		{"plain text stored as hash", testPassword, testPassword, false},
		{"garbage", "$$$$$", testPassword, false},
		{"argon2i, not argon2id", with(1, "argon2i"), testPassword, false},
		{"bcrypt hash", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", testPassword, false},
		{"wrong version", with(2, "v=16"), testPassword, false},
		{"unparsable version", with(2, "v=x"), testPassword, false},
		{"unparsable parameters", with(3, "m=lots,t=2,p=1"), testPassword, false},
		{"changed parameters", with(3, "m=8192,t=1,p=1"), testPassword, false},
		{"salt not base64", with(4, "!!!"), testPassword, false},
		{"key not base64", with(5, "!!!"), testPassword, false},
		{"empty key", with(5, ""), testPassword, false},
		{"other salt", with(4, "AAAAAAAAAAAAAAAAAAAAAA"), testPassword, false},
		{"extra part", h + "$x", testPassword, false},
		{"missing part", strings.Join(parts[:5], "$"), testPassword, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := patchbay.CheckPassword(tt.hash, tt.password); got != tt.want {
				t.Errorf("CheckPassword(%q, %q) = %v, want %v", tt.hash, tt.password, got, tt.want)
			}
		})
	}
}

func TestCheckPasswordUnicode(t *testing.T) {
	t.Parallel()
	const pw = "pässwörd-密码-🔑"
	h := patchbay.HashPassword(pw)
	if !patchbay.CheckPassword(h, pw) {
		t.Errorf("CheckPassword rejected the right unicode password")
	}
	if patchbay.CheckPassword(h, "passwörd-密码-🔑") {
		t.Errorf("CheckPassword accepted a different unicode password")
	}
}

func TestGeneratePassword(t *testing.T) {
	t.Parallel()
	a, b := patchbay.GeneratePassword(), patchbay.GeneratePassword()
	if a == b {
		t.Fatalf("GeneratePassword returned %q twice", a)
	}
	for _, p := range []string{a, b} {
		if len(p) < patchbay.MinPasswordLength {
			t.Errorf("generated password %q is shorter than MinPasswordLength (%d)", p, patchbay.MinPasswordLength)
		}
	}
}
