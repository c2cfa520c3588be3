package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/patchbay/patchbay"
)

const oauthClientColumns = `id, org_id, connector_slug, client_id, client_secret, created_at, updated_at`

func scanOAuthClient(row scanner) (*patchbay.OAuthClient, error) {
	var c patchbay.OAuthClient
	if err := row.Scan(&c.ID, &c.OrgID, &c.ConnectorSlug, &c.ClientID, &c.ClientSecret, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, nil
}

// SetOAuthClient implements patchbay.ConnectionStore.
func (s *Store) SetOAuthClient(ctx context.Context, c *patchbay.OAuthClient) error {
	if c.ID == "" {
		c.ID = patchbay.NewID("ocl")
	}
	now := s.now()
	c.CreatedAt, c.UpdatedAt = now, now
	// On a replace the row keeps its id, which the sealed secret is bound to.
	err := s.w.QueryRowContext(ctx, `INSERT INTO oauth_clients (`+oauthClientColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $6)
		ON CONFLICT (org_id, connector_slug) DO UPDATE SET client_id = excluded.client_id,
			client_secret = excluded.client_secret, updated_at = excluded.updated_at
		RETURNING id, created_at`,
		c.ID, c.OrgID, c.ConnectorSlug, c.ClientID, c.ClientSecret, now).Scan(&c.ID, &c.CreatedAt)
	c.CreatedAt = c.CreatedAt.UTC()
	return err
}

// FindOAuthClient implements patchbay.ConnectionStore.
func (s *Store) FindOAuthClient(ctx context.Context, orgID, slug string) (*patchbay.OAuthClient, error) {
	c, err := scanOAuthClient(s.r.QueryRowContext(ctx, `SELECT `+oauthClientColumns+` FROM oauth_clients
		WHERE connector_slug = $2 AND (org_id = $1 OR org_id = '') ORDER BY org_id DESC LIMIT 1`, orgID, slug))
	if err != nil {
		return nil, notFound(err, "No OAuth client is configured for connector %q.", slug)
	}
	return c, nil
}

// ListOAuthClients implements patchbay.ConnectionStore.
func (s *Store) ListOAuthClients(ctx context.Context, orgID string) ([]*patchbay.OAuthClient, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+oauthClientColumns+` FROM oauth_clients WHERE org_id = $1
		ORDER BY connector_slug`, orgID)
	return collect(rows, err, func(r *sql.Rows) (*patchbay.OAuthClient, error) { return scanOAuthClient(r) })
}

// DeleteOAuthClient implements patchbay.ConnectionStore.
func (s *Store) DeleteOAuthClient(ctx context.Context, orgID, slug string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM oauth_clients WHERE org_id = $1 AND connector_slug = $2`, orgID, slug)
	return mustAffect(res, err, "No OAuth client of this org is configured for connector %q.", slug)
}

const oauthStateColumns = `state, org_id, connector_slug, connection_id, code_verifier, redirect_uri, scopes,
	display_name, config, return_to, actor, actor_name, created_at, expires_at`

// CreateOAuthState implements patchbay.ConnectionStore. Expired states are
// pruned on the way, so abandoned flows do not pile up.
func (s *Store) CreateOAuthState(ctx context.Context, st *patchbay.OAuthState) error {
	st.CreatedAt = s.now()
	if _, err := s.w.ExecContext(ctx, `DELETE FROM oauth_states WHERE expires_at < $1`, st.CreatedAt); err != nil {
		return err
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO oauth_states (`+oauthStateColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		st.StateHash, st.OrgID, st.ConnectorSlug, st.ConnectionID, st.CodeVerifier, st.RedirectURI,
		marshalJSON(st.Scopes), st.DisplayName, jsonObject(st.Config), st.ReturnTo, st.Actor, st.ActorName, st.CreatedAt, utc(&st.ExpiresAt))
	return s.conflict(err, "OAuth state collision; try again.")
}

// TakeOAuthState implements patchbay.ConnectionStore. The row is deleted
// by the same statement that reads it, so two callbacks racing with one
// state cannot both get it.
func (s *Store) TakeOAuthState(ctx context.Context, stateHash string, now time.Time) (*patchbay.OAuthState, error) {
	var st patchbay.OAuthState
	var scopes, config string
	err := s.w.QueryRowContext(ctx, `DELETE FROM oauth_states WHERE state = $1 RETURNING `+oauthStateColumns, stateHash).
		Scan(&st.StateHash, &st.OrgID, &st.ConnectorSlug, &st.ConnectionID, &st.CodeVerifier, &st.RedirectURI, &scopes,
			&st.DisplayName, &config, &st.ReturnTo, &st.Actor, &st.ActorName, &st.CreatedAt, &st.ExpiresAt)
	if err != nil {
		return nil, notFound(err, "Unknown or already used authorization state.")
	}
	st.CreatedAt, st.ExpiresAt = st.CreatedAt.UTC(), st.ExpiresAt.UTC()
	if !now.Before(st.ExpiresAt) {
		return nil, patchbay.Errorf(patchbay.ENOTFOUND, "The authorization has expired; start again.")
	}
	if err := json.Unmarshal([]byte(scopes), &st.Scopes); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(config), &st.Config); err != nil {
		return nil, err
	}
	return &st, nil
}
