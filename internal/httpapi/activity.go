package httpapi

import (
	"context"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
)

type listActivityInput struct {
	Actor      string    `query:"actor" doc:"Actor id (a user or API key id)."`
	Action     string    `query:"action" doc:"Exact action such as api_key.create, or a prefix such as api_key.*."`
	TargetType string    `query:"target_type"`
	TargetID   string    `query:"target_id"`
	Since      time.Time `query:"since" doc:"Inclusive lower bound (RFC 3339)."`
	Until      time.Time `query:"until" doc:"Exclusive upper bound (RFC 3339)."`
	PageParams
}

func (s *Server) listActivity(ctx context.Context, in *listActivityInput) (*body[client.List[client.Activity]], error) {
	f := patchbay.ActivityFilter{ActorID: in.Actor, Action: in.Action, TargetType: in.TargetType,
		TargetID: in.TargetID, Page: in.page()}
	if !in.Since.IsZero() {
		f.Since = &in.Since
	}
	if !in.Until.IsZero() {
		f.Until = &in.Until
	}
	if f.Since != nil && f.Until != nil && !f.Until.After(*f.Since) {
		return nil, patchbay.Errorf(patchbay.EINVALID, "until must be after since.")
	}
	list, next, err := s.store.ListActivity(ctx, patchbay.PrincipalFrom(ctx).OrgID, f)
	if err != nil {
		return nil, err
	}
	return respond(client.List[client.Activity]{Data: mapSlice(list, activityOut), NextCursor: next}), nil
}
