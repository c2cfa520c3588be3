package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

var apiKeyTests = []testCase{
	{"CreateFind", testAPIKeyCreateFind},
	{"Invalid", testAPIKeyInvalid},
	{"DuplicatePrefix", testAPIKeyDuplicatePrefix},
	{"ListExcludesRevoked", testAPIKeyListExcludesRevoked},
	{"Revoke", testAPIKeyRevoke},
	{"Touch", testAPIKeyTouch},
	{"OrgIsolation", testAPIKeyOrgIsolation},
	{"Pagination", testAPIKeyPagination},
	{"BadCursor", testAPIKeyBadCursor},
}

// wantAPIKey checks that got has every stored field of want.
func wantAPIKey(t *testing.T, what string, got, want *patchbay.APIKey) {
	t.Helper()
	if got.ID != want.ID || got.OrgID != want.OrgID || got.Name != want.Name || got.Prefix != want.Prefix ||
		got.Hash != want.Hash || got.RoleID != want.RoleID || !slices.Equal(got.Scopes, want.Scopes) ||
		got.RateLimit != want.RateLimit || got.CreatedBy != want.CreatedBy {
		t.Errorf("%s:\n\tgot  %+v\n\twant %+v", what, *got, *want)
	}
	wantTime(t, what+" CreatedAt", got.CreatedAt, want.CreatedAt)
	wantTimePtr(t, what+" LastUsedAt", got.LastUsedAt, want.LastUsedAt)
	wantTimePtr(t, what+" ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	wantTimePtr(t, what+" RevokedAt", got.RevokedAt, want.RevokedAt)
}

func apiKeyID(k *patchbay.APIKey) string { return k.ID }

func testAPIKeyCreateFind(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	k, secret := newAPIKey(org.ID, "  Deploy bot ")
	expires := e.clock.Now().Add(24 * time.Hour)
	k.ExpiresAt = &expires
	k.Scopes = []patchbay.Capability{patchbay.CapConnectionsRead, patchbay.CapDeliveriesRetry}
	k.RateLimit = 60
	must(t, e.s.CreateAPIKey(e.ctx, k), "CreateAPIKey")
	wantPrefix(t, "key ID", k.ID, "key_")
	if k.Name != "Deploy bot" {
		t.Errorf("Name = %q, want it trimmed", k.Name)
	}
	wantTime(t, "CreatedAt", k.CreatedAt, e.now())

	// Only the prefix and the hash are kept; the secret is nowhere.
	if k.Hash != patchbay.HashAPIKey(secret) || !strings.HasPrefix(secret, k.Prefix) {
		t.Errorf("key has prefix %q and hash %q, which do not belong to its secret", k.Prefix, k.Hash)
	}
	tail := strings.TrimPrefix(secret, k.Prefix)

	found, err := e.s.FindAPIKey(e.ctx, org.ID, k.ID)
	must(t, err, "FindAPIKey")
	wantAPIKey(t, "FindAPIKey", found, k)
	byPrefix, err := e.s.FindAPIKeyByPrefix(e.ctx, k.Prefix)
	must(t, err, "FindAPIKeyByPrefix")
	wantAPIKey(t, "FindAPIKeyByPrefix", byPrefix, k)

	for _, got := range []*patchbay.APIKey{found, byPrefix} {
		if s := fmt.Sprintf("%+v", *got); strings.Contains(s, tail) {
			t.Errorf("stored key holds the secret: %s", s)
		}
		if !got.Matches(secret) {
			t.Error("Matches(secret) = false, want true")
		}
		other, _, _ := patchbay.GenerateAPIKey()
		for _, wrong := range []string{"", secret + "x", secret[:len(secret)-1], other, k.Prefix, k.Hash} {
			if got.Matches(wrong) {
				t.Errorf("Matches(%q) = true, want false", wrong)
			}
		}
		if !got.Active(e.clock.Now()) {
			t.Error("Active(now) = false for a new key")
		}
		if got.Active(expires) || got.Active(expires.Add(time.Second)) {
			t.Error("Active at or after ExpiresAt = true, want false")
		}
	}

	_, err = e.s.FindAPIKey(e.ctx, org.ID, "key_doesnotexist")
	wantCode(t, err, patchbay.ENOTFOUND, "FindAPIKey of an unknown id")
	other, _, _ := patchbay.GenerateAPIKey()
	for _, p := range []string{other[:len(k.Prefix)], "", secret} {
		_, err = e.s.FindAPIKeyByPrefix(e.ctx, p)
		wantCode(t, err, patchbay.ENOTFOUND, "FindAPIKeyByPrefix("+p+")")
	}
}

func testAPIKeyInvalid(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	for _, c := range []struct {
		what string
		edit func(*patchbay.APIKey)
	}{
		{"no name", func(k *patchbay.APIKey) { k.Name = "  " }},
		{"no role", func(k *patchbay.APIKey) { k.RoleID = "" }},
		{"zero rate limit", func(k *patchbay.APIKey) { k.RateLimit = 0 }},
		{"huge rate limit", func(k *patchbay.APIKey) { k.RateLimit = patchbay.MaxRateLimit + 1 }},
		{"unknown scope", func(k *patchbay.APIKey) { k.Scopes = []patchbay.Capability{"everything"} }},
	} {
		k, _ := newAPIKey(org.ID, "bot")
		c.edit(k)
		wantCode(t, e.s.CreateAPIKey(e.ctx, k), patchbay.EINVALID, "CreateAPIKey with "+c.what)
	}
	list, _, err := e.s.ListAPIKeys(e.ctx, org.ID, patchbay.APIKeyFilter{IncludeRevoked: true})
	must(t, err, "ListAPIKeys")
	if len(list) != 0 {
		t.Errorf("ListAPIKeys after invalid creates has %d keys, want 0", len(list))
	}
}

func testAPIKeyDuplicatePrefix(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	k, _ := e.apiKey(t, a.ID, "first")
	for _, org := range []string{a.ID, b.ID} {
		dup, _ := newAPIKey(org, "second")
		dup.Prefix = k.Prefix
		wantCode(t, e.s.CreateAPIKey(e.ctx, dup), patchbay.ECONFLICT, "CreateAPIKey with a taken prefix")
	}
}

func testAPIKeyListExcludesRevoked(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	var all []string
	for i := range 3 {
		k, _ := e.apiKey(t, org.ID, fmt.Sprintf("key %d", i))
		all = append(all, k.ID)
		e.clock.Advance(time.Second)
	}
	_, err := e.s.RevokeAPIKey(e.ctx, org.ID, all[1], e.clock.Now())
	must(t, err, "RevokeAPIKey")

	active, next, err := e.s.ListAPIKeys(e.ctx, org.ID, patchbay.APIKeyFilter{})
	must(t, err, "ListAPIKeys")
	wantIDs(t, "ListAPIKeys", ids(active, apiKeyID), []string{all[2], all[0]})
	for _, k := range active {
		if k.RevokedAt != nil {
			t.Errorf("ListAPIKeys returned revoked key %s", k.ID)
		}
	}
	if next != "" {
		t.Errorf("next cursor = %q on the only page", next)
	}
	every, _, err := e.s.ListAPIKeys(e.ctx, org.ID, patchbay.APIKeyFilter{IncludeRevoked: true})
	must(t, err, "ListAPIKeys(IncludeRevoked)")
	wantIDs(t, "ListAPIKeys(IncludeRevoked)", ids(every, apiKeyID), reversed(all))
	if every[1].RevokedAt == nil {
		t.Errorf("revoked key listed without RevokedAt")
	}
}

func testAPIKeyRevoke(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	k, secret := e.apiKey(t, org.ID, "bot")
	other, _ := e.apiKey(t, org.ID, "other")

	first := e.clock.Advance(time.Hour) // not in UTC: the store must normalise
	got, err := e.s.RevokeAPIKey(e.ctx, org.ID, k.ID, first)
	must(t, err, "RevokeAPIKey")
	want := *k
	want.RevokedAt = &first
	wantAPIKey(t, "revoked key", got, &want)
	if got.Active(first) || got.Active(first.Add(-time.Hour)) {
		t.Error("revoked key is Active")
	}
	if !got.Matches(secret) {
		t.Error("revoking changed the key's hash")
	}
	found, err := e.s.FindAPIKey(e.ctx, org.ID, k.ID)
	must(t, err, "FindAPIKey")
	wantAPIKey(t, "found revoked key", found, &want)

	// Revoking again is fine and keeps the first time.
	again, err := e.s.RevokeAPIKey(e.ctx, org.ID, k.ID, e.clock.Advance(time.Hour))
	must(t, err, "second RevokeAPIKey")
	wantAPIKey(t, "revoked twice", again, &want)
	found, err = e.s.FindAPIKey(e.ctx, org.ID, k.ID)
	must(t, err, "FindAPIKey")
	wantAPIKey(t, "found after second revoke", found, &want)

	// The other key is untouched.
	found, err = e.s.FindAPIKey(e.ctx, org.ID, other.ID)
	must(t, err, "FindAPIKey(other)")
	wantAPIKey(t, "other key", found, other)

	_, err = e.s.RevokeAPIKey(e.ctx, org.ID, "key_doesnotexist", e.clock.Now())
	wantCode(t, err, patchbay.ENOTFOUND, "RevokeAPIKey of an unknown id")
}

func testAPIKeyTouch(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	k, _ := e.apiKey(t, org.ID, "bot")
	other, _ := e.apiKey(t, org.ID, "other")

	for range 2 {
		at := e.clock.Advance(17 * time.Minute)
		must(t, e.s.TouchAPIKey(e.ctx, k.ID, at), "TouchAPIKey")
		got, err := e.s.FindAPIKey(e.ctx, org.ID, k.ID)
		must(t, err, "FindAPIKey")
		want := *k
		want.LastUsedAt = &at
		wantAPIKey(t, "touched key", got, &want)
	}
	got, err := e.s.FindAPIKey(e.ctx, org.ID, other.ID)
	must(t, err, "FindAPIKey(other)")
	wantAPIKey(t, "untouched key", got, other)
}

func testAPIKeyOrgIsolation(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	ka, _ := e.apiKey(t, a.ID, "acme bot")
	kb, _ := e.apiKey(t, b.ID, "globex bot")

	_, err := e.s.FindAPIKey(e.ctx, b.ID, ka.ID)
	wantCode(t, err, patchbay.ENOTFOUND, "FindAPIKey with another org's id")
	_, err = e.s.RevokeAPIKey(e.ctx, b.ID, ka.ID, e.clock.Advance(time.Minute))
	wantCode(t, err, patchbay.ENOTFOUND, "RevokeAPIKey through another org")

	got, err := e.s.FindAPIKey(e.ctx, a.ID, ka.ID)
	must(t, err, "FindAPIKey in own org")
	wantAPIKey(t, "key after cross-org revoke", got, ka)

	// Authentication finds a key by prefix whatever its org, and says which.
	byPrefix, err := e.s.FindAPIKeyByPrefix(e.ctx, ka.Prefix)
	must(t, err, "FindAPIKeyByPrefix")
	if byPrefix.OrgID != a.ID {
		t.Errorf("FindAPIKeyByPrefix OrgID = %q, want %q", byPrefix.OrgID, a.ID)
	}

	for org, want := range map[string][]string{a.ID: {ka.ID}, b.ID: {kb.ID}, "org_doesnotexist": {}} {
		list, _, err := e.s.ListAPIKeys(e.ctx, org, patchbay.APIKeyFilter{IncludeRevoked: true})
		must(t, err, "ListAPIKeys")
		wantIDs(t, "ListAPIKeys("+org+")", ids(list, apiKeyID), want)
	}
}

func testAPIKeyPagination(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	var all, active []string
	for i := range 7 {
		k, _ := e.apiKey(t, a.ID, fmt.Sprintf("key %d", i))
		e.apiKey(t, b.ID, fmt.Sprintf("other %d", i))
		all = append(all, k.ID)
		if i%3 == 1 {
			_, err := e.s.RevokeAPIKey(e.ctx, a.ID, k.ID, e.clock.Now())
			must(t, err, "RevokeAPIKey")
		} else {
			active = append(active, k.ID)
		}
		e.clock.Advance(time.Second)
	}
	for _, limit := range []int{1, 2, 4} {
		for _, inc := range []bool{false, true} {
			want := reversed(active)
			if inc {
				want = reversed(all)
			}
			got := walk(t, limit, func(p patchbay.Page) ([]*patchbay.APIKey, string, error) {
				return e.s.ListAPIKeys(e.ctx, a.ID, patchbay.APIKeyFilter{IncludeRevoked: inc, Page: p})
			})
			wantIDs(t, fmt.Sprintf("walk with limit %d, IncludeRevoked %v", limit, inc), ids(got, apiKeyID), want)
		}
	}
}

func testAPIKeyBadCursor(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	e.apiKey(t, org.ID, "bot")
	for _, c := range badCursors {
		_, _, err := e.s.ListAPIKeys(e.ctx, org.ID, patchbay.APIKeyFilter{Page: patchbay.Page{Cursor: c}})
		wantCode(t, err, patchbay.EINVALID, "ListAPIKeys with cursor "+c)
	}
}
