package httpapi

import (
	"context"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
)

func (s *Server) listRoles(ctx context.Context, _ *struct{}) (*body[client.List[client.Role]], error) {
	custom, err := s.store.ListRoles(ctx, patchbay.PrincipalFrom(ctx).OrgID)
	if err != nil {
		return nil, err
	}
	roles := append(patchbay.BuiltinRoles(), custom...)
	return respond(client.List[client.Role]{Data: mapSlice(roles, roleOut)}), nil
}

func (s *Server) getRole(ctx context.Context, in *IDParam) (*body[client.Role], error) {
	r, err := s.findRole(ctx, patchbay.PrincipalFrom(ctx).OrgID, in.ID)
	if err != nil {
		return nil, err
	}
	return respond(roleOut(r)), nil
}

type roleInput struct {
	Body client.RoleRequest
}

func (s *Server) createRole(ctx context.Context, in *roleInput) (*body[client.Role], error) {
	r := &patchbay.Role{Name: in.Body.Name, Description: in.Body.Description, Capabilities: toCaps(in.Body.Capabilities)}
	if err := patchbay.AddRole(ctx, s.store, r); err != nil {
		return nil, err
	}
	return respond(roleOut(r)), nil
}

type updateRoleInput struct {
	IDParam
	Body client.RoleRequest
}

func (s *Server) updateRole(ctx context.Context, in *updateRoleInput) (*body[client.Role], error) {
	r, err := patchbay.ChangeRole(ctx, s.store, in.ID, patchbay.Role{Name: in.Body.Name, Description: in.Body.Description,
		Capabilities: toCaps(in.Body.Capabilities)})
	if err != nil {
		return nil, err
	}
	return respond(roleOut(r)), nil
}

func (s *Server) deleteRole(ctx context.Context, in *IDParam) (*struct{}, error) {
	_, err := patchbay.RemoveRole(ctx, s.store, in.ID)
	return nil, err
}
