package patchbay

import (
	"context"
	"strings"
	"time"
)

// Actor types: who did something.
const (
	ActorUser   = "user"
	ActorAPIKey = "api_key"
	ActorSystem = "system"
)

// Activity outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// Activity is one entry of an org's audit log: who did what to which target,
// and how it ended. Detail holds non-secret context; delivery records are
// not copied here.
type Activity struct {
	ID         string
	OrgID      string
	ActorType  string
	ActorID    string
	ActorName  string
	Action     string // dotted, e.g. "api_key.create"
	TargetType string
	TargetID   string
	Outcome    string
	Detail     map[string]any
	CreatedAt  time.Time
}

// ActivityFilter selects activity of one org. Action matches exactly, or by
// prefix when it ends in ".*" ("api_key.*"). Since is inclusive, Until
// exclusive.
type ActivityFilter struct {
	ActorID    string
	Action     string
	TargetType string
	TargetID   string
	Since      *time.Time
	Until      *time.Time
	Page
}

// ActionPrefix returns the prefix to match when Action is a wildcard.
func (f ActivityFilter) ActionPrefix() (string, bool) {
	if p, ok := strings.CutSuffix(f.Action, "*"); ok {
		return p, true
	}
	return "", false
}

// ActivityLog records audit entries. Every feature that changes something
// calls it, inside the same transaction as the change where it can.
type ActivityLog interface {
	// RecordActivity stores a; it fills ID and CreatedAt when empty.
	RecordActivity(ctx context.Context, a *Activity) error
}

// NewActivity returns an activity entry for the principal in ctx (or the
// system when there is none) acting on a target.
func NewActivity(ctx context.Context, action, targetType, targetID, outcome string) *Activity {
	a := &Activity{Action: action, TargetType: targetType, TargetID: targetID, Outcome: outcome,
		ActorType: ActorSystem, ActorID: "system", ActorName: "Patchbay"}
	if p := PrincipalFrom(ctx); p != nil {
		a.OrgID = p.OrgID
		a.ActorType, a.ActorID, a.ActorName = p.ActorType, p.ActorID, p.ActorName
	}
	return a
}
