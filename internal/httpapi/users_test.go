package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
)

func TestUsersAndRoles(t *testing.T) {
	f := newFixture(t)
	a := f.newOrg("Org A", "admin@a.example")

	// A custom role, then a user holding it, with a generated password shown once.
	var role client.Role
	f.must(http.StatusCreated, "POST", "/v1/roles", a.APIKey, map[string]any{
		"name": "Support", "description": "Reads and tests", "capabilities": []string{"connections:read", "connections:test"}}, &role)
	if role.Builtin || len(role.Capabilities) != 2 {
		t.Fatalf("role %+v", role)
	}
	var u client.CreatedUser
	f.must(http.StatusCreated, "POST", "/v1/users", a.APIKey, map[string]any{"email": "Sam@A.example", "name": "Sam", "role_id": role.ID}, &u)
	if u.Email != "sam@a.example" || len(u.Password) < patchbay.MinPasswordLength || !u.MustChangePassword {
		t.Fatalf("user %+v", u)
	}
	stored, err := f.store.FindUser(context.Background(), a.Org.ID, u.ID)
	if err != nil || !patchbay.CheckPassword(stored.PasswordHash, u.Password) || strings.Contains(stored.PasswordHash, u.Password) {
		t.Fatalf("stored password hash does not check: %v", err)
	}
	w := f.do("GET", "/v1/users/"+u.ID, a.APIKey, nil)
	if strings.Contains(w.Body.String(), u.Password) || strings.Contains(w.Body.String(), "argon2") {
		t.Fatalf("user answer holds the password or its hash: %s", w.Body)
	}
	// A chosen password is never echoed, and a short one is refused.
	var chosen client.CreatedUser
	f.must(http.StatusCreated, "POST", "/v1/users", a.APIKey, map[string]any{"email": "kim@a.example", "role_id": "viewer", "password": "correct horse battery"}, &chosen)
	if chosen.Password != "" || chosen.MustChangePassword {
		t.Fatalf("chosen password user %+v", chosen)
	}
	if w := f.do("POST", "/v1/users", a.APIKey, map[string]any{"email": "lee@a.example", "role_id": "viewer", "password": "short"}); w.Code != http.StatusBadRequest {
		t.Fatalf("short password: %d", w.Code)
	}

	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
	}{
		{"duplicate e-mail", "POST", "/v1/users", map[string]any{"email": "sam@a.example", "role_id": "viewer"}, http.StatusConflict},
		{"bad e-mail", "POST", "/v1/users", map[string]any{"email": "not an address", "role_id": "viewer"}, http.StatusBadRequest},
		{"duplicate role name", "POST", "/v1/roles", map[string]any{"name": "support", "capabilities": []string{}}, http.StatusConflict},
		{"built-in role name", "POST", "/v1/roles", map[string]any{"name": "Viewer", "capabilities": []string{}}, http.StatusConflict},
		{"delete capability", "POST", "/v1/roles", map[string]any{"name": "Deleter", "capabilities": []string{"delete"}}, http.StatusBadRequest},
		{"change built-in", "PUT", "/v1/roles/viewer", map[string]any{"name": "Viewer2", "capabilities": []string{}}, http.StatusBadRequest},
		{"delete built-in", "DELETE", "/v1/roles/administrator", nil, http.StatusBadRequest},
		{"delete held role", "DELETE", "/v1/roles/" + role.ID, nil, http.StatusConflict},
	} {
		if w := f.do(tc.method, tc.path, a.APIKey, tc.body); w.Code != tc.status {
			t.Errorf("%s: %d, want %d; %s", tc.name, w.Code, tc.status, w.Body)
		}
	}

	// Moving the user off the role frees it for deletion.
	var moved client.User
	f.must(http.StatusOK, "PATCH", "/v1/users/"+u.ID, a.APIKey, map[string]any{"role_id": "editor"}, &moved)
	if moved.RoleID != "editor" || moved.Name != "Sam" {
		t.Fatalf("moved %+v", moved)
	}
	f.must(http.StatusNoContent, "DELETE", "/v1/roles/"+role.ID, a.APIKey, nil, nil)
	f.must(http.StatusNoContent, "DELETE", "/v1/users/"+u.ID, a.APIKey, nil, nil)
	f.must(http.StatusNotFound, "GET", "/v1/users/"+u.ID, a.APIKey, nil, nil)

	var roles client.List[client.Role]
	f.must(http.StatusOK, "GET", "/v1/roles", a.APIKey, nil, &roles)
	if len(roles.Data) != 3 || !roles.Data[0].Builtin {
		t.Fatalf("roles after delete: %+v", roles.Data)
	}
	var acts client.List[client.Activity]
	f.must(http.StatusOK, "GET", "/v1/activity?action=role.*", a.APIKey, nil, &acts)
	if len(acts.Data) != 2 || acts.Data[0].Action != "role.delete" {
		t.Fatalf("role activity %+v", acts.Data)
	}
}

// TestActivityPaging walks the activity log page by page and by time range.
func TestActivityPaging(t *testing.T) {
	f := newFixture(t)
	a := f.newOrg("Org A", "admin@a.example")
	start := f.clock.Now()
	for i := 0; i < 7; i++ {
		f.clock.Advance(1e9)
		f.must(http.StatusCreated, "POST", "/v1/api-keys", a.APIKey, map[string]any{"name": "k"}, nil)
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		var page client.List[client.Activity]
		f.must(http.StatusOK, "GET", "/v1/activity?action=api_key.create&limit=3&cursor="+cursor, a.APIKey, nil, &page)
		for _, act := range page.Data {
			if seen[act.ID] {
				t.Fatalf("activity %s on two pages", act.ID)
			}
			seen[act.ID] = true
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		} else if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 8 { // set-up key plus 7
		t.Fatalf("saw %d entries, want 8", len(seen))
	}
	var window client.List[client.Activity]
	since := start.Add(2e9).Format("2006-01-02T15:04:05Z")
	until := start.Add(5e9).Format("2006-01-02T15:04:05Z")
	f.must(http.StatusOK, "GET", "/v1/activity?since="+since+"&until="+until, a.APIKey, nil, &window)
	if len(window.Data) != 3 {
		t.Fatalf("window [2s,5s) holds %d entries, want 3", len(window.Data))
	}
	var byActor client.List[client.Activity]
	f.must(http.StatusOK, "GET", "/v1/activity?actor="+a.Key.ID, a.APIKey, nil, &byActor)
	if len(byActor.Data) != 7 {
		t.Fatalf("by actor: %d, want 7", len(byActor.Data))
	}
}
