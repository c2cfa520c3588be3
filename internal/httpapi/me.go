package httpapi

import (
	"context"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
)

func (s *Server) getMe(ctx context.Context, _ *struct{}) (*body[client.Me], error) {
	p := patchbay.PrincipalFrom(ctx)
	org, err := s.store.FindOrg(ctx, p.OrgID)
	if err != nil {
		return nil, err
	}
	return respond(client.Me{
		OrgID: org.ID, OrgName: org.Name, ActorType: p.ActorType, ActorID: p.ActorID, ActorName: p.ActorName,
		RoleID: p.RoleID, Capabilities: patchbay.CapabilityNames(p.Capabilities.List()),
	}), nil
}
