package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

var userTests = []testCase{
	{"CreateFind", testUserCreateFind},
	{"FindByEmail", testUserFindByEmail},
	{"DuplicateEmail", testUserDuplicateEmail},
	{"Invalid", testUserInvalid},
	{"Update", testUserUpdate},
	{"Delete", testUserDelete},
	{"OrgIsolation", testUserOrgIsolation},
	{"Pagination", testUserPagination},
	{"PaginationSameInstant", testUserPaginationSameInstant},
	{"BadCursor", testUserBadCursor},
	{"ConcurrentCreate", testUserConcurrentCreate},
}

// wantUser checks that got has every stored field of want.
func wantUser(t *testing.T, what string, got, want *patchbay.User) {
	t.Helper()
	if got.ID != want.ID || got.OrgID != want.OrgID || got.Email != want.Email || got.Name != want.Name ||
		got.RoleID != want.RoleID || got.PasswordHash != want.PasswordHash ||
		got.MustChangePassword != want.MustChangePassword {
		t.Errorf("%s:\n\tgot  %+v\n\twant %+v", what, *got, *want)
	}
	wantTimePtr(t, what+" LastLoginAt", got.LastLoginAt, want.LastLoginAt)
	wantTime(t, what+" CreatedAt", got.CreatedAt, want.CreatedAt)
	wantTime(t, what+" UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func userID(u *patchbay.User) string { return u.ID }

func testUserCreateFind(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	u := &patchbay.User{OrgID: org.ID, Email: "  Alice@Example.COM ", Name: " Alice Liddell ",
		RoleID: patchbay.RoleEditor, PasswordHash: "$argon2id$hash-1", MustChangePassword: true}
	must(t, e.s.CreateUser(e.ctx, u), "CreateUser")
	wantPrefix(t, "user ID", u.ID, "usr_")
	if u.Email != "alice@example.com" {
		t.Errorf("Email = %q, want it normalised to %q", u.Email, "alice@example.com")
	}
	if u.Name != "Alice Liddell" {
		t.Errorf("Name = %q, want it trimmed", u.Name)
	}
	wantTime(t, "CreatedAt", u.CreatedAt, e.now())
	wantTime(t, "UpdatedAt", u.UpdatedAt, e.now())
	if u.LastLoginAt != nil {
		t.Errorf("LastLoginAt = %v, want nil", u.LastLoginAt)
	}

	got, err := e.s.FindUser(e.ctx, org.ID, u.ID)
	must(t, err, "FindUser")
	wantUser(t, "FindUser", got, u)

	_, err = e.s.FindUser(e.ctx, org.ID, "usr_doesnotexist")
	wantCode(t, err, patchbay.ENOTFOUND, "FindUser of an unknown id")
}

func testUserFindByEmail(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	alice := e.user(t, a.ID, "Alice@Example.com")
	bob := e.user(t, b.ID, "bob@example.com")

	for _, email := range []string{"alice@example.com", "ALICE@EXAMPLE.COM", "  Alice@example.com  "} {
		got, err := e.s.FindUserByEmail(e.ctx, email)
		must(t, err, "FindUserByEmail("+email+")")
		wantUser(t, "FindUserByEmail("+email+")", got, alice)
	}
	// Sign-in looks across orgs.
	got, err := e.s.FindUserByEmail(e.ctx, "BOB@example.com")
	must(t, err, "FindUserByEmail(bob)")
	wantUser(t, "FindUserByEmail(bob)", got, bob)

	for _, email := range []string{"carol@example.com", "", "alice@example.co"} {
		_, err := e.s.FindUserByEmail(e.ctx, email)
		wantCode(t, err, patchbay.ENOTFOUND, "FindUserByEmail("+email+")")
	}
}

func testUserDuplicateEmail(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	first := e.user(t, a.ID, "alice@example.com")
	for _, dup := range []struct{ org, email string }{
		{a.ID, "alice@example.com"},
		{a.ID, "ALICE@Example.Com"},
		{b.ID, " alice@EXAMPLE.com"}, // addresses are unique across orgs
	} {
		u := &patchbay.User{OrgID: dup.org, Email: dup.email, RoleID: patchbay.RoleViewer, PasswordHash: "h"}
		wantCode(t, e.s.CreateUser(e.ctx, u), patchbay.ECONFLICT, "CreateUser("+dup.email+")")
	}
	for _, org := range []string{a.ID, b.ID} {
		list, _, err := e.s.ListUsers(e.ctx, org, patchbay.UserFilter{})
		must(t, err, "ListUsers")
		want := []string{}
		if org == a.ID {
			want = []string{first.ID}
		}
		wantIDs(t, "users after duplicate creates", ids(list, userID), want)
	}
}

func testUserInvalid(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	for _, u := range []*patchbay.User{
		{OrgID: org.ID, Email: "", RoleID: patchbay.RoleViewer},
		{OrgID: org.ID, Email: "not-an-address", RoleID: patchbay.RoleViewer},
		{OrgID: org.ID, Email: "Alice <alice@example.com>", RoleID: patchbay.RoleViewer},
		{OrgID: org.ID, Email: "alice@example.com", RoleID: ""},
	} {
		wantCode(t, e.s.CreateUser(e.ctx, u), patchbay.EINVALID, fmt.Sprintf("CreateUser(%q, role %q)", u.Email, u.RoleID))
	}
	list, _, err := e.s.ListUsers(e.ctx, org.ID, patchbay.UserFilter{})
	must(t, err, "ListUsers")
	if len(list) != 0 {
		t.Errorf("ListUsers after invalid creates has %d users, want 0", len(list))
	}
}

func testUserUpdate(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	u := e.user(t, org.ID, "alice@example.com")
	u.MustChangePassword = true
	created := u.CreatedAt

	e.clock.Advance(90 * time.Minute)
	login := e.clock.Now().Add(-time.Minute) // not in UTC: the store must normalise
	u.Name = "Alice Renamed"
	u.RoleID = "role_custom"
	u.PasswordHash = "$argon2id$hash-2"
	u.MustChangePassword = false
	u.LastLoginAt = &login
	must(t, e.s.UpdateUser(e.ctx, u), "UpdateUser")
	wantTime(t, "UpdatedAt after update", u.UpdatedAt, e.now())
	wantTime(t, "CreatedAt after update", u.CreatedAt, created)

	got, err := e.s.FindUser(e.ctx, org.ID, u.ID)
	must(t, err, "FindUser")
	wantUser(t, "after update", got, u)

	// And back: flags and last login clear again.
	e.clock.Advance(time.Second)
	got.MustChangePassword = true
	got.LastLoginAt = nil
	must(t, e.s.UpdateUser(e.ctx, got), "second UpdateUser")
	again, err := e.s.FindUser(e.ctx, org.ID, u.ID)
	must(t, err, "FindUser")
	wantUser(t, "after second update", again, got)

	ghost := *u
	ghost.ID = "usr_doesnotexist"
	wantCode(t, e.s.UpdateUser(e.ctx, &ghost), patchbay.ENOTFOUND, "UpdateUser of an unknown id")
	bad := *again
	bad.RoleID = ""
	wantCode(t, e.s.UpdateUser(e.ctx, &bad), patchbay.EINVALID, "UpdateUser without a role")
}

func testUserDelete(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	u := e.user(t, org.ID, "alice@example.com")
	keep := e.user(t, org.ID, "bob@example.com")

	must(t, e.s.DeleteUser(e.ctx, org.ID, u.ID), "DeleteUser")
	_, err := e.s.FindUser(e.ctx, org.ID, u.ID)
	wantCode(t, err, patchbay.ENOTFOUND, "FindUser after delete")
	_, err = e.s.FindUserByEmail(e.ctx, u.Email)
	wantCode(t, err, patchbay.ENOTFOUND, "FindUserByEmail after delete")
	wantCode(t, e.s.DeleteUser(e.ctx, org.ID, u.ID), patchbay.ENOTFOUND, "second DeleteUser")

	list, _, err := e.s.ListUsers(e.ctx, org.ID, patchbay.UserFilter{})
	must(t, err, "ListUsers")
	wantIDs(t, "users after delete", ids(list, userID), []string{keep.ID})

	// The address is free again.
	again := e.user(t, org.ID, "alice@example.com")
	if again.ID == u.ID {
		t.Errorf("a new user reused the deleted user's id %q", u.ID)
	}
}

func testUserOrgIsolation(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	alice := e.user(t, a.ID, "alice@example.com")
	bob := e.user(t, b.ID, "bob@example.com")

	_, err := e.s.FindUser(e.ctx, b.ID, alice.ID)
	wantCode(t, err, patchbay.ENOTFOUND, "FindUser with another org's id")

	e.clock.Advance(time.Minute)
	hijack := *alice
	hijack.OrgID = b.ID
	hijack.Name = "Hijacked"
	hijack.RoleID = patchbay.RoleAdministrator
	hijack.PasswordHash = "$argon2id$attacker"
	wantCode(t, e.s.UpdateUser(e.ctx, &hijack), patchbay.ENOTFOUND, "UpdateUser through another org")
	wantCode(t, e.s.DeleteUser(e.ctx, b.ID, alice.ID), patchbay.ENOTFOUND, "DeleteUser through another org")

	got, err := e.s.FindUser(e.ctx, a.ID, alice.ID)
	must(t, err, "FindUser in own org")
	wantUser(t, "user after cross-org update and delete", got, alice)

	for _, c := range []struct {
		org  string
		want []string
	}{{a.ID, []string{alice.ID}}, {b.ID, []string{bob.ID}}, {"org_doesnotexist", []string{}}} {
		list, next, err := e.s.ListUsers(e.ctx, c.org, patchbay.UserFilter{})
		must(t, err, "ListUsers")
		wantIDs(t, "ListUsers("+c.org+")", ids(list, userID), c.want)
		if next != "" {
			t.Errorf("ListUsers(%s) next cursor = %q, want none", c.org, next)
		}
	}
}

func testUserPagination(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	var created []string
	for i := range 5 {
		created = append(created, e.user(t, a.ID, fmt.Sprintf("a%d@example.com", i)).ID)
		e.user(t, b.ID, fmt.Sprintf("b%d@example.com", i)) // interleaved rows of another org
		e.clock.Advance(time.Second)
	}
	want := reversed(created) // newest first

	list := func(p patchbay.Page) ([]*patchbay.User, string, error) {
		return e.s.ListUsers(e.ctx, a.ID, patchbay.UserFilter{Page: p})
	}
	for _, limit := range []int{1, 2, 3, 5, 6} {
		wantIDs(t, fmt.Sprintf("walk with limit %d", limit), ids(walk(t, limit, list), userID), want)
	}
	// No limit means the default page size: everything here, no cursor.
	all, next, err := list(patchbay.Page{})
	must(t, err, "ListUsers without a limit")
	wantIDs(t, "ListUsers without a limit", ids(all, userID), want)
	if next != "" {
		t.Errorf("next cursor = %q on the only page", next)
	}
}

// testUserPaginationSameInstant creates users at one instant, so the order
// rests on the id alone: every row must still come exactly once.
func testUserPaginationSameInstant(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	var created []string
	for i := range 7 {
		created = append(created, e.user(t, org.ID, fmt.Sprintf("u%d@example.com", i)).ID)
	}
	got := ids(walk(t, 2, func(p patchbay.Page) ([]*patchbay.User, string, error) {
		return e.s.ListUsers(e.ctx, org.ID, patchbay.UserFilter{Page: p})
	}), userID)
	slices.Sort(got)
	slices.Sort(created)
	wantIDs(t, "walk over users created at one instant (sorted)", got, created)
}

func testUserBadCursor(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	e.user(t, org.ID, "alice@example.com")
	for _, c := range badCursors {
		_, _, err := e.s.ListUsers(e.ctx, org.ID, patchbay.UserFilter{Page: patchbay.Page{Cursor: c}})
		wantCode(t, err, patchbay.EINVALID, "ListUsers with cursor "+c)
	}
}

// testUserConcurrentCreate checks that concurrent writers all succeed (on
// SQLite: they queue for the one writer instead of failing with SQLITE_BUSY).
func testUserConcurrentCreate(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			u := &patchbay.User{OrgID: org.ID, Email: fmt.Sprintf("u%d@example.com", i), RoleID: patchbay.RoleViewer, PasswordHash: "h"}
			if errs[i] = e.s.CreateUser(e.ctx, u); errs[i] == nil {
				_, errs[i] = e.s.FindUser(e.ctx, org.ID, u.ID)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		must(t, err, fmt.Sprintf("concurrent create %d", i))
	}
	list, _, err := e.s.ListUsers(e.ctx, org.ID, patchbay.UserFilter{})
	must(t, err, "ListUsers")
	if len(list) != n {
		t.Errorf("ListUsers after %d concurrent creates has %d users", n, len(list))
	}
}
