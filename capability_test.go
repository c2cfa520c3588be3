package patchbay_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/patchbay/patchbay"
)

// The capability strings are part of the API (role definitions, key scopes
// and /v1/me carry them), so the tests spell them out rather than reuse the
// constants.

// designViewer, designEditor and designAdministrator are DESIGN.md's
// capability table, row by row.
var (
	designViewer = []string{
		"connections:read", "connectors:read", "deliveries:read", // list connections, connector library, delivery log
	}
	designEditor = append(slices.Clone(designViewer),
		"connections:test", "connections:pause", "deliveries:retry", // test, pause / resume, retry
		"activity:read", // read activity log
	)
	designAdministrator = append(slices.Clone(designEditor),
		"connections:create", "connections:scopes", "connections:refresh", "connections:disconnect",
		"endpoints:manage", "api_keys:manage", "users:manage", "roles:manage", "settings:manage",
		"manage_payment_credentials",
		"events:publish",    // not in DESIGN.md's table: publishing is the host platform's, through a key
		"sync:write",        // likewise: the host platform records its syncs (mappings) through a key
		"connections:proxy", // likewise: the host platform calls vendor APIs through a key
		"delete",            // deletes always need the Administrator
	)
)

// capStrings returns caps as sorted strings.
func capStrings(caps []patchbay.Capability) []string {
	out := make([]string, len(caps))
	for i, c := range caps {
		out[i] = string(c)
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestBuiltinRolesMatchDesign(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id, name string
		want     []string
	}{
		{patchbay.RoleViewer, "Viewer", designViewer},
		{patchbay.RoleEditor, "Editor", designEditor},
		{patchbay.RoleAdministrator, "Administrator", designAdministrator},
	}
	roles := patchbay.BuiltinRoles()
	if len(roles) != len(tests) {
		t.Fatalf("BuiltinRoles returned %d roles, want %d", len(roles), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			r := patchbay.BuiltinRole(tt.id)
			if r == nil {
				t.Fatalf("BuiltinRole(%q) = nil", tt.id)
			}
			if r.ID != tt.id || r.Name != tt.name || !r.Builtin || r.OrgID != "" {
				t.Errorf("role = {ID:%q Name:%q Builtin:%v OrgID:%q}, want {%q %q true \"\"}",
					r.ID, r.Name, r.Builtin, r.OrgID, tt.id, tt.name)
			}
			got := capStrings(r.Capabilities)
			if !slices.Equal(got, sorted(tt.want)) {
				t.Errorf("capabilities of %s:\n got %v\nwant %v", tt.id, got, sorted(tt.want))
			}
			if len(got) != len(slices.Compact(slices.Clone(got))) {
				t.Errorf("capabilities of %s hold duplicates: %v", tt.id, got)
			}
		})
	}
}

func TestAllCapabilities(t *testing.T) {
	t.Parallel()
	got := capStrings(patchbay.AllCapabilities)
	if !slices.Equal(got, sorted(designAdministrator)) {
		t.Errorf("AllCapabilities:\n got %v\nwant %v", got, sorted(designAdministrator))
	}
	for _, c := range patchbay.AllCapabilities {
		if !c.Valid() {
			t.Errorf("%q is in AllCapabilities but not Valid", c)
		}
	}
	for _, c := range []patchbay.Capability{"", "connections", "connections:nuke", "DELETE", "delete "} {
		if c.Valid() {
			t.Errorf("Capability(%q).Valid() = true, want false", c)
		}
	}
}

func TestCapDeleteOnlyAdministrator(t *testing.T) {
	t.Parallel()
	for _, r := range patchbay.BuiltinRoles() {
		has := slices.Contains(r.Capabilities, patchbay.CapDelete)
		if want := r.ID == patchbay.RoleAdministrator; has != want {
			t.Errorf("role %s holds CapDelete = %v, want %v", r.ID, has, want)
		}
	}
}

func TestBuiltinRolesAreCopies(t *testing.T) {
	t.Parallel()
	r := patchbay.BuiltinRole(patchbay.RoleViewer)
	r.Capabilities[0] = patchbay.CapDelete
	r.Capabilities = append(r.Capabilities, patchbay.CapUsersManage)
	if again := patchbay.BuiltinRole(patchbay.RoleViewer); slices.Contains(again.Capabilities, patchbay.CapDelete) ||
		slices.Contains(again.Capabilities, patchbay.CapUsersManage) {
		t.Fatalf("changing a returned built-in role changed the map: %v", again.Capabilities)
	}
	if patchbay.BuiltinRole("owner") != nil || patchbay.BuiltinRole("") != nil || patchbay.BuiltinRole("Viewer") != nil {
		t.Errorf("BuiltinRole returned a role for an unknown id")
	}
}

