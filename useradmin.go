package patchbay

import (
	"context"
	"unicode/utf8"
)

// UserChange is a change to a user; nil fields stay as they are.
type UserChange struct {
	Name   *string
	RoleID *string
}

// UpdateUser changes the name or role of a user of the caller's org and
// records it in the activity log. A new role must be one the caller may
// grant (MayGrant).
func UpdateUser(ctx context.Context, s Store, id string, ch UserChange) (*User, error) {
	p := PrincipalFrom(ctx)
	var u *User
	err := s.WithTx(ctx, func(tx Store) error {
		var err error
		if u, err = tx.FindUser(ctx, p.OrgID, id); err != nil {
			return err
		}
		detail := map[string]any{}
		if ch.Name != nil {
			u.Name = *ch.Name
			detail["name"] = u.Name
		}
		if ch.RoleID != nil && *ch.RoleID != u.RoleID {
			if err := MayGrant(ctx, tx, *ch.RoleID, nil); err != nil {
				return err
			}
			detail["role_id"], detail["previous_role_id"] = *ch.RoleID, u.RoleID
			u.RoleID = *ch.RoleID
		}
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		a := NewActivity(ctx, "user.update", "user", u.ID, OutcomeSuccess)
		a.Detail = detail
		return tx.RecordActivity(ctx, a)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// RemoveUser deletes a user of the caller's org and records it in the
// activity log; it returns the deleted user.
func RemoveUser(ctx context.Context, s Store, id string) (*User, error) {
	p := PrincipalFrom(ctx)
	var u *User
	err := s.WithTx(ctx, func(tx Store) error {
		var err error
		if u, err = tx.FindUser(ctx, p.OrgID, id); err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, p.OrgID, u.ID); err != nil {
			return err
		}
		a := NewActivity(ctx, "user.delete", "user", u.ID, OutcomeSuccess)
		a.Detail = map[string]any{"email": u.Email}
		return tx.RecordActivity(ctx, a)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// CheckGrantable returns EFORBIDDEN unless the caller in ctx holds every
// one of caps, so a role manager cannot mint a role more powerful than
// themselves.
func CheckGrantable(ctx context.Context, caps []Capability) error {
	p := PrincipalFrom(ctx)
	for _, c := range caps {
		if c.Valid() && !p.Can(c) {
			return Errorf(EFORBIDDEN, "You cannot grant the %q capability, which you do not hold.", c)
		}
	}
	return nil
}

// AddRole creates the custom role r (name, description, capabilities) in
// the caller's org and records it in the activity log. The caller must
// hold every capability it grants; delete is never grantable (Validate).
func AddRole(ctx context.Context, s Store, r *Role) error {
	r.OrgID = PrincipalFrom(ctx).OrgID
	if err := r.Validate(); err != nil {
		return err
	} else if err := CheckGrantable(ctx, r.Capabilities); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx Store) error {
		if err := tx.CreateRole(ctx, r); err != nil {
			return err
		}
		a := NewActivity(ctx, "role.create", "role", r.ID, OutcomeSuccess)
		a.Detail = map[string]any{"name": r.Name, "capabilities": CapabilityNames(r.Capabilities)}
		return tx.RecordActivity(ctx, a)
	})
}

// ChangeRole replaces the name, description and capabilities of a custom
// role of the caller's org, under AddRole's rules, and records it in the
// activity log. Built-in roles cannot be changed.
func ChangeRole(ctx context.Context, s Store, id string, change Role) (*Role, error) {
	p := PrincipalFrom(ctx)
	if BuiltinRole(id) != nil {
		return nil, Errorf(EINVALID, "Built-in roles cannot be changed; create a custom role instead.")
	}
	var r *Role
	err := s.WithTx(ctx, func(tx Store) error {
		var err error
		if r, err = tx.FindRole(ctx, p.OrgID, id); err != nil {
			return err
		}
		previous := CapabilityNames(r.Capabilities)
		r.Name, r.Description, r.Capabilities = change.Name, change.Description, change.Capabilities
		if err := r.Validate(); err != nil {
			return err
		} else if err := CheckGrantable(ctx, r.Capabilities); err != nil {
			return err
		} else if err := tx.UpdateRole(ctx, r); err != nil {
			return err
		}
		a := NewActivity(ctx, "role.update", "role", r.ID, OutcomeSuccess)
		a.Detail = map[string]any{"name": r.Name, "capabilities": CapabilityNames(r.Capabilities), "previous_capabilities": previous}
		return tx.RecordActivity(ctx, a)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// RemoveRole deletes a custom role of the caller's org (the store refuses
// one that users or keys still hold) and records it in the activity log.
// Built-in roles cannot be deleted.
func RemoveRole(ctx context.Context, s Store, id string) (*Role, error) {
	p := PrincipalFrom(ctx)
	if BuiltinRole(id) != nil {
		return nil, Errorf(EINVALID, "Built-in roles cannot be deleted.")
	}
	var r *Role
	err := s.WithTx(ctx, func(tx Store) error {
		var err error
		if r, err = tx.FindRole(ctx, p.OrgID, id); err != nil {
			return err
		}
		if err := tx.DeleteRole(ctx, p.OrgID, r.ID); err != nil {
			return err
		}
		a := NewActivity(ctx, "role.delete", "role", r.ID, OutcomeSuccess)
		a.Detail = map[string]any{"name": r.Name}
		return tx.RecordActivity(ctx, a)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// ChangePassword sets a new password for the calling user, who proves the
// current one, and clears MustChangePassword. It is recorded in the
// activity log.
func ChangePassword(ctx context.Context, s Store, current, next string) error {
	p := PrincipalFrom(ctx)
	if p.ActorType != ActorUser {
		return Errorf(EFORBIDDEN, "Only a signed-in user can change their password.")
	}
	u, err := s.FindUser(ctx, p.OrgID, p.ActorID)
	if err != nil {
		return err
	}
	if !CheckPassword(u.PasswordHash, current) {
		return Errorf(EINVALID, "The current password is not right.")
	}
	if n := utf8.RuneCountInString(next); n < MinPasswordLength || len(next) > 1024 {
		return Errorf(EINVALID, "The new password must be %d to 1024 characters.", MinPasswordLength)
	}
	if next == current {
		return Errorf(EINVALID, "The new password must differ from the current one.")
	}
	u.PasswordHash, u.MustChangePassword = HashPassword(next), false
	return s.WithTx(ctx, func(tx Store) error {
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		return tx.RecordActivity(ctx, NewActivity(ctx, "user.password_change", "user", u.ID, OutcomeSuccess))
	})
}
