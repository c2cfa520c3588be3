package connection

import (
	"context"
	"strings"

	"github.com/patchbay/patchbay"
)

// SetOAuthClient sets the OAuth client registration the caller's org uses
// for a connector (orgID "" sets the platform-wide one, for the CLI). The
// secret is sealed to the row.
func (s *Service) SetOAuthClient(ctx context.Context, orgID, slug, clientID, clientSecret string) (*patchbay.OAuthClient, error) {
	cn, err := s.connector(slug)
	if err != nil {
		return nil, err
	}
	if cn.OAuth == nil {
		return nil, patchbay.Errorf(patchbay.EINVALID, "%s does not use OAuth.", cn.Name)
	}
	clientID, clientSecret = strings.TrimSpace(clientID), strings.TrimSpace(clientSecret)
	if clientID == "" || clientSecret == "" {
		return nil, patchbay.Errorf(patchbay.EINVALID, "client_id and client_secret are required.")
	}
	var c *patchbay.OAuthClient
	err = s.store.WithTx(ctx, func(tx patchbay.Store) error {
		// The secret is bound to the row id, which a replace keeps: find it
		// first so the seal matches.
		c = &patchbay.OAuthClient{OrgID: orgID, ConnectorSlug: cn.Slug, ClientID: clientID}
		clients, err := tx.ListOAuthClients(ctx, orgID)
		if err != nil {
			return err
		}
		for _, have := range clients {
			if have.ConnectorSlug == cn.Slug {
				c.ID = have.ID
			}
		}
		if c.ID == "" {
			c.ID = patchbay.NewID("ocl")
		}
		if c.ClientSecret, err = s.seal(clientSecretColumn, c.ID, clientSecret); err != nil {
			return err
		}
		if err := tx.SetOAuthClient(ctx, c); err != nil {
			return err
		}
		if orgID == "" {
			return nil
		}
		a := patchbay.NewActivity(ctx, "oauth_client.set", "oauth_client", cn.Slug, patchbay.OutcomeSuccess)
		a.Detail = map[string]any{"client_id": clientID}
		return tx.RecordActivity(ctx, a)
	})
	return c, err
}

// ListOAuthClients returns the org's own OAuth client registrations.
func (s *Service) ListOAuthClients(ctx context.Context, orgID string) ([]*patchbay.OAuthClient, error) {
	return s.store.ListOAuthClients(ctx, orgID)
}

// DeleteOAuthClient removes the org's OAuth client for a connector.
func (s *Service) DeleteOAuthClient(ctx context.Context, orgID, slug string) error {
	return s.store.WithTx(ctx, func(tx patchbay.Store) error {
		if err := tx.DeleteOAuthClient(ctx, orgID, slug); err != nil {
			return err
		}
		return tx.RecordActivity(ctx, patchbay.NewActivity(ctx, "oauth_client.delete", "oauth_client", slug, patchbay.OutcomeSuccess))
	})
}
