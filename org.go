package patchbay

import (
	"net/mail"
	"strings"
	"time"
)

// Org is a tenant. Every row except the connector catalog belongs to exactly
// one org, and no request can see or change another org's rows.
type Org struct {
	ID        string
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate returns EINVALID if the org's fields are not acceptable.
func (o *Org) Validate() error {
	o.Name = strings.TrimSpace(o.Name)
	if o.Name == "" {
		return Errorf(EINVALID, "Org name is required.")
	} else if len(o.Name) > 200 {
		return Errorf(EINVALID, "Org name must be at most 200 characters.")
	}
	return nil
}

// User is a person who signs in to the admin UI. A user belongs to one org
// and holds one role; e-mail addresses are unique across Patchbay so that a
// login needs nothing else.
type User struct {
	ID     string
	OrgID  string
	Email  string
	Name   string
	RoleID string

	// PasswordHash is an argon2id hash in PHC string form; never shown.
	PasswordHash string
	// MustChangePassword is set for generated passwords, which are to be
	// replaced at the first login.
	MustChangePassword bool

	LastLoginAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// NormalizeEmail returns the form e-mail addresses are stored and looked up
// in: trimmed and lower-cased.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Validate normalises the e-mail address and returns EINVALID if a field is
// not acceptable.
func (u *User) Validate() error {
	u.Email = NormalizeEmail(u.Email)
	u.Name = strings.TrimSpace(u.Name)
	if u.Email == "" {
		return Errorf(EINVALID, "Email is required.")
	} else if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email || len(u.Email) > 254 {
		return Errorf(EINVALID, "Email %q is not a valid address.", u.Email)
	} else if len(u.Name) > 200 {
		return Errorf(EINVALID, "Name must be at most 200 characters.")
	} else if u.RoleID == "" {
		return Errorf(EINVALID, "Role is required.")
	}
	return nil
}

// UserFilter selects users of one org for listing.
type UserFilter struct {
	Page
}

// Role is a named set of capabilities. The three built-in roles (see
// BuiltinRoles) exist in every org and cannot be changed; custom roles are
// stored per org and override the default map for whoever holds them.
type Role struct {
	ID           string
	OrgID        string // empty for built-in roles
	Name         string
	Description  string
	Capabilities []Capability
	Builtin      bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Validate returns EINVALID if the role's name or capabilities are not
// acceptable. A custom role can never hold CapDelete: deletes always need
// the Administrator.
func (r *Role) Validate() error {
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" {
		return Errorf(EINVALID, "Role name is required.")
	} else if len(r.Name) > 100 {
		return Errorf(EINVALID, "Role name must be at most 100 characters.")
	}
	for _, b := range BuiltinRoles() {
		if strings.EqualFold(b.Name, r.Name) || b.ID == strings.ToLower(r.Name) {
			return Errorf(ECONFLICT, "%q is the name of a built-in role.", r.Name)
		}
	}
	seen := map[Capability]bool{}
	caps := r.Capabilities[:0:0]
	for _, c := range r.Capabilities {
		if !c.Valid() {
			return Errorf(EINVALID, "Unknown capability %q.", c)
		} else if c == CapDelete {
			return Errorf(EINVALID, "Capability %q is reserved for the Administrator role.", c)
		} else if !seen[c] {
			seen[c] = true
			caps = append(caps, c)
		}
	}
	r.Capabilities = caps
	return nil
}
