package httpapi_test

import (
	"bytes"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
)

// TestAPIKeyLifecycle creates a key, uses it, lists it, revokes it and sees
// it refused at once, with every step in the activity log and the secret
// shown exactly once.
func TestAPIKeyLifecycle(t *testing.T) {
	f := newFixture(t)
	a := f.newOrg("Org A", "admin@a.example")

	var created client.CreatedAPIKey
	f.must(http.StatusCreated, "POST", "/v1/api-keys", a.APIKey,
		map[string]any{"name": "billing sync", "role_id": patchbay.RoleEditor, "rate_limit": 100}, &created)
	if !strings.HasPrefix(created.Key, created.Prefix+"_") || created.RoleID != patchbay.RoleEditor || created.RateLimit != 100 {
		t.Fatalf("created %+v", created)
	}

	// The new key works and is an Editor: it reads activity, cannot manage keys.
	f.must(http.StatusOK, "GET", "/v1/activity", created.Key, nil, nil)
	if w := f.do("GET", "/v1/api-keys", created.Key, nil); w.Code != http.StatusForbidden {
		t.Fatalf("editor listing keys: %d", w.Code)
	}

	// Listing and getting never show the secret.
	w := f.do("GET", "/v1/api-keys", a.APIKey, nil)
	if strings.Contains(w.Body.String(), created.Key) || strings.Contains(w.Body.String(), `"key"`) {
		t.Fatalf("list shows a secret: %s", w.Body)
	}
	var got client.APIKey
	f.must(http.StatusOK, "GET", "/v1/api-keys/"+created.ID, a.APIKey, nil, &got)
	if got.LastUsedAt == nil || !got.LastUsedAt.Equal(f.clock.Now()) {
		t.Fatalf("last used %v, want %v", got.LastUsedAt, f.clock.Now())
	}

	// The secret is not stored: not in the database file, only its hash.
	if _, err := f.store.DB().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"patchbay.db", "patchbay.db-wal"} {
		raw, _ := os.ReadFile(dbPath(t, f) + strings.TrimPrefix(name, "patchbay.db"))
		if bytes.Contains(raw, []byte(created.Key)) || bytes.Contains(raw, []byte(a.APIKey)) {
			t.Fatalf("%s holds an API key secret", name)
		}
	}

	// Revoke: refused from the next request on, even by the same process.
	var revoked client.APIKey
	f.must(http.StatusOK, "DELETE", "/v1/api-keys/"+created.ID, a.APIKey, nil, &revoked)
	if revoked.RevokedAt == nil {
		t.Fatal("revoked_at not set")
	}
	w = f.do("GET", "/v1/activity", created.Key, nil)
	if w.Code != http.StatusUnauthorized || errorCode(t, w) != patchbay.EUNAUTHORIZED {
		t.Fatalf("revoked key: %d %s", w.Code, w.Body)
	}
	// Revoked keys leave the default list but not the full one.
	var list client.List[client.APIKey]
	f.must(http.StatusOK, "GET", "/v1/api-keys", a.APIKey, nil, &list)
	for _, k := range list.Data {
		if k.ID == created.ID {
			t.Fatal("revoked key in default list")
		}
	}
	f.must(http.StatusOK, "GET", "/v1/api-keys?include_revoked=true", a.APIKey, nil, &list)
	if len(list.Data) != 2 {
		t.Fatalf("full list has %d keys, want 2", len(list.Data))
	}

	// The activity log tells the story, with the acting key as actor.
	var acts client.List[client.Activity]
	f.must(http.StatusOK, "GET", "/v1/activity?target_id="+created.ID, a.APIKey, nil, &acts)
	if len(acts.Data) != 2 || acts.Data[0].Action != "api_key.revoke" || acts.Data[1].Action != "api_key.create" {
		t.Fatalf("activity %+v", acts.Data)
	}
	for _, act := range acts.Data {
		if act.ActorID != a.Key.ID || act.ActorName != a.Key.Prefix || act.Outcome != patchbay.OutcomeSuccess {
			t.Fatalf("activity actor %+v", act)
		}
	}
}

