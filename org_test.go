package patchbay_test

import (
	"strings"
	"testing"

	"github.com/patchbay/patchbay"
)

func TestUserValidate(t *testing.T) {
	t.Parallel()
	user := func(email, name string) patchbay.User {
		return patchbay.User{OrgID: "org_1", Email: email, Name: name, RoleID: patchbay.RoleViewer}
	}
	tests := []struct {
		name      string
		user      patchbay.User
		ok        bool
		wantEmail string
		wantName  string
	}{
		{"valid", user("ada@example.com", "Ada"), true, "ada@example.com", "Ada"},
		{"email lower-cased and trimmed", user("  Ada.Lovelace@Example.COM\t", " Ada "), true, "ada.lovelace@example.com", "Ada"},
		{"plus and subdomain", user("ops+pb@mail.example.org", ""), true, "ops+pb@mail.example.org", ""},
		{"254 characters", user(strings.Repeat("a", 242)+"@example.com", "A"), true, strings.Repeat("a", 242) + "@example.com", "A"},
		{"200-character name", user("a@example.com", strings.Repeat("n", 200)), true, "a@example.com", strings.Repeat("n", 200)},

		{"empty email", user("", "Ada"), false, "", ""},
		{"blank email", user("   ", "Ada"), false, "", ""},
		{"no at sign", user("ada.example.com", "Ada"), false, "", ""},
		{"no domain", user("ada@", "Ada"), false, "", ""},
		{"no local part", user("@example.com", "Ada"), false, "", ""},
		{"two at signs", user("ada@b@example.com", "Ada"), false, "", ""},
		{"display name form", user("Ada <ada@example.com>", "Ada"), false, "", ""},
		{"space inside", user("ada lovelace@example.com", "Ada"), false, "", ""},
		{"255 characters", user(strings.Repeat("a", 243)+"@example.com", "A"), false, "", ""},
		{"201-character name", user("a@example.com", strings.Repeat("n", 201)), false, "", ""},
		{"no role", patchbay.User{Email: "ada@example.com"}, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := tt.user
			err := u.Validate()
			if !tt.ok {
				if code := patchbay.ErrorCode(err); code != patchbay.EINVALID {
					t.Fatalf("Validate() = %v (code %q), want EINVALID", err, code)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if u.Email != tt.wantEmail {
				t.Errorf("Email = %q, want %q", u.Email, tt.wantEmail)
			}
			if u.Name != tt.wantName {
				t.Errorf("Name = %q, want %q", u.Name, tt.wantName)
			}
		})
	}
}

func TestOrgValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		ok       bool
		want     string
	}{
		{"valid", "Acme", true, "Acme"},
		{"trimmed", "  Acme Corp \n", true, "Acme Corp"},
		{"unicode", "Société Générale", true, "Société Générale"},
		{"200 characters", strings.Repeat("o", 200), true, strings.Repeat("o", 200)},

		{"empty", "", false, ""},
		{"blank", " \t\n", false, ""},
		{"201 characters", strings.Repeat("o", 201), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := patchbay.Org{Name: tt.in}
			err := o.Validate()
			if !tt.ok {
				if code := patchbay.ErrorCode(err); code != patchbay.EINVALID {
					t.Fatalf("Validate(%q) = %v (code %q), want EINVALID", tt.in, err, code)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate(%q) = %v, want nil", tt.in, err)
			}
			if o.Name != tt.want {
				t.Errorf("Name = %q, want %q", o.Name, tt.want)
			}
		})
	}
}
