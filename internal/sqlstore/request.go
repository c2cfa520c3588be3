package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/patchbay/patchbay"
)

const requestColumns = `id, org_id, connection_id, connector, source, method, path, status_code, duration_ms, vendor_request_id,
	idempotency_key, retry_of, attempt, cache_hit, stale, replayed, error, request_body, response_body, created_at`

func scanRequest(row scanner) (*patchbay.APIRequest, error) {
	var r patchbay.APIRequest
	var ms int64
	err := row.Scan(&r.ID, &r.OrgID, &r.ConnectionID, &r.Connector, &r.Source, &r.Method, &r.Path, &r.StatusCode, &ms,
		&r.VendorRequestID, &r.IdempotencyKey, &r.RetryOf, &r.Attempt, &r.CacheHit, &r.Stale, &r.Replayed, &r.Error,
		&r.RequestBody, &r.ResponseBody, &r.CreatedAt)
	r.Duration, r.CreatedAt = time.Duration(ms)*time.Millisecond, r.CreatedAt.UTC()
	return &r, err
}

// CreateRequest implements patchbay.RequestStore.
func (s *Store) CreateRequest(ctx context.Context, r *patchbay.APIRequest) error {
	if r.ID == "" {
		r.ID = patchbay.NewID("req")
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now()
	}
	if r.Attempt == 0 {
		r.Attempt = 1
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO api_requests (`+requestColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
		r.ID, r.OrgID, r.ConnectionID, r.Connector, string(r.Source), r.Method, r.Path, r.StatusCode, r.Duration.Milliseconds(),
		r.VendorRequestID, r.IdempotencyKey, r.RetryOf, r.Attempt, r.CacheHit, r.Stale, r.Replayed, r.Error,
		r.RequestBody, r.ResponseBody, utc(&r.CreatedAt))
	return s.conflict(err, "Request %s exists.", r.ID)
}

// FindRequest implements patchbay.RequestStore.
func (s *Store) FindRequest(ctx context.Context, orgID, id string) (*patchbay.APIRequest, error) {
	r, err := scanRequest(s.r.QueryRowContext(ctx, `SELECT `+requestColumns+` FROM api_requests WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, notFound(err, "Request not found.")
	}
	return r, nil
}

// ListRequests implements patchbay.RequestStore.
func (s *Store) ListRequests(ctx context.Context, orgID string, f patchbay.RequestFilter) ([]*patchbay.APIRequest, string, error) {
	var q query
	q.sql.WriteString(`SELECT ` + requestColumns + ` FROM api_requests`)
	q.and("org_id = " + q.arg(orgID))
	if f.ConnectionID != "" {
		q.and("connection_id = " + q.arg(f.ConnectionID))
	}
	if f.Source != "" {
		q.and("source = " + q.arg(string(f.Source)))
	}
	if f.Method != "" {
		q.and("method = " + q.arg(strings.ToUpper(f.Method)))
	}
	if f.StatusCode != 0 {
		q.and("status_code = " + q.arg(f.StatusCode))
	}
	if f.StatusClass != 0 {
		q.and("status_code >= " + q.arg(f.StatusClass*100) + " AND status_code < " + q.arg(f.StatusClass*100+100))
	}
	if f.Query != "" {
		q.and(`lower(path) LIKE ` + q.arg(likePattern(f.Query)) + ` ESCAPE '\'`)
	}
	tail, err := q.createdPage(f.Since, f.Until, f.Page, f.Oldest)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, q.String(tail), q.args...)
	list, err := collect(rows, err, func(r *sql.Rows) (*patchbay.APIRequest, error) { return scanRequest(r) })
	if err != nil {
		return nil, "", err
	}
	list, next := nextCursor(list, f.Page, func(r *patchbay.APIRequest) (time.Time, string) { return r.CreatedAt, r.ID })
	return list, next, nil
}

// pruneBatch deletes up to limit rows of an org's table matching cond
// (with $2 as its one parameter), oldest first.
func (s *Store) pruneBatch(ctx context.Context, table, cond, orderBy, orgID string, arg any, limit int) (int, error) {
	// Table and column names are constants of this file, never input.
	res, err := s.w.ExecContext(ctx, `DELETE FROM `+table+` WHERE id IN (SELECT id FROM `+table+`
		WHERE org_id = $1 AND `+cond+` ORDER BY `+orderBy+` LIMIT $3)`, orgID, arg, limit)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// PruneRequests implements patchbay.RequestStore.
func (s *Store) PruneRequests(ctx context.Context, orgID string, cutoff time.Time, limit int) (int, error) {
	return s.pruneBatch(ctx, "api_requests", "created_at < $2", "created_at", orgID, utc(&cutoff), limit)
}

const idempotencyColumns = `id, org_id, connection_id, idem_key, request_hash, state, status_code, headers, response_body,
	locked_until, created_at, completed_at`

func scanIdempotency(row scanner) (*patchbay.IdempotencyRecord, error) {
	var r patchbay.IdempotencyRecord
	var headers string
	var completed sql.NullTime
	err := row.Scan(&r.ID, &r.OrgID, &r.ConnectionID, &r.Key, &r.RequestHash, &r.State, &r.StatusCode, &headers, &r.Body,
		&r.LockedUntil, &r.CreatedAt, &completed)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(headers), &r.Header); err != nil {
		return nil, err
	}
	r.LockedUntil, r.CreatedAt, r.CompletedAt = r.LockedUntil.UTC(), r.CreatedAt.UTC(), timePtr(completed)
	return &r, nil
}

func headerJSON(h http.Header) string {
	if h == nil {
		return "{}"
	}
	return marshalJSON(h)
}

