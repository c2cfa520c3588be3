package httpapi

import (
	"context"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
)

func oauthClientOut(c *patchbay.OAuthClient) client.OAuthClient {
	return client.OAuthClient{Connector: c.ConnectorSlug, ClientID: c.ClientID, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
}

func (s *Server) listOAuthClients(ctx context.Context, _ *struct{}) (*body[client.List[client.OAuthClient]], error) {
	list, err := s.connections.ListOAuthClients(ctx, patchbay.PrincipalFrom(ctx).OrgID)
	if err != nil {
		return nil, err
	}
	return respond(client.List[client.OAuthClient]{Data: mapSlice(list, oauthClientOut)}), nil
}

type setOAuthClientInput struct {
	SlugParam
	Body client.OAuthClientRequest
}

func (s *Server) setOAuthClient(ctx context.Context, in *setOAuthClientInput) (*body[client.OAuthClient], error) {
	c, err := s.connections.SetOAuthClient(ctx, patchbay.PrincipalFrom(ctx).OrgID, in.Slug, in.Body.ClientID, in.Body.ClientSecret)
	if err != nil {
		return nil, err
	}
	return respond(oauthClientOut(c)), nil
}

func (s *Server) deleteOAuthClient(ctx context.Context, in *SlugParam) (*struct{}, error) {
	return nil, s.connections.DeleteOAuthClient(ctx, patchbay.PrincipalFrom(ctx).OrgID, in.Slug)
}
