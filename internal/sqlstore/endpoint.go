package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/patchbay/patchbay"
)

const endpointColumns = `id, org_id, url, description, event_types, active, disabled_at, consecutive_failures, secret,
	previous_secret, previous_secret_expires_at, rate_limit, timeout_ms, headers, schedule, max_attempts, connection_id,
	created_at, updated_at`

func scanEndpoint(row scanner) (*patchbay.Endpoint, error) {
	var e patchbay.Endpoint
	var types, headers, schedule string
	var disabled, prevExpires sql.NullTime
	var timeoutMS int64
	err := row.Scan(&e.ID, &e.OrgID, &e.URL, &e.Description, &types, &e.Active, &disabled, &e.ConsecutiveFailures,
		&e.Secret, &e.PreviousSecret, &prevExpires, &e.RateLimit, &timeoutMS, &headers, &schedule, &e.MaxAttempts,
		&e.ConnectionID, &e.CreatedAt, &e.UpdatedAt)
	if err != nil {
		return nil, err
	}
	var seconds []int64
	if err := json.Unmarshal([]byte(types), &e.EventTypes); err != nil {
		return nil, err
	} else if err := json.Unmarshal([]byte(headers), &e.Headers); err != nil {
		return nil, err
	} else if err := json.Unmarshal([]byte(schedule), &seconds); err != nil {
		return nil, err
	}
	for _, s := range seconds {
		e.Schedule = append(e.Schedule, time.Duration(s)*time.Second)
	}
	e.Timeout = time.Duration(timeoutMS) * time.Millisecond
	e.DisabledAt, e.PreviousSecretExpiresAt = timePtr(disabled), timePtr(prevExpires)
	e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	return &e, nil
}

// endpointArgs returns the column values of e, in endpointColumns order.
func endpointArgs(e *patchbay.Endpoint) []any {
	seconds := make([]int64, len(e.Schedule))
	for i, d := range e.Schedule {
		seconds[i] = int64(d / time.Second)
	}
	return []any{e.ID, e.OrgID, e.URL, e.Description, marshalJSON(e.EventTypes), e.Active, utc(e.DisabledAt),
		e.ConsecutiveFailures, e.Secret, e.PreviousSecret, utc(e.PreviousSecretExpiresAt), e.RateLimit,
		e.Timeout.Milliseconds(), jsonObject(e.Headers), marshalJSON(seconds), e.MaxAttempts, e.ConnectionID,
		e.CreatedAt, e.UpdatedAt}
}

// CreateEndpoint implements patchbay.DeliveryStore. A preset ID is kept
// (the sealed secret is bound to it).
func (s *Store) CreateEndpoint(ctx context.Context, e *patchbay.Endpoint) error {
	if e.ID == "" {
		e.ID = patchbay.NewID("ep")
	}
	e.CreatedAt = s.now()
	e.UpdatedAt = e.CreatedAt
	_, err := s.w.ExecContext(ctx, `INSERT INTO endpoints (`+endpointColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7,
		$8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`, endpointArgs(e)...)
	return s.conflict(err, "Endpoint id collision; try again.")
}

// FindEndpoint implements patchbay.DeliveryStore.
func (s *Store) FindEndpoint(ctx context.Context, orgID, id string) (*patchbay.Endpoint, error) {
	e, err := scanEndpoint(s.r.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM endpoints WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, notFound(err, "Endpoint not found.")
	}
	return e, nil
}

// LockEndpoint implements patchbay.DeliveryStore.
func (s *Store) LockEndpoint(ctx context.Context, orgID, id string) (*patchbay.Endpoint, error) {
	e, err := scanEndpoint(s.w.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM endpoints
		WHERE org_id = $1 AND id = $2`+s.cfg.Dialect.ForUpdate, orgID, id))
	if err != nil {
		return nil, notFound(err, "Endpoint not found.")
	}
	return e, nil
}

// ListEndpoints implements patchbay.DeliveryStore.
func (s *Store) ListEndpoints(ctx context.Context, orgID string, p patchbay.Page) ([]*patchbay.Endpoint, string, error) {
	var q query
	q.sql.WriteString(`SELECT ` + endpointColumns + ` FROM endpoints`)
	q.and("org_id = " + q.arg(orgID))
	tail, err := q.page(p, "created_at")
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, q.String(tail), q.args...)
	list, err := collect(rows, err, func(r *sql.Rows) (*patchbay.Endpoint, error) { return scanEndpoint(r) })
	if err != nil {
		return nil, "", err
	}
	list, next := nextCursor(list, p, func(e *patchbay.Endpoint) (time.Time, string) { return e.CreatedAt, e.ID })
	return list, next, nil
}

// SubscribedEndpoints implements patchbay.DeliveryStore. Subscriptions
// hold wildcards, so matching happens here rather than in SQL; an org has
// at most thousands of endpoints.
func (s *Store) SubscribedEndpoints(ctx context.Context, orgID, t string) ([]*patchbay.Endpoint, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+endpointColumns+` FROM endpoints WHERE org_id = $1`, orgID)
	all, err := collect(rows, err, func(r *sql.Rows) (*patchbay.Endpoint, error) { return scanEndpoint(r) })
	if err != nil {
		return nil, err
	}
	var out []*patchbay.Endpoint
	for _, e := range all {
		if e.Subscribed(t) {
			out = append(out, e)
		}
	}
	return out, nil
}

// UpdateEndpoint implements patchbay.DeliveryStore.
func (s *Store) UpdateEndpoint(ctx context.Context, e *patchbay.Endpoint) error {
	e.UpdatedAt = s.now()
	args := endpointArgs(e)
	args = append(args[:17:17], args[18]) // all but created_at
	res, err := s.w.ExecContext(ctx, `UPDATE endpoints SET url = $3, description = $4, event_types = $5, active = $6,
		disabled_at = $7, consecutive_failures = $8, secret = $9, previous_secret = $10, previous_secret_expires_at = $11,
		rate_limit = $12, timeout_ms = $13, headers = $14, schedule = $15, max_attempts = $16, connection_id = $17,
		updated_at = $18 WHERE id = $1 AND org_id = $2`, args...)
	return mustAffect(res, err, "Endpoint not found.")
}

// DeleteEndpoint implements patchbay.DeliveryStore. Its deliveries stay in
// the log.
func (s *Store) DeleteEndpoint(ctx context.Context, orgID, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM endpoints WHERE org_id = $1 AND id = $2`, orgID, id)
	return mustAffect(res, err, "Endpoint not found.")
}
