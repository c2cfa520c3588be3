package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/patchbay/patchbay"
)

const connectionColumns = `id, org_id, connector_slug, display_name, state, auth_mode, vendor_account_id,
	vendor_account_name, scopes, config, credential, refresh_token, expires_at, last_test_at, last_test_outcome,
	last_test_detail, health, consecutive_failures, last_delivery_at, operator_of_record, created_at, updated_at,
	disconnected_at`

func scanConnection(row scanner) (*patchbay.Connection, error) {
	var c patchbay.Connection
	var scopes, config string
	var expires, tested, delivered, disconnected sql.NullTime
	err := row.Scan(&c.ID, &c.OrgID, &c.ConnectorSlug, &c.DisplayName, &c.State, &c.AuthMode, &c.VendorAccountID,
		&c.VendorAccountName, &scopes, &config, &c.Credential, &c.RefreshToken, &expires, &tested, &c.LastTestOutcome,
		&c.LastTestDetail, &c.Health, &c.ConsecutiveFailures, &delivered, &c.OperatorOfRecord, &c.CreatedAt,
		&c.UpdatedAt, &disconnected)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(scopes), &c.Scopes); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(config), &c.Config); err != nil {
		return nil, err
	}
	c.ExpiresAt, c.LastTestAt, c.LastDeliveryAt, c.DisconnectedAt =
		timePtr(expires), timePtr(tested), timePtr(delivered), timePtr(disconnected)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, nil
}

func jsonObject(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	return marshalJSON(m)
}

// CreateConnection implements patchbay.ConnectionStore.
func (s *Store) CreateConnection(ctx context.Context, c *patchbay.Connection) error {
	if c.ID == "" {
		c.ID = patchbay.NewID("con")
	}
	if c.Health == "" {
		c.Health = patchbay.HealthHealthy
	}
	c.CreatedAt = s.now()
	c.UpdatedAt = c.CreatedAt
	_, err := s.w.ExecContext(ctx, `INSERT INTO connections (`+connectionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)`,
		c.ID, c.OrgID, c.ConnectorSlug, c.DisplayName, c.State, c.AuthMode, c.VendorAccountID, c.VendorAccountName,
		marshalJSON(c.Scopes), jsonObject(c.Config), c.Credential, c.RefreshToken, utc(c.ExpiresAt), utc(c.LastTestAt),
		c.LastTestOutcome, c.LastTestDetail, c.Health, c.ConsecutiveFailures, utc(c.LastDeliveryAt), c.OperatorOfRecord,
		c.CreatedAt, c.UpdatedAt, utc(c.DisconnectedAt))
	return s.conflict(err, "Connection id collision; try again.")
}

// FindConnection implements patchbay.ConnectionStore.
func (s *Store) FindConnection(ctx context.Context, orgID, id string) (*patchbay.Connection, error) {
	c, err := scanConnection(s.r.QueryRowContext(ctx,
		`SELECT `+connectionColumns+` FROM connections WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, notFound(err, "Connection not found.")
	}
	return c, nil
}

// LockConnection implements patchbay.ConnectionStore.
func (s *Store) LockConnection(ctx context.Context, orgID, id string) (*patchbay.Connection, error) {
	c, err := scanConnection(s.w.QueryRowContext(ctx,
		`SELECT `+connectionColumns+` FROM connections WHERE org_id = $1 AND id = $2`+s.cfg.Dialect.ForUpdate, orgID, id))
	if err != nil {
		return nil, notFound(err, "Connection not found.")
	}
	return c, nil
}

// likePattern returns a LIKE pattern matching text anywhere, with LIKE's
// wildcards in text escaped (the query adds ESCAPE '\').
func likePattern(text string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + strings.ToLower(r.Replace(text)) + "%"
}

// ListConnections implements patchbay.ConnectionStore.
func (s *Store) ListConnections(ctx context.Context, orgID string, f patchbay.ConnectionFilter) ([]*patchbay.Connection, string, error) {
	var q query
	q.sql.WriteString(`SELECT ` + connectionColumns + ` FROM connections`)
	q.and("org_id = " + q.arg(orgID))
	if f.State != "" {
		q.and("state = " + q.arg(f.State))
	} else if !f.IncludeDisconnected {
		q.and("state <> " + q.arg(patchbay.StateDisconnected))
	}
	if f.Slugs != nil {
		if len(f.Slugs) == 0 {
			return nil, "", nil
		}
		q.and("connector_slug IN (" + argList(&q, f.Slugs) + ")")
	}
	if f.Query != "" {
		p := q.arg(likePattern(f.Query))
		q.and(`(lower(display_name) LIKE ` + p + ` ESCAPE '\' OR lower(connector_slug) LIKE ` + p +
			` ESCAPE '\' OR lower(vendor_account_name) LIKE ` + p + ` ESCAPE '\' OR lower(vendor_account_id) LIKE ` + p + ` ESCAPE '\')`)
	}
	tail, err := q.page(f.Page, "created_at")
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, q.String(tail), q.args...)
	list, err := collect(rows, err, func(r *sql.Rows) (*patchbay.Connection, error) { return scanConnection(r) })
	if err != nil {
		return nil, "", err
	}
	list, next := nextCursor(list, f.Page, func(c *patchbay.Connection) (time.Time, string) { return c.CreatedAt, c.ID })
	return list, next, nil
}

