package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/patchbay/patchbay"
)

const apiKeyColumns = `id, org_id, name, prefix, hash, role_id, scopes, rate_limit, created_by,
	created_at, last_used_at, expires_at, revoked_at`

func scanAPIKey(row scanner) (*patchbay.APIKey, error) {
	var k patchbay.APIKey
	var scopes string
	var last, expires, revoked sql.NullTime
	err := row.Scan(&k.ID, &k.OrgID, &k.Name, &k.Prefix, &k.Hash, &k.RoleID, &scopes, &k.RateLimit, &k.CreatedBy,
		&k.CreatedAt, &last, &expires, &revoked)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(scopes), &k.Scopes); err != nil {
		return nil, err
	}
	k.LastUsedAt, k.ExpiresAt, k.RevokedAt = timePtr(last), timePtr(expires), timePtr(revoked)
	k.CreatedAt = k.CreatedAt.UTC()
	return &k, nil
}

// CreateAPIKey implements patchbay.APIKeyStore.
func (s *Store) CreateAPIKey(ctx context.Context, k *patchbay.APIKey) error {
	if err := k.Validate(); err != nil {
		return err
	}
	k.ID = patchbay.NewID("key")
	k.CreatedAt = s.now()
	_, err := s.w.ExecContext(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		k.ID, k.OrgID, k.Name, k.Prefix, k.Hash, k.RoleID, marshalJSON(k.Scopes), k.RateLimit, k.CreatedBy,
		k.CreatedAt, utc(k.LastUsedAt), utc(k.ExpiresAt), utc(k.RevokedAt))
	return s.conflict(err, "API key prefix collision; try again.")
}

// FindAPIKey implements patchbay.APIKeyStore.
func (s *Store) FindAPIKey(ctx context.Context, orgID, id string) (*patchbay.APIKey, error) {
	k, err := scanAPIKey(s.r.QueryRowContext(ctx,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, notFound(err, "API key not found.")
	}
	return k, nil
}

// FindAPIKeyByPrefix implements patchbay.APIKeyStore.
func (s *Store) FindAPIKeyByPrefix(ctx context.Context, prefix string) (*patchbay.APIKey, error) {
	k, err := scanAPIKey(s.r.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE prefix = $1`, prefix))
	if err != nil {
		return nil, notFound(err, "API key not found.")
	}
	return k, nil
}

// ListAPIKeys implements patchbay.APIKeyStore.
func (s *Store) ListAPIKeys(ctx context.Context, orgID string, f patchbay.APIKeyFilter) ([]*patchbay.APIKey, string, error) {
	var q query
	q.sql.WriteString(`SELECT ` + apiKeyColumns + ` FROM api_keys`)
	q.and("org_id = " + q.arg(orgID))
	if !f.IncludeRevoked {
		q.and("revoked_at IS NULL")
	}
	tail, err := q.page(f.Page, "created_at")
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, q.String(tail), q.args...)
	keys, err := collect(rows, err, func(r *sql.Rows) (*patchbay.APIKey, error) { return scanAPIKey(r) })
	if err != nil {
		return nil, "", err
	}
	keys, next := nextCursor(keys, f.Page, func(k *patchbay.APIKey) (time.Time, string) { return k.CreatedAt, k.ID })
	return keys, next, nil
}

// RevokeAPIKey implements patchbay.APIKeyStore.
func (s *Store) RevokeAPIKey(ctx context.Context, orgID, id string, at time.Time) (*patchbay.APIKey, error) {
	_, err := s.w.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $3
		WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL`, orgID, id, utc(&at))
	if err != nil {
		return nil, err
	}
	// Read through the write handle: on SQLite the read pool is another
	// connection, and inside a transaction this must see the update.
	k, err := scanAPIKey(s.w.QueryRowContext(ctx,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, notFound(err, "API key not found.")
	}
	return k, nil
}

// TouchAPIKey implements patchbay.APIKeyStore.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	_, err := s.w.ExecContext(ctx, `UPDATE api_keys SET last_used_at = $2 WHERE id = $1`, id, utc(&at))
	return err
}