// ClaimIdempotencyKey implements patchbay.RequestStore. The unique index
// on (org, connection, key) decides between two replicas claiming at once.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, rec *patchbay.IdempotencyRecord, now time.Time) (*patchbay.IdempotencyRecord, bool, error) {
	var out *patchbay.IdempotencyRecord
	claimed := false
	err := s.inTx(ctx, func(t *Store) error {
		if rec.ID == "" {
			rec.ID = patchbay.NewID("idk")
		}
		rec.State, rec.CreatedAt, rec.CompletedAt = patchbay.IdempotencyInProgress, t.now(), nil
		res, err := t.w.ExecContext(ctx, `INSERT INTO idempotency_keys (`+idempotencyColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, 0, '{}', '', $7, $8, NULL)
			ON CONFLICT (org_id, connection_id, idem_key) DO NOTHING`,
			rec.ID, rec.OrgID, rec.ConnectionID, rec.Key, rec.RequestHash, string(rec.State), utc(&rec.LockedUntil), utc(&rec.CreatedAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			out, claimed = rec, true
			return nil
		}
		held, err := scanIdempotency(t.w.QueryRowContext(ctx, `SELECT `+idempotencyColumns+` FROM idempotency_keys
			WHERE org_id = $1 AND connection_id = $2 AND idem_key = $3`+t.cfg.Dialect.ForUpdate, rec.OrgID, rec.ConnectionID, rec.Key))
		if err != nil {
			return err
		}
		out = held
		if held.State != patchbay.IdempotencyInProgress || held.RequestHash != rec.RequestHash || !held.LockedUntil.Before(now) {
			return nil
		}
		// The caller that held it died mid-call: take it over.
		_, err = t.w.ExecContext(ctx, `UPDATE idempotency_keys SET locked_until = $2 WHERE id = $1`, held.ID, utc(&rec.LockedUntil))
		held.LockedUntil = rec.LockedUntil.UTC()
		claimed = true
		return err
	})
	return out, claimed, err
}

// CompleteIdempotencyKey implements patchbay.RequestStore.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, rec *patchbay.IdempotencyRecord) error {
	now := s.now()
	res, err := s.w.ExecContext(ctx, `UPDATE idempotency_keys SET state = $4, status_code = $5, headers = $6, response_body = $7,
		completed_at = $8 WHERE org_id = $1 AND connection_id = $2 AND id = $3 AND state = $9`,
		rec.OrgID, rec.ConnectionID, rec.ID, string(patchbay.IdempotencyCompleted), rec.StatusCode, headerJSON(rec.Header), rec.Body,
		utc(&now), string(patchbay.IdempotencyInProgress))
	if err := mustAffect(res, err, "Idempotency key %q is not in progress.", rec.Key); err != nil {
		return err
	}
	rec.State, rec.CompletedAt = patchbay.IdempotencyCompleted, &now
	return nil
}

// ReleaseIdempotencyKey implements patchbay.RequestStore.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, orgID, connectionID, key string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE org_id = $1 AND connection_id = $2 AND idem_key = $3
		AND state = $4`, orgID, connectionID, key, string(patchbay.IdempotencyInProgress))
	return err
}

// PruneIdempotencyKeys implements patchbay.RequestStore.
func (s *Store) PruneIdempotencyKeys(ctx context.Context, orgID string, cutoff time.Time, limit int) (int, error) {
	return s.pruneBatch(ctx, "idempotency_keys", "created_at < $2", "created_at", orgID, utc(&cutoff), limit)
}

const cacheColumns = `id, org_id, connection_id, cache_key, status_code, headers, body, stored_at, expires_at, stale_until`

// FindCacheEntry implements patchbay.RequestStore.
func (s *Store) FindCacheEntry(ctx context.Context, orgID, connectionID, key string) (*patchbay.CacheEntry, error) {
	var e patchbay.CacheEntry
	var headers string
	err := s.r.QueryRowContext(ctx, `SELECT `+cacheColumns+` FROM proxy_cache WHERE org_id = $1 AND connection_id = $2 AND cache_key = $3`,
		orgID, connectionID, key).Scan(&e.ID, &e.OrgID, &e.ConnectionID, &e.Key, &e.StatusCode, &headers, &e.Body, &e.StoredAt,
		&e.ExpiresAt, &e.StaleUntil)
	if err != nil {
		return nil, notFound(err, "No cached answer.")
	}
	if err := json.Unmarshal([]byte(headers), &e.Header); err != nil {
		return nil, err
	}
	e.StoredAt, e.ExpiresAt, e.StaleUntil = e.StoredAt.UTC(), e.ExpiresAt.UTC(), e.StaleUntil.UTC()
	return &e, nil
}

// PutCacheEntry implements patchbay.RequestStore. A replaced entry takes
// the new id, which its sealed body is bound to.
func (s *Store) PutCacheEntry(ctx context.Context, e *patchbay.CacheEntry) error {
	if e.StoredAt.IsZero() {
		e.StoredAt = s.now()
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO proxy_cache (`+cacheColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (org_id, connection_id, cache_key) DO UPDATE SET id = excluded.id, status_code = excluded.status_code,
			headers = excluded.headers, body = excluded.body, stored_at = excluded.stored_at, expires_at = excluded.expires_at,
			stale_until = excluded.stale_until`,
		e.ID, e.OrgID, e.ConnectionID, e.Key, e.StatusCode, headerJSON(e.Header), e.Body, utc(&e.StoredAt), utc(&e.ExpiresAt),
		utc(&e.StaleUntil))
	return err
}

// PruneCacheEntries implements patchbay.RequestStore.
func (s *Store) PruneCacheEntries(ctx context.Context, orgID string, now time.Time, limit int) (int, error) {
	return s.pruneBatch(ctx, "proxy_cache", "stale_until < $2", "stale_until", orgID, utc(&now), limit)
}