// UpdateConnection implements patchbay.ConnectionStore.
func (s *Store) UpdateConnection(ctx context.Context, c *patchbay.Connection) error {
	c.UpdatedAt = s.now()
	res, err := s.w.ExecContext(ctx, `UPDATE connections SET display_name = $3, state = $4, vendor_account_id = $5,
		vendor_account_name = $6, scopes = $7, config = $8, credential = $9, refresh_token = $10, expires_at = $11,
		last_test_at = $12, last_test_outcome = $13, last_test_detail = $14, health = $15, consecutive_failures = $16,
		last_delivery_at = $17, updated_at = $18, disconnected_at = $19, auth_mode = $20
		WHERE org_id = $1 AND id = $2`,
		c.OrgID, c.ID, c.DisplayName, c.State, c.VendorAccountID, c.VendorAccountName, marshalJSON(c.Scopes),
		jsonObject(c.Config), c.Credential, c.RefreshToken, utc(c.ExpiresAt), utc(c.LastTestAt), c.LastTestOutcome,
		c.LastTestDetail, c.Health, c.ConsecutiveFailures, utc(c.LastDeliveryAt), c.UpdatedAt, utc(c.DisconnectedAt),
		c.AuthMode)
	return mustAffect(res, err, "Connection not found.")
}

// ClaimRefresh implements patchbay.ConnectionStore.
func (s *Store) ClaimRefresh(ctx context.Context, orgID, id string, expiresAt *time.Time, claim string, until time.Time) (bool, error) {
	now := s.now()
	cond := "expires_at IS NULL"
	args := []any{orgID, id, claim, utc(&until), now}
	if expiresAt != nil {
		cond = "expires_at = $6"
		args = append(args, utc(expiresAt))
	}
	res, err := s.w.ExecContext(ctx, `UPDATE connections SET refresh_claim = $3, refresh_claimed_until = $4
		WHERE org_id = $1 AND id = $2 AND (refresh_claimed_until IS NULL OR refresh_claimed_until < $5) AND `+cond, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReleaseRefresh implements patchbay.ConnectionStore.
func (s *Store) ReleaseRefresh(ctx context.Context, orgID, id, claim string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE connections SET refresh_claim = '', refresh_claimed_until = NULL
		WHERE org_id = $1 AND id = $2 AND refresh_claim = $3`, orgID, id, claim)
	return err
}

// ListExpiring implements patchbay.ConnectionStore.
func (s *Store) ListExpiring(ctx context.Context, before time.Time, limit int) ([]*patchbay.Connection, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+connectionColumns+` FROM connections
		WHERE state = 'active' AND refresh_token <> '' AND expires_at IS NOT NULL AND expires_at < $1
		ORDER BY expires_at LIMIT $2`, utc(&before), limit)
	return collect(rows, err, func(r *sql.Rows) (*patchbay.Connection, error) { return scanConnection(r) })
}

// ReportConnections implements patchbay.ConnectionStore.
func (s *Store) ReportConnections(ctx context.Context, orgID string, now time.Time) (*patchbay.ConnectionReport, error) {
	rep := &patchbay.ConnectionReport{ActiveByConnector: map[string]int{}, ByState: map[patchbay.ConnectionState]int{}}
	soon := now.Add(7 * 24 * time.Hour)
	rows, err := s.r.QueryContext(ctx, `SELECT connector_slug, state,
		CASE WHEN expires_at IS NULL THEN 'none' WHEN expires_at <= $2 THEN 'expired'
		     WHEN expires_at <= $3 THEN 'soon' ELSE 'valid' END AS expiry, COUNT(*)
		FROM connections WHERE org_id = $1 AND state <> 'disconnected'
		GROUP BY connector_slug, state, expiry`, orgID, utc(&now), utc(&soon))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var slug, expiry string
		var state patchbay.ConnectionState
		var n int
		if err := rows.Scan(&slug, &state, &expiry, &n); err != nil {
			return nil, err
		}
		rep.ByState[state] += n
		if state == patchbay.StateActive {
			rep.ActiveByConnector[slug] += n
		}
		switch expiry {
		case "none":
			rep.TokensNoExpiry += n
		case "expired":
			rep.TokensExpired += n
		case "soon":
			rep.TokensExpiringSoon += n
		default:
			rep.TokensValid += n
		}
	}
	return rep, rows.Err()
}