func TestRoleValidate(t *testing.T) {
	t.Parallel()
	c := func(caps ...patchbay.Capability) []patchbay.Capability { return caps }
	tests := []struct {
		name     string
		role     patchbay.Role
		code     string // "" for valid
		wantName string
		wantCaps []patchbay.Capability
	}{
		{name: "valid", role: patchbay.Role{Name: "Support", Capabilities: c(patchbay.CapConnectionsRead, patchbay.CapActivityRead)},
			wantName: "Support", wantCaps: c(patchbay.CapConnectionsRead, patchbay.CapActivityRead)},
		{name: "trims name", role: patchbay.Role{Name: "  Support \t"}, wantName: "Support", wantCaps: c()},
		{name: "no capabilities", role: patchbay.Role{Name: "Nobody"}, wantName: "Nobody", wantCaps: c()},
		{name: "dedups in order", role: patchbay.Role{Name: "Ops", Capabilities: c(patchbay.CapConnectionsTest,
			patchbay.CapConnectionsRead, patchbay.CapConnectionsTest, patchbay.CapConnectionsRead)},
			wantName: "Ops", wantCaps: c(patchbay.CapConnectionsTest, patchbay.CapConnectionsRead)},
		{name: "payment credentials grantable", role: patchbay.Role{Name: "Billing", Capabilities: c(patchbay.CapManagePaymentCredentials)},
			wantName: "Billing", wantCaps: c(patchbay.CapManagePaymentCredentials)},
		{name: "100-character name", role: patchbay.Role{Name: strings.Repeat("r", 100)},
			wantName: strings.Repeat("r", 100), wantCaps: c()},

		{name: "empty name", role: patchbay.Role{}, code: patchbay.EINVALID},
		{name: "blank name", role: patchbay.Role{Name: "   "}, code: patchbay.EINVALID},
		{name: "name too long", role: patchbay.Role{Name: strings.Repeat("r", 101)}, code: patchbay.EINVALID},
		{name: "built-in name", role: patchbay.Role{Name: "Administrator"}, code: patchbay.ECONFLICT},
		{name: "built-in name, other case", role: patchbay.Role{Name: "EDITOR"}, code: patchbay.ECONFLICT},
		{name: "built-in id", role: patchbay.Role{Name: " viewer "}, code: patchbay.ECONFLICT},
		{name: "CapDelete", role: patchbay.Role{Name: "Janitor", Capabilities: c(patchbay.CapConnectionsRead, patchbay.CapDelete)},
			code: patchbay.EINVALID},
		{name: "unknown capability", role: patchbay.Role{Name: "Odd", Capabilities: c("connections:nuke")}, code: patchbay.EINVALID},
		{name: "empty capability", role: patchbay.Role{Name: "Odd", Capabilities: c("")}, code: patchbay.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := tt.role
			orig := slices.Clone(r.Capabilities)
			err := r.Validate()
			if got := patchbay.ErrorCode(err); got != tt.code {
				t.Fatalf("Validate() code = %q (%v), want %q", got, err, tt.code)
			}
			if !slices.Equal(tt.role.Capabilities, orig) {
				t.Errorf("Validate changed the caller's capability slice: %v, was %v", tt.role.Capabilities, orig)
			}
			if tt.code != "" {
				if patchbay.ErrorMessage(err) == "" {
					t.Errorf("error %v has no message for the caller", err)
				}
				return
			}
			if r.Name != tt.wantName {
				t.Errorf("Name = %q, want %q", r.Name, tt.wantName)
			}
			if !slices.Equal(r.Capabilities, tt.wantCaps) {
				t.Errorf("Capabilities = %v, want %v", r.Capabilities, tt.wantCaps)
			}
		})
	}
}

func TestCapabilitySet(t *testing.T) {
	t.Parallel()
	s := patchbay.NewCapabilitySet(patchbay.CapUsersManage, patchbay.CapConnectionsRead, patchbay.CapConnectionsRead)
	tests := []struct {
		caps []patchbay.Capability
		want bool
	}{
		{nil, true},
		{[]patchbay.Capability{patchbay.CapConnectionsRead}, true},
		{[]patchbay.Capability{patchbay.CapConnectionsRead, patchbay.CapUsersManage}, true},
		{[]patchbay.Capability{patchbay.CapDelete}, false},
		{[]patchbay.Capability{patchbay.CapConnectionsRead, patchbay.CapDelete}, false},
	}
	for _, tt := range tests {
		if got := s.Has(tt.caps...); got != tt.want {
			t.Errorf("Has(%v) = %v, want %v", tt.caps, got, tt.want)
		}
	}
	if got, want := capStrings(s.List()), []string{"connections:read", "users:manage"}; !slices.Equal(got, want) {
		t.Errorf("List = %v, want %v", got, want)
	}
	if got := s.List(); !slices.IsSorted(got) {
		t.Errorf("List is not sorted: %v", got)
	}
	in := s.Intersect([]patchbay.Capability{patchbay.CapUsersManage, patchbay.CapDelete})
	if got, want := capStrings(in.List()), []string{"users:manage"}; !slices.Equal(got, want) {
		t.Errorf("Intersect = %v, want %v", got, want)
	}
	if got := s.Intersect(nil); len(got) != 0 {
		t.Errorf("Intersect(nil) = %v, want empty", got)
	}
}
