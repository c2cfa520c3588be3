package patchbay

import "context"

// Principal is an authenticated caller: an API key or a signed-in user,
// acting in one org with a set of capabilities.
type Principal struct {
	OrgID        string
	ActorType    string // ActorUser or ActorAPIKey
	ActorID      string
	ActorName    string // the key's prefix or the user's e-mail; never a secret
	RoleID       string
	Capabilities CapabilitySet
}

// Can reports whether the principal holds every one of caps.
func (p *Principal) Can(caps ...Capability) bool { return p != nil && p.Capabilities.Has(caps...) }

// Actor returns "type:id", the form stored as a row's creator.
func (p *Principal) Actor() string { return p.ActorType + ":" + p.ActorID }

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