func dbPath(t *testing.T, f *fixture) string {
	var seq int
	var name, file string
	if err := f.store.DB().QueryRow(`PRAGMA database_list`).Scan(&seq, &name, &file); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestAPIKeyRateLimit spends a key's allowance, gets 429 with Retry-After,
// and gets through again once the bucket refills.
func TestAPIKeyRateLimit(t *testing.T) {
	f := newFixture(t)
	a := f.newOrg("Org A", "admin@a.example")
	key, _ := f.newKey(a.Org.ID, patchbay.RoleViewer, nil, 3)
	for i := 0; i < 3; i++ {
		f.must(http.StatusOK, "GET", "/v1/me", key, nil, nil)
	}
	w := f.do("GET", "/v1/me", key, nil)
	if w.Code != http.StatusTooManyRequests || errorCode(t, w) != patchbay.ERATELIMIT {
		t.Fatalf("4th request: %d %s", w.Code, w.Body)
	}
	retry, err := strconv.Atoi(w.Header().Get("Retry-After"))
	if err != nil || retry < 1 || retry > 20 {
		t.Fatalf("Retry-After %q", w.Header().Get("Retry-After"))
	}
	// Another key of the same org is not affected.
	f.must(http.StatusOK, "GET", "/v1/me", a.APIKey, nil, nil)
	f.clock.Advance(time.Duration(retry) * time.Second)
	f.must(http.StatusOK, "GET", "/v1/me", key, nil, nil)
}

// TestGrantingNeedsHolding checks that nobody hands out more than they hold.
func TestGrantingNeedsHolding(t *testing.T) {
	f := newFixture(t)
	a := f.newOrg("Org A", "admin@a.example")
	keyMgr := f.newRole(a.Org.ID, "Key manager", patchbay.CapAPIKeysManage, patchbay.CapRolesManage, patchbay.CapUsersManage)
	key, _ := f.newKey(a.Org.ID, keyMgr.ID, nil, 0)

	for _, tc := range []struct {
		path string
		body map[string]any
	}{
		{"/v1/api-keys", map[string]any{"name": "escalate", "role_id": patchbay.RoleAdministrator}},
		{"/v1/users", map[string]any{"email": "x@a.example", "role_id": patchbay.RoleAdministrator}},
		{"/v1/roles", map[string]any{"name": "Bigger", "capabilities": []string{"settings:manage"}}},
	} {
		w := f.do("POST", tc.path, key, tc.body)
		if w.Code != http.StatusForbidden || errorCode(t, w) != patchbay.EFORBIDDEN {
			t.Errorf("POST %s: %d %s", tc.path, w.Code, w.Body)
		}
	}
	// Within what it holds, it may: a key of its own role, narrowed by scope.
	var k client.CreatedAPIKey
	f.must(http.StatusCreated, "POST", "/v1/api-keys", key,
		map[string]any{"name": "narrow", "scopes": []string{"api_keys:manage"}}, &k)
	var me client.Me
	f.must(http.StatusOK, "GET", "/v1/me", k.Key, nil, &me)
	if len(me.Capabilities) != 1 || me.Capabilities[0] != "api_keys:manage" {
		t.Fatalf("scoped key holds %v", me.Capabilities)
	}
}

// TestExpiredKey checks a key stops working at its expiry.
func TestExpiredKey(t *testing.T) {
	f := newFixture(t)
	a := f.newOrg("Org A", "admin@a.example")
	var k client.CreatedAPIKey
	f.must(http.StatusCreated, "POST", "/v1/api-keys", a.APIKey,
		map[string]any{"name": "short", "expires_at": f.clock.Now().Add(time.Hour)}, &k)
	f.must(http.StatusOK, "GET", "/v1/me", k.Key, nil, nil)
	f.clock.Advance(time.Hour)
	if w := f.do("GET", "/v1/me", k.Key, nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("expired key: %d", w.Code)
	}
	if w := f.do("POST", "/v1/api-keys", a.APIKey, map[string]any{"name": "past", "expires_at": f.clock.Now().Add(-time.Minute)}); w.Code != http.StatusBadRequest {
		t.Fatalf("key expiring in the past: %d %s", w.Code, w.Body)
	}
}
