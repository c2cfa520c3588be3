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

// checkGrantable returns EFORBIDDEN unless the caller holds every one of
// caps, so a role manager cannot mint a role more powerful than themselves.
func checkGrantable(ctx context.Context, caps []patchbay.Capability) error {
	p := patchbay.PrincipalFrom(ctx)
	for _, c := range caps {
		if c.Valid() && !p.Can(c) {
			return patchbay.Errorf(patchbay.EFORBIDDEN, "You cannot grant the %q capability, which you do not hold.", c)
		}
	}
	return nil
}

func (s *Server) createRole(ctx context.Context, in *roleInput) (*body[client.Role], error) {
	r := &patchbay.Role{OrgID: patchbay.PrincipalFrom(ctx).OrgID, Name: in.Body.Name,
		Description: in.Body.Description, Capabilities: toCaps(in.Body.Capabilities)}
	if err := r.Validate(); err != nil {
		return nil, err
	} else if err := checkGrantable(ctx, r.Capabilities); err != nil {
		return nil, err
	}
	err := s.store.WithTx(ctx, func(tx patchbay.Store) error {
		if err := tx.CreateRole(ctx, r); err != nil {
			return err
		}
		a := patchbay.NewActivity(ctx, "role.create", "role", r.ID, patchbay.OutcomeSuccess)
		a.Detail = map[string]any{"name": r.Name, "capabilities": capStrings(r.Capabilities)}
		return tx.RecordActivity(ctx, a)
	})
	if err != nil {
		return nil, err
	}
	return respond(roleOut(r)), nil
}

type updateRoleInput struct {
	IDParam
	Body client.RoleRequest
}

func (s *Server) updateRole(ctx context.Context, in *updateRoleInput) (*body[client.Role], error) {
	p := patchbay.PrincipalFrom(ctx)
	if patchbay.BuiltinRole(in.ID) != nil {
		return nil, patchbay.Errorf(patchbay.EINVALID, "Built-in roles cannot be changed; create a custom role instead.")
	}
	var r *patchbay.Role
	err := s.store.WithTx(ctx, func(tx patchbay.Store) error {
		var err error
		if r, err = tx.FindRole(ctx, p.OrgID, in.ID); err != nil {
			return err
		}
		previous := capStrings(r.Capabilities)
		r.Name, r.Description, r.Capabilities = in.Body.Name, in.Body.Description, toCaps(in.Body.Capabilities)
		if err := r.Validate(); err != nil {
			return err
		} else if err := checkGrantable(ctx, r.Capabilities); err != nil {
			return err
		} else if err := tx.UpdateRole(ctx, r); err != nil {
			return err
		}
		a := patchbay.NewActivity(ctx, "role.update", "role", r.ID, patchbay.OutcomeSuccess)
		a.Detail = map[string]any{"name": r.Name, "capabilities": capStrings(r.Capabilities), "previous_capabilities": previous}
		return tx.RecordActivity(ctx, a)
	})
	if err != nil {
		return nil, err
	}
	return respond(roleOut(r)), nil
}

func (s *Server) deleteRole(ctx context.Context, in *IDParam) (*struct{}, error) {
	p := patchbay.PrincipalFrom(ctx)
	if patchbay.BuiltinRole(in.ID) != nil {
		return nil, patchbay.Errorf(patchbay.EINVALID, "Built-in roles cannot be deleted.")
	}
	err := s.store.WithTx(ctx, func(tx patchbay.Store) error {
		r, err := tx.FindRole(ctx, p.OrgID, in.ID)
		if err != nil {
			return err
		}
		if err := tx.DeleteRole(ctx, p.OrgID, r.ID); err != nil {
			return err
		}
		a := patchbay.NewActivity(ctx, "role.delete", "role", r.ID, patchbay.OutcomeSuccess)
		a.Detail = map[string]any{"name": r.Name}
		return tx.RecordActivity(ctx, a)
	})
	return nil, err
}
