package webui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/webui"
)

// A user whose password was generated is kept on the password page until
// they choose their own; then the old password no longer signs in.
func TestMustChangePassword(t *testing.T) {
	st := newStack(t, patchbay.Now, webui.Config{})
	u := st.user("new@acme.test", patchbay.RoleEditor)
	u.MustChangePassword = true
	if err := st.store.UpdateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	early := st.browser() // another sign-in, ended by the change
	early.login(u.Email)
	b := st.browser()
	b.login(u.Email)
	res, _ := b.do("GET", "/deliveries", nil)
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/account/password?next=") {
		t.Fatalf("GET /deliveries with a generated password: %d to %q, want the password page", res.StatusCode, loc)
	}
	_, page := b.do("GET", "/account/password?next=%2Fdeliveries", nil)
	m := csrfRE.FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "generated for you") {
		t.Fatalf("password page: %s", page)
	}
	token := m[1]
	if res, _ := b.do("POST", "/deliveries/retry", url.Values{"csrf": {token}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("a write before the change: %d, want 403", res.StatusCode)
	}

	const fresh = "a password of my own choosing"
	for _, tc := range []struct {
		name                   string
		current, next, confirm string
		want                   string
	}{
		{"wrong current", "not it at all", fresh, fresh, "current password is not right"},
		{"confirmation differs", password, fresh, fresh + "!", "differ"},
		{"too short", password, "short", "short", "12 to 1024 characters"},
		{"unchanged", password, password, password, "must differ"},
	} {
		res, body := b.do("POST", "/account/password", url.Values{"csrf": {token}, "current_password": {tc.current},
			"new_password": {tc.next}, "confirm_password": {tc.confirm}})
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d, want 400 saying %q", tc.name, res.StatusCode, tc.want)
		}
	}
	res, _ = b.do("POST", "/account/password", url.Values{"csrf": {token}, "current_password": {password},
		"new_password": {fresh}, "confirm_password": {fresh}, "next": {"/deliveries"}})
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/deliveries") {
		t.Fatalf("change: %d to %q, want a redirect to /deliveries", res.StatusCode, loc)
	}
	if res, _ := b.do("GET", "/deliveries", nil); res.StatusCode != http.StatusOK {
		t.Errorf("GET /deliveries after the change: %d", res.StatusCode)
	}
	stored, err := st.store.FindUser(context.Background(), u.OrgID, u.ID)
	if err != nil || stored.MustChangePassword || !patchbay.CheckPassword(stored.PasswordHash, fresh) {
		t.Errorf("stored user %+v (%v): want the new password and the flag cleared", stored, err)
	}
	if res, _ := early.do("GET", "/connections", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("a session from before the change: %d, want 303 to sign in again", res.StatusCode)
	}
	other := st.browser()
	if res, _ := other.do("POST", "/login", url.Values{"email": {u.Email}, "password": {password}}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("sign-in with the old password: %d, want 401", res.StatusCode)
	}
	if res, _ := other.do("POST", "/login", url.Values{"email": {u.Email}, "password": {fresh}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("sign-in with the new password: %d, want 303", res.StatusCode)
	}
}
