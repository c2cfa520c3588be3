package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/patchbay/patchbay"
)

func scanSettings(row scanner) (*patchbay.Settings, error) {
	var s patchbay.Settings
	var retention, requests, idempotency, opsRet, itemsRet, inboundRet int64
	var schedule string
	if err := row.Scan(&s.OrgID, &retention, &schedule, &s.MaxAttempts, anyTime{&s.UpdatedAt}, &requests, &idempotency,
		&opsRet, &itemsRet, &inboundRet); err != nil {
		return nil, err
	}
	var seconds []int64
	if err := json.Unmarshal([]byte(schedule), &seconds); err != nil {
		return nil, err
	}
	for _, sec := range seconds {
		s.RetrySchedule = append(s.RetrySchedule, time.Duration(sec)*time.Second)
	}
	s.DeliveryRetention, s.UpdatedAt = time.Duration(retention)*time.Second, s.UpdatedAt.UTC()
	s.RequestRetention, s.IdempotencyRetention = time.Duration(requests)*time.Second, time.Duration(idempotency)*time.Second
	s.OperationLogRetention = time.Duration(opsRet) * time.Second
	s.SyncItemRetention = time.Duration(itemsRet) * time.Second
	s.InboundRetention = time.Duration(inboundRet) * time.Second
	return &s, nil
}

const settingsColumns = `org_id, delivery_retention_s, retry_schedule, max_attempts, updated_at,
	request_retention_s, idempotency_retention_s, operation_log_retention_s, sync_item_retention_s, inbound_retention_s`

// FindSettings implements patchbay.SettingsStore.
func (s *Store) FindSettings(ctx context.Context, orgID string) (*patchbay.Settings, error) {
	st, err := scanSettings(s.r.QueryRowContext(ctx, `SELECT `+settingsColumns+` FROM org_settings WHERE org_id = $1`, orgID))
	if errors.Is(err, sql.ErrNoRows) {
		return &patchbay.Settings{OrgID: orgID}, nil
	}
	return st, err
}

