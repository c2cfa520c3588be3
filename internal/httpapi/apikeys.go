package httpapi

import (
	"context"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
)

type listAPIKeysInput struct {
	IncludeRevoked bool `query:"include_revoked" doc:"Include revoked keys."`
	PageParams
}

func (s *Server) listAPIKeys(ctx context.Context, in *listAPIKeysInput) (*body[client.List[client.APIKey]], error) {
	p := patchbay.PrincipalFrom(ctx)
	keys, next, err := s.store.ListAPIKeys(ctx, p.OrgID, patchbay.APIKeyFilter{IncludeRevoked: in.IncludeRevoked, Page: in.page()})
	if err != nil {
		return nil, err
	}
	return respond(client.List[client.APIKey]{Data: mapSlice(keys, apiKeyOut), NextCursor: next}), nil
}

func (s *Server) getAPIKey(ctx context.Context, in *IDParam) (*body[client.APIKey], error) {
	k, err := s.store.FindAPIKey(ctx, patchbay.PrincipalFrom(ctx).OrgID, in.ID)
	if err != nil {
		return nil, err
	}
	return respond(apiKeyOut(k)), nil
}

type createAPIKeyInput struct {
	Body client.CreateAPIKeyRequest
}

func (s *Server) createAPIKey(ctx context.Context, in *createAPIKeyInput) (*body[client.CreatedAPIKey], error) {
	p := patchbay.PrincipalFrom(ctx)
	req := in.Body
	k := &patchbay.APIKey{OrgID: p.OrgID, Name: req.Name, RoleID: req.RoleID, Scopes: toCaps(req.Scopes),
		RateLimit: req.RateLimit, ExpiresAt: req.ExpiresAt}
	secret, err := patchbay.IssueAPIKey(ctx, s.store, s.now(), k)
	if err != nil {
		return nil, err
	}
	return respond(client.CreatedAPIKey{APIKey: apiKeyOut(k), Key: secret}), nil
}

func (s *Server) revokeAPIKey(ctx context.Context, in *IDParam) (*body[client.APIKey], error) {
	k, err := patchbay.RevokeAPIKey(ctx, s.store, in.ID, s.now())
	if err != nil {
		return nil, err
	}
	return respond(apiKeyOut(k)), nil
}
