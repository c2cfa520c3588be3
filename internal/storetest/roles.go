package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

var roleTests = []testCase{
	{"CreateFindList", testRoleCreateFindList},
	{"Update", testRoleUpdate},
	{"DuplicateName", testRoleDuplicateName},
	{"InvalidCapabilities", testRoleInvalidCapabilities},
	{"BuiltinNames", testRoleBuiltinNames},
	{"Delete", testRoleDelete},
	{"DeleteInUse", testRoleDeleteInUse},
	{"OrgIsolation", testRoleOrgIsolation},
}

// wantRole checks that got has every stored field of want.
func wantRole(t *testing.T, what string, got, want *patchbay.Role) {
	t.Helper()
	if got.ID != want.ID || got.OrgID != want.OrgID || got.Name != want.Name ||
		got.Description != want.Description || !slices.Equal(got.Capabilities, want.Capabilities) || got.Builtin {
		t.Errorf("%s:\n\tgot  %+v\n\twant %+v", what, *got, *want)
	}
	wantTime(t, what+" CreatedAt", got.CreatedAt, want.CreatedAt)
	wantTime(t, what+" UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func roleID(r *patchbay.Role) string { return r.ID }

func testRoleCreateFindList(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	r := &patchbay.Role{OrgID: org.ID, Name: "  Support ", Description: "Front line",
		Capabilities: []patchbay.Capability{patchbay.CapConnectionsRead, patchbay.CapDeliveriesRetry, patchbay.CapConnectionsRead}}
	must(t, e.s.CreateRole(e.ctx, r), "CreateRole")
	wantPrefix(t, "role ID", r.ID, "role_")
	if r.Name != "Support" {
		t.Errorf("Name = %q, want it trimmed", r.Name)
	}
	wantCaps := []patchbay.Capability{patchbay.CapConnectionsRead, patchbay.CapDeliveriesRetry}
	if !slices.Equal(r.Capabilities, wantCaps) {
		t.Errorf("Capabilities = %v, want duplicates dropped: %v", r.Capabilities, wantCaps)
	}
	wantTime(t, "CreatedAt", r.CreatedAt, e.now())
	wantTime(t, "UpdatedAt", r.UpdatedAt, e.now())

	got, err := e.s.FindRole(e.ctx, org.ID, r.ID)
	must(t, err, "FindRole")
	wantRole(t, "FindRole", got, r)

	_, err = e.s.FindRole(e.ctx, org.ID, "role_doesnotexist")
	wantCode(t, err, patchbay.ENOTFOUND, "FindRole of an unknown id")
	// Built-in roles are not stored.
	_, err = e.s.FindRole(e.ctx, org.ID, patchbay.RoleAdministrator)
	wantCode(t, err, patchbay.ENOTFOUND, "FindRole of a built-in role")

	e.clock.Advance(time.Second)
	auditor := e.role(t, org.ID, "Auditor") // no capabilities at all
	e.clock.Advance(time.Second)
	billing := e.role(t, org.ID, "Billing", patchbay.CapManagePaymentCredentials)

	list, err := e.s.ListRoles(e.ctx, org.ID)
	must(t, err, "ListRoles")
	wantIDs(t, "ListRoles (by name)", ids(list, roleID), []string{auditor.ID, billing.ID, r.ID})
	for _, got := range list {
		for _, want := range []*patchbay.Role{auditor, billing, r} {
			if got.ID == want.ID {
				wantRole(t, "ListRoles "+want.Name, got, want)
			}
		}
	}
}

func testRoleUpdate(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	r := e.role(t, org.ID, "Support", patchbay.CapConnectionsRead)
	other := e.role(t, org.ID, "Billing")
	created := r.CreatedAt

	e.clock.Advance(time.Hour)
	r.Name = "Operations"
	r.Description = "Runs connections"
	r.Capabilities = []patchbay.Capability{patchbay.CapConnectionsTest, patchbay.CapConnectionsPause}
	must(t, e.s.UpdateRole(e.ctx, r), "UpdateRole")
	wantTime(t, "UpdatedAt", r.UpdatedAt, e.now())
	wantTime(t, "CreatedAt", r.CreatedAt, created)
	got, err := e.s.FindRole(e.ctx, org.ID, r.ID)
	must(t, err, "FindRole")
	wantRole(t, "after update", got, r)

	// Renaming onto another role's name, in any case, conflicts.
	clash := *got
	clash.Name = "BILLING"
	wantCode(t, e.s.UpdateRole(e.ctx, &clash), patchbay.ECONFLICT, "UpdateRole onto another role's name")
	clash.Name = "Viewer"
	wantCode(t, e.s.UpdateRole(e.ctx, &clash), patchbay.ECONFLICT, "UpdateRole onto a built-in name")
	bad := *got
	bad.Capabilities = []patchbay.Capability{patchbay.CapDelete}
	wantCode(t, e.s.UpdateRole(e.ctx, &bad), patchbay.EINVALID, "UpdateRole granting delete")
	// Changing only the case of its own name is fine.
	self := *got
	self.Name = "OPERATIONS"
	must(t, e.s.UpdateRole(e.ctx, &self), "UpdateRole changing the case of its name")

	after, err := e.s.FindRole(e.ctx, org.ID, other.ID)
	must(t, err, "FindRole(other)")
	wantRole(t, "other role after failed renames", after, other)

	ghost := *got
	ghost.ID = "role_doesnotexist"
	ghost.Name = "Ghost"
	wantCode(t, e.s.UpdateRole(e.ctx, &ghost), patchbay.ENOTFOUND, "UpdateRole of an unknown id")
}

func testRoleDuplicateName(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	first := e.role(t, a.ID, "Support")
	for _, name := range []string{"Support", "support", " SUPPORT "} {
		err := e.s.CreateRole(e.ctx, &patchbay.Role{OrgID: a.ID, Name: name})
		wantCode(t, err, patchbay.ECONFLICT, "CreateRole("+name+") in the same org")
	}
	// Another org may use the name.
	inB := e.role(t, b.ID, "SUPPORT")
	for org, want := range map[string]string{a.ID: first.ID, b.ID: inB.ID} {
		list, err := e.s.ListRoles(e.ctx, org)
		must(t, err, "ListRoles")
		wantIDs(t, "roles of "+org, ids(list, roleID), []string{want})
	}
}

func testRoleInvalidCapabilities(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	for _, r := range []*patchbay.Role{
		{OrgID: org.ID, Name: "Deleter", Capabilities: []patchbay.Capability{patchbay.CapDelete}},
		{OrgID: org.ID, Name: "Mixed", Capabilities: []patchbay.Capability{patchbay.CapConnectionsRead, patchbay.CapDelete}},
		{OrgID: org.ID, Name: "Unknown", Capabilities: []patchbay.Capability{"connections:everything"}},
		{OrgID: org.ID, Name: "Empty", Capabilities: []patchbay.Capability{""}},
		{OrgID: org.ID, Name: "  "},
		{OrgID: org.ID, Name: strings.Repeat("r", 101)},
	} {
		wantCode(t, e.s.CreateRole(e.ctx, r), patchbay.EINVALID, "CreateRole("+r.Name+")")
	}
	list, err := e.s.ListRoles(e.ctx, org.ID)
	must(t, err, "ListRoles")
	if len(list) != 0 {
		t.Errorf("ListRoles after invalid creates has %d roles, want 0", len(list))
	}
}

func testRoleBuiltinNames(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	for _, name := range []string{"Administrator", "administrator", "ADMINISTRATOR", " Editor ", "viewer"} {
		err := e.s.CreateRole(e.ctx, &patchbay.Role{OrgID: org.ID, Name: name})
		wantCode(t, err, patchbay.ECONFLICT, "CreateRole("+name+")")
	}
	list, err := e.s.ListRoles(e.ctx, org.ID)
	must(t, err, "ListRoles")
	if len(list) != 0 {
		t.Errorf("ListRoles has %d roles, want 0", len(list))
	}
}

func testRoleDelete(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	r := e.role(t, org.ID, "Support")
	keep := e.role(t, org.ID, "Billing")
	must(t, e.s.DeleteRole(e.ctx, org.ID, r.ID), "DeleteRole")
	_, err := e.s.FindRole(e.ctx, org.ID, r.ID)
	wantCode(t, err, patchbay.ENOTFOUND, "FindRole after delete")
	wantCode(t, e.s.DeleteRole(e.ctx, org.ID, r.ID), patchbay.ENOTFOUND, "second DeleteRole")
	wantCode(t, e.s.DeleteRole(e.ctx, org.ID, patchbay.RoleEditor), patchbay.ENOTFOUND, "DeleteRole of a built-in role")
	list, err := e.s.ListRoles(e.ctx, org.ID)
	must(t, err, "ListRoles")
	wantIDs(t, "roles after delete", ids(list, roleID), []string{keep.ID})
	// The name is free again.
	e.role(t, org.ID, "Support")
}

func testRoleDeleteInUse(t *testing.T, e *env) {
	org := e.org(t, "Acme")

	// Held by a user.
	r := e.role(t, org.ID, "Support")
	u := e.user(t, org.ID, "alice@example.com")
	u.RoleID = r.ID
	must(t, e.s.UpdateUser(e.ctx, u), "UpdateUser")
	wantCode(t, e.s.DeleteRole(e.ctx, org.ID, r.ID), patchbay.ECONFLICT, "DeleteRole held by a user")
	_, err := e.s.FindRole(e.ctx, org.ID, r.ID)
	must(t, err, "FindRole after refused delete")
	u.RoleID = patchbay.RoleViewer
	must(t, e.s.UpdateUser(e.ctx, u), "UpdateUser")
	must(t, e.s.DeleteRole(e.ctx, org.ID, r.ID), "DeleteRole once the user moved")

	// Held by an active API key, then only by a revoked one.
	r2 := e.role(t, org.ID, "Automation")
	k, _ := newAPIKey(org.ID, "ci")
	k.RoleID = r2.ID
	must(t, e.s.CreateAPIKey(e.ctx, k), "CreateAPIKey")
	wantCode(t, e.s.DeleteRole(e.ctx, org.ID, r2.ID), patchbay.ECONFLICT, "DeleteRole held by an active key")
	_, err = e.s.FindRole(e.ctx, org.ID, r2.ID)
	must(t, err, "FindRole after refused delete")
	_, err = e.s.RevokeAPIKey(e.ctx, org.ID, k.ID, e.clock.Now())
	must(t, err, "RevokeAPIKey")
	must(t, e.s.DeleteRole(e.ctx, org.ID, r2.ID), "DeleteRole held only by a revoked key")
	_, err = e.s.FindRole(e.ctx, org.ID, r2.ID)
	wantCode(t, err, patchbay.ENOTFOUND, "FindRole after delete")
}

func testRoleOrgIsolation(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	r := e.role(t, a.ID, "Support", patchbay.CapConnectionsRead)
	rb := e.role(t, b.ID, "Billing")

	_, err := e.s.FindRole(e.ctx, b.ID, r.ID)
	wantCode(t, err, patchbay.ENOTFOUND, "FindRole with another org's id")

	e.clock.Advance(time.Minute)
	hijack := *r
	hijack.OrgID = b.ID
	hijack.Name = "Hijacked"
	hijack.Capabilities = []patchbay.Capability{patchbay.CapUsersManage}
	wantCode(t, e.s.UpdateRole(e.ctx, &hijack), patchbay.ENOTFOUND, "UpdateRole through another org")
	wantCode(t, e.s.DeleteRole(e.ctx, b.ID, r.ID), patchbay.ENOTFOUND, "DeleteRole through another org")

	got, err := e.s.FindRole(e.ctx, a.ID, r.ID)
	must(t, err, "FindRole in own org")
	wantRole(t, "role after cross-org update and delete", got, r)

	for org, want := range map[string][]string{a.ID: {r.ID}, b.ID: {rb.ID}, "org_doesnotexist": {}} {
		list, err := e.s.ListRoles(e.ctx, org)
		must(t, err, "ListRoles")
		wantIDs(t, "ListRoles("+org+")", ids(list, roleID), want)
	}
}
