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
	u, err := patchbay.UpdateUser(ctx, s.store, in.ID, patchbay.UserChange{Name: in.Body.Name, RoleID: in.Body.RoleID})
	if err != nil {
		return nil, err
	}
	return respond(userOut(u)), nil
}

func (s *Server) deleteUser(ctx context.Context, in *IDParam) (*struct{}, error) {
	_, err := patchbay.RemoveUser(ctx, s.store, in.ID)
	return nil, err
}
