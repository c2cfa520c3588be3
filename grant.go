package patchbay

import (
	"context"
	"time"
	"unicode/utf8"
)

// FindRoleOf returns a built-in role, or a custom role of the org, or
// ENOTFOUND.
func FindRoleOf(ctx context.Context, s RoleStore, orgID, roleID string) (*Role, error) {
	if r := BuiltinRole(roleID); r != nil {
		return r, nil
	}
	return s.FindRole(ctx, orgID, roleID)
}

// MayGrant returns EFORBIDDEN unless the caller in ctx holds every
// capability of role roleID (narrowed by scopes): nobody hands out more
// than they hold. An unknown role is EINVALID.
func MayGrant(ctx context.Context, s RoleStore, roleID string, scopes []Capability) error {
	p := PrincipalFrom(ctx)
	r, err := FindRoleOf(ctx, s, p.OrgID, roleID)
	if ErrorCode(err) == ENOTFOUND {
		return Errorf(EINVALID, "Role %q does not exist.", roleID)
	} else if err != nil {
		return err
	}
	caps := NewCapabilitySet(r.Capabilities...)
	if len(scopes) > 0 {
		caps = caps.Intersect(scopes)
	}
	for _, c := range caps.List() {
		if !p.Can(c) {
			return Errorf(EFORBIDDEN, "You cannot grant the %q capability, which you do not hold.", c)
		}
	}
	return nil
}

// IssueAPIKey creates k for the caller in ctx, with a fresh secret, and
// records it in the activity log. k carries the name, role (the caller's
// when empty), scopes, rate limit (the default when zero) and expiry; the
// secret is returned this once and never stored.
func IssueAPIKey(ctx context.Context, s Store, now time.Time, k *APIKey) (string, error) {
	p := PrincipalFrom(ctx)
	secret, prefix, hash := GenerateAPIKey()
	k.OrgID, k.Prefix, k.Hash, k.CreatedBy = p.OrgID, prefix, hash, p.Actor()
	if k.RoleID == "" {
		k.RoleID = p.RoleID
	}
	if k.RateLimit == 0 {
		k.RateLimit = DefaultRateLimit
	}
	if k.ExpiresAt != nil && !k.ExpiresAt.After(now) {
		return "", Errorf(EINVALID, "expires_at must be in the future.")
	}
	if err := k.Validate(); err != nil {
		return "", err
	}
	if err := MayGrant(ctx, s, k.RoleID, k.Scopes); err != nil {
		return "", err
	}
	err := s.WithTx(ctx, func(tx Store) error {
		if err := tx.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		a := NewActivity(ctx, "api_key.create", "api_key", k.ID, OutcomeSuccess)
		a.Detail = map[string]any{"name": k.Name, "prefix": k.Prefix, "role_id": k.RoleID}
		return tx.RecordActivity(ctx, a)
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// RevokeAPIKey revokes a key of the caller's org at now and records it in
// the activity log.
func RevokeAPIKey(ctx context.Context, s Store, id string, now time.Time) (*APIKey, error) {
	p := PrincipalFrom(ctx)
	var k *APIKey
	err := s.WithTx(ctx, func(tx Store) error {
		var err error
		if k, err = tx.RevokeAPIKey(ctx, p.OrgID, id, now); err != nil {
			return err
		}
		a := NewActivity(ctx, "api_key.revoke", "api_key", k.ID, OutcomeSuccess)
		a.Detail = map[string]any{"name": k.Name, "prefix": k.Prefix}
		return tx.RecordActivity(ctx, a)
	})
	return k, err
}

// AddUser creates u (e-mail, name, role) in the caller's org with password,
// or with a generated one when password is empty, which it returns (this
// once) and which must be changed at the first sign-in. The caller may only
// grant a role whose capabilities they hold. The activity log records it.
func AddUser(ctx context.Context, s Store, u *User, password string) (generated string, err error) {
	p := PrincipalFrom(ctx)
	if password == "" {
		password = GeneratePassword()
		generated = password
	} else if utf8.RuneCountInString(password) < MinPasswordLength || len(password) > 1024 {
		return "", Errorf(EINVALID, "Password must be %d to 1024 characters.", MinPasswordLength)
	}
	u.OrgID, u.MustChangePassword = p.OrgID, generated != ""
	if err := u.Validate(); err != nil {
		return "", err
	}
	if err := MayGrant(ctx, s, u.RoleID, nil); err != nil {
		return "", err
	}
	u.PasswordHash = HashPassword(password)
	err = s.WithTx(ctx, func(tx Store) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		a := NewActivity(ctx, "user.create", "user", u.ID, OutcomeSuccess)
		a.Detail = map[string]any{"email": u.Email, "role_id": u.RoleID}
		return tx.RecordActivity(ctx, a)
	})
	if err != nil {
		return "", err
	}
	return generated, nil
}
