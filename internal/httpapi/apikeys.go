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
	secret, prefix, hash := patchbay.GenerateAPIKey()
	k := &patchbay.APIKey{
		OrgID: p.OrgID, Name: req.Name, Prefix: prefix, Hash: hash, RoleID: req.RoleID,
		Scopes: toCaps(req.Scopes), RateLimit: req.RateLimit, CreatedBy: p.Actor(), ExpiresAt: req.ExpiresAt,
	}
	if k.RoleID == "" {
		k.RoleID = p.RoleID
	}
	if k.RateLimit == 0 {
		k.RateLimit = patchbay.DefaultRateLimit
	}
	if k.ExpiresAt != nil && !k.ExpiresAt.After(s.now()) {
		return nil, patchbay.Errorf(patchbay.EINVALID, "expires_at must be in the future.")
	}
	if err := k.Validate(); err != nil {
		return nil, err
	}
	if err := s.mayGrant(ctx, k.RoleID, k.Scopes); err != nil {
		return nil, err
	}
	err := s.store.WithTx(ctx, func(tx patchbay.Store) error {
		if err := tx.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		a := patchbay.NewActivity(ctx, "api_key.create", "api_key", k.ID, patchbay.OutcomeSuccess)
		a.Detail = map[string]any{"name": k.Name, "prefix": k.Prefix, "role_id": k.RoleID}
		return tx.RecordActivity(ctx, a)
	})
	if err != nil {
		return nil, err
	}
	return respond(client.CreatedAPIKey{APIKey: apiKeyOut(k), Key: secret}), nil
}

func (s *Server) revokeAPIKey(ctx context.Context, in *IDParam) (*body[client.APIKey], error) {
	p := patchbay.PrincipalFrom(ctx)
	var k *patchbay.APIKey
	err := s.store.WithTx(ctx, func(tx patchbay.Store) error {
		var err error
		if k, err = tx.RevokeAPIKey(ctx, p.OrgID, in.ID, s.now()); err != nil {
			return err
		}
		a := patchbay.NewActivity(ctx, "api_key.revoke", "api_key", k.ID, patchbay.OutcomeSuccess)
		a.Detail = map[string]any{"name": k.Name, "prefix": k.Prefix}
		return tx.RecordActivity(ctx, a)
	})
	if err != nil {
		return nil, err
	}
	return respond(apiKeyOut(k)), nil
}