// SaveSettings implements patchbay.SettingsStore.
func (s *Store) SaveSettings(ctx context.Context, st *patchbay.Settings) error {
	st.UpdatedAt = s.now()
	seconds := make([]int64, len(st.RetrySchedule))
	for i, d := range st.RetrySchedule {
		seconds[i] = int64(d / time.Second)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO org_settings (`+settingsColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (org_id) DO UPDATE SET delivery_retention_s = excluded.delivery_retention_s,
			retry_schedule = excluded.retry_schedule, max_attempts = excluded.max_attempts, updated_at = excluded.updated_at,
			request_retention_s = excluded.request_retention_s, idempotency_retention_s = excluded.idempotency_retention_s,
			operation_log_retention_s = excluded.operation_log_retention_s,
			sync_item_retention_s = excluded.sync_item_retention_s, inbound_retention_s = excluded.inbound_retention_s`,
		st.OrgID, int64(st.DeliveryRetention/time.Second), marshalJSON(seconds), st.MaxAttempts, st.UpdatedAt,
		int64(st.RequestRetention/time.Second), int64(st.IdempotencyRetention/time.Second),
		int64(st.OperationLogRetention/time.Second), int64(st.SyncItemRetention/time.Second),
		int64(st.InboundRetention/time.Second))
	return err
}

// ListSettings implements patchbay.SettingsStore: every org, with defaults
// for those that saved none.
func (s *Store) ListSettings(ctx context.Context) ([]*patchbay.Settings, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT o.id, COALESCE(s.delivery_retention_s, 0), COALESCE(s.retry_schedule, '[]'),
		COALESCE(s.max_attempts, 0), COALESCE(s.updated_at, o.created_at),
		COALESCE(s.request_retention_s, 0), COALESCE(s.idempotency_retention_s, 0), COALESCE(s.operation_log_retention_s, 0),
		COALESCE(s.sync_item_retention_s, 0), COALESCE(s.inbound_retention_s, 0)
		FROM orgs o LEFT JOIN org_settings s ON s.org_id = o.id ORDER BY o.id`)
	return collect(rows, err, func(r *sql.Rows) (*patchbay.Settings, error) { return scanSettings(r) })
}

// PruneDeliveries implements patchbay.SettingsStore. A delivery's attempts
// go with it: the tables keep no foreign keys (migration 10).
func (s *Store) PruneDeliveries(ctx context.Context, orgID string, cutoff time.Time, limit int) (int, error) {
	var n int
	err := s.inTx(ctx, func(t *Store) error {
		rows, err := t.w.QueryContext(ctx, `DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries
			WHERE org_id = $1 AND status IN ('delivered', 'dead_letter') AND created_at < $2 ORDER BY created_at LIMIT $3)
			RETURNING id`, orgID, utc(&cutoff), limit)
		ids, err := collect(rows, err, func(r *sql.Rows) (string, error) {
			var id string
			return id, r.Scan(&id)
		})
		if err != nil {
			return err
		}
		n = len(ids)
		for len(ids) > 0 {
			chunk := ids[:min(len(ids), 500)]
			ids = ids[len(chunk):]
			var q query
			if _, err := t.w.ExecContext(ctx, `DELETE FROM attempts WHERE delivery_id IN (`+argList(&q, chunk)+`)`,
				q.args...); err != nil {
				return err
			}
		}
		_, err = t.w.ExecContext(ctx, `DELETE FROM events WHERE id IN (SELECT e.id FROM events e
			WHERE e.org_id = $1 AND e.created_at < $2
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) ORDER BY e.created_at LIMIT $3)`,
			orgID, utc(&cutoff), limit)
		return err
	})
	return n, err
}

// SummarizeDeliveries implements patchbay.SettingsStore (seed 000's
// delivery summary per endpoint).
func (s *Store) SummarizeDeliveries(ctx context.Context, orgID string, since time.Time) ([]*patchbay.EndpointSummary, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT d.endpoint_id, COUNT(*),
		SUM(CASE WHEN d.status = 'delivered' THEN 1 ELSE 0 END),
		SUM(CASE WHEN d.status = 'dead_letter' THEN 1 ELSE 0 END),
		SUM(CASE WHEN d.status IN ('pending', 'retrying', 'held', 'sending') THEN 1 ELSE 0 END),
		COALESCE((SELECT AVG(a.latency_ms) FROM attempts a JOIN deliveries x ON x.id = a.delivery_id
			WHERE x.org_id = $1 AND x.endpoint_id = d.endpoint_id AND x.created_at >= $2), 0),
		MAX(d.delivered_at)
		FROM deliveries d WHERE d.org_id = $1 AND d.endpoint_id <> '' AND d.created_at >= $2
		GROUP BY d.endpoint_id ORDER BY d.endpoint_id`, orgID, utc(&since))
	return collect(rows, err, func(r *sql.Rows) (*patchbay.EndpointSummary, error) {
		var e patchbay.EndpointSummary
		var avg float64
		var last time.Time
		if err := r.Scan(&e.EndpointID, &e.Total, &e.Delivered, &e.Failed, &e.Waiting, &avg, anyTime{&last}); err != nil {
			return nil, err
		}
		e.AvgLatency = time.Duration(avg * float64(time.Millisecond))
		if !last.IsZero() {
			e.LastDelivery = &last
		}
		return &e, nil
	})
}

// AcquireLease implements patchbay.SettingsStore with a row in meta whose
// value is the owner and whose time is the lease's end.
func (s *Store) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	now := s.now()
	until := now.Add(ttl)
	res, err := s.w.ExecContext(ctx, `INSERT INTO meta (key, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
		WHERE meta.value = excluded.value OR meta.updated_at < $4`, "lease:"+name, owner, utc(&until), utc(&now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
