package httpapi

import (
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
)

// This file turns domain values into wire values. Times leave in UTC.

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}

func toCaps(names []string) []patchbay.Capability {
	out := make([]patchbay.Capability, len(names))
	for i, n := range names {
		out[i] = patchbay.Capability(n)
	}
	return out
}

func apiKeyOut(k *patchbay.APIKey) client.APIKey {
	return client.APIKey{
		ID: k.ID, Name: k.Name, Prefix: k.Prefix, RoleID: k.RoleID, Scopes: patchbay.CapabilityNames(k.Scopes),
		RateLimit: k.RateLimit, CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt.UTC(),
		LastUsedAt: utcPtr(k.LastUsedAt), ExpiresAt: utcPtr(k.ExpiresAt), RevokedAt: utcPtr(k.RevokedAt),
	}
}

func userOut(u *patchbay.User) client.User {
	return client.User{
		ID: u.ID, Email: u.Email, Name: u.Name, RoleID: u.RoleID, MustChangePassword: u.MustChangePassword,
		LastLoginAt: utcPtr(u.LastLoginAt), CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(),
	}
}

func roleOut(r *patchbay.Role) client.Role {
	out := client.Role{ID: r.ID, Name: r.Name, Description: r.Description,
		Capabilities: patchbay.CapabilityNames(r.Capabilities), Builtin: r.Builtin}
	if !r.Builtin {
		out.CreatedAt, out.UpdatedAt = utcPtr(&r.CreatedAt), utcPtr(&r.UpdatedAt)
	}
	return out
}

func activityOut(a *patchbay.Activity) client.Activity {
	return client.Activity{
		ID: a.ID, ActorType: a.ActorType, ActorID: a.ActorID, ActorName: a.ActorName, Action: a.Action,
		TargetType: a.TargetType, TargetID: a.TargetID, Outcome: a.Outcome, Detail: a.Detail,
		CreatedAt: a.CreatedAt.UTC(),
	}
}

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}
