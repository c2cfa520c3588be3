package httpapi

import (
	"context"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
)

func (s *Server) listUsers(ctx context.Context, in *PageParams) (*body[client.List[client.User]], error) {
	users, next, err := s.store.ListUsers(ctx, patchbay.PrincipalFrom(ctx).OrgID, patchbay.UserFilter{Page: in.page()})
	if err != nil {
		return nil, err
	}
	return respond(client.List[client.User]{Data: mapSlice(users, userOut), NextCursor: next}), nil
}

func (s *Server) getUser(ctx context.Context, in *IDParam) (*body[client.User], error) {
	u, err := s.store.FindUser(ctx, patchbay.PrincipalFrom(ctx).OrgID, in.ID)
	if err != nil {
		return nil, err
	}
	return respond(userOut(u)), nil
}

type createUserInput struct {
	Body client.CreateUserRequest
}

func (s *Server) createUser(ctx context.Context, in *createUserInput) (*body[client.CreatedUser], error) {
	u := &patchbay.User{Email: in.Body.Email, Name: in.Body.Name, RoleID: in.Body.RoleID}
	generated, err := patchbay.AddUser(ctx, s.store, u, in.Body.Password)
	if err != nil {
		return nil, err
	}
	return respond(client.CreatedUser{User: userOut(u), Password: generated}), nil
}

type updateUserInput struct {
	IDParam
	Body client.UpdateUserRequest
}

func (s *Server) updateUser(ctx context.Context, in *updateUserInput) (*body[client.User], error) {
	p := patchbay.PrincipalFrom(ctx)
	var u *patchbay.User
	err := s.store.WithTx(ctx, func(tx patchbay.Store) error {
		var err error
		if u, err = tx.FindUser(ctx, p.OrgID, in.ID); err != nil {
			return err
		}
		detail := map[string]any{}
		if in.Body.Name != nil {
			u.Name = *in.Body.Name
			detail["name"] = u.Name
		}
		if in.Body.RoleID != nil && *in.Body.RoleID != u.RoleID {
			if err := s.mayGrant(ctx, *in.Body.RoleID, nil); err != nil {
				return err
			}
			detail["role_id"], detail["previous_role_id"] = *in.Body.RoleID, u.RoleID
			u.RoleID = *in.Body.RoleID
		}
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		a := patchbay.NewActivity(ctx, "user.update", "user", u.ID, patchbay.OutcomeSuccess)
		a.Detail = detail
		return tx.RecordActivity(ctx, a)
	})
	if err != nil {
		return nil, err
	}
	return respond(userOut(u)), nil
}

func (s *Server) deleteUser(ctx context.Context, in *IDParam) (*struct{}, error) {
	p := patchbay.PrincipalFrom(ctx)
	err := s.store.WithTx(ctx, func(tx patchbay.Store) error {
		u, err := tx.FindUser(ctx, p.OrgID, in.ID)
		if err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, p.OrgID, u.ID); err != nil {
			return err
		}
		a := patchbay.NewActivity(ctx, "user.delete", "user", u.ID, patchbay.OutcomeSuccess)
		a.Detail = map[string]any{"email": u.Email}
		return tx.RecordActivity(ctx, a)
	})
	return nil, err
}
