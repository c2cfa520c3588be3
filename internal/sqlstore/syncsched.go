package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/patchbay/patchbay"
)

// prefixed qualifies every column of a column list with a table alias.
func prefixed(alias, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = alias + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// AddSyncOps implements patchbay.SyncStore.
func (s *Store) AddSyncOps(ctx context.Context, orgID, runID string, ops []*patchbay.SyncOp) error {
	for _, o := range ops {
		if err := o.Validate(); err != nil {
			return err
		}
	}
	return s.inTx(ctx, func(t *Store) error {
		if _, err := t.FindSyncRun(ctx, orgID, runID); err != nil {
			return err
		}
		now := t.now()
		added := map[string]bool{}
		for i, o := range ops {
			if o.ParentID != "" && !added[o.ParentID] {
				var n int
				if err := t.w.QueryRowContext(ctx, `SELECT COUNT(*) FROM sync_ops WHERE run_id = $1 AND id = $2`,
					runID, o.ParentID).Scan(&n); err != nil {
					return err
				}
				if n == 0 {
					return patchbay.Errorf(patchbay.EINVALID, "parent_id %q is not an entry of this run.", o.ParentID)
				}
			}
			if o.ID == "" {
				o.ID = patchbay.NewID("op")
			}
			o.OrgID, o.RunID = orgID, runID
			if o.At.IsZero() {
				// Entries of one batch keep their order in a log ordered
				// by time: each is a microsecond after the one before.
				o.At = now.Add(time.Duration(i) * time.Microsecond)
			}
			var data any
			if len(o.Data) > 0 {
				data = string(o.Data)
			}
			_, err := t.w.ExecContext(ctx, `INSERT INTO sync_ops (id, org_id, run_id, parent_id, level, message, data, at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, o.ID, orgID, runID, o.ParentID, o.Level, o.Message, data, utc(&o.At))
			if err = t.conflict(err, "Operation id %q is taken.", o.ID); err != nil {
				return err
			}
			added[o.ID] = true
		}
		return nil
	})
}

// ListSyncOps implements patchbay.SyncStore.
func (s *Store) ListSyncOps(ctx context.Context, orgID, runID string, p patchbay.Page) ([]*patchbay.SyncOp, string, error) {
	if _, err := s.FindSyncRun(ctx, orgID, runID); err != nil {
		return nil, "", err
	}
	var q query
	q.sql.WriteString(`SELECT id, org_id, run_id, parent_id, level, message, COALESCE(data, 'null'), at FROM sync_ops`)
	q.and("org_id = " + q.arg(orgID))
	q.and("run_id = " + q.arg(runID))
	tail, err := q.pageAscending(p, "at")
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, q.String(tail), q.args...)
	list, err := collect(rows, err, func(r *sql.Rows) (*patchbay.SyncOp, error) {
		var o patchbay.SyncOp
		var data string
		if err := r.Scan(&o.ID, &o.OrgID, &o.RunID, &o.ParentID, &o.Level, &o.Message, &data, &o.At); err != nil {
			return nil, err
		}
		if data != "null" {
			o.Data = []byte(data)
		}
		o.At = o.At.UTC()
		return &o, nil
	})
	if err != nil {
		return nil, "", err
	}
	list, next := nextCursor(list, p, func(o *patchbay.SyncOp) (time.Time, string) { return o.At, o.ID })
	return list, next, nil
}

const syncScheduleColumns = `org_id, connection_id, entity_type, direction, interval_s, enabled, next_run_at,
	consecutive_failures, health, last_run_id, last_run_at, created_at, updated_at`

func scanSyncSchedule(row scanner) (*patchbay.SyncSchedule, error) {
	var s patchbay.SyncSchedule
	var interval int64
	var next, last sql.NullTime
	err := row.Scan(&s.OrgID, &s.ConnectionID, &s.EntityType, &s.Direction, &interval, &s.Enabled, &next,
		&s.ConsecutiveFailures, &s.Health, &s.LastRunID, &last, &s.CreatedAt, &s.UpdatedAt)
	if err != nil {
		return nil, err
	}
	s.Interval = time.Duration(interval) * time.Second
	if next.Valid {
		s.NextRunAt = next.Time.UTC()
	}
	s.LastRunAt, s.CreatedAt, s.UpdatedAt = timePtr(last), s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	return &s, nil
}

// PutSyncSchedule implements patchbay.SyncStore.
func (s *Store) PutSyncSchedule(ctx context.Context, sch *patchbay.SyncSchedule) error {
	if err := sch.Validate(); err != nil {
		return err
	}
	return s.inTx(ctx, func(t *Store) error {
		if _, err := t.FindConnection(ctx, sch.OrgID, sch.ConnectionID); err != nil {
			return err
		}
		old, err := t.FindSyncSchedule(ctx, sch.OrgID, sch.ConnectionID, sch.EntityType, sch.Direction)
		switch {
		case err == nil:
			sch.CreatedAt = old.CreatedAt
		case patchbay.ErrorCode(err) == patchbay.ENOTFOUND:
			sch.CreatedAt = t.now()
		default:
			return err
		}
		return t.saveSchedule(ctx, sch)
	})
}

// saveSchedule upserts a schedule as it is.
func (s *Store) saveSchedule(ctx context.Context, sch *patchbay.SyncSchedule) error {
	sch.UpdatedAt = s.now()
	if sch.CreatedAt.IsZero() {
		sch.CreatedAt = sch.UpdatedAt
	}
	var next any
	if !sch.NextRunAt.IsZero() {
		next = utc(&sch.NextRunAt)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO sync_schedules (`+syncScheduleColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (connection_id, entity_type, direction) DO UPDATE SET interval_s = excluded.interval_s,
			enabled = excluded.enabled, next_run_at = excluded.next_run_at,
			consecutive_failures = excluded.consecutive_failures, health = excluded.health,
			last_run_id = excluded.last_run_id, last_run_at = excluded.last_run_at, updated_at = excluded.updated_at`,
		sch.OrgID, sch.ConnectionID, sch.EntityType, sch.Direction, int64(sch.Interval/time.Second), sch.Enabled, next,
		sch.ConsecutiveFailures, sch.Health, sch.LastRunID, utc(sch.LastRunAt), sch.CreatedAt, sch.UpdatedAt)
	return err
}

// FindSyncSchedule implements patchbay.SyncStore.
func (s *Store) FindSyncSchedule(ctx context.Context, orgID, connectionID, entityType string, dir patchbay.SyncDirection) (*patchbay.SyncSchedule, error) {
	sch, err := scanSyncSchedule(s.r.QueryRowContext(ctx, `SELECT `+syncScheduleColumns+` FROM sync_schedules
		WHERE org_id = $1 AND connection_id = $2 AND entity_type = $3 AND direction = $4`+s.forUpdate(),
		orgID, connectionID, entityType, dir))
	if err != nil {
		return nil, notFound(err, "Sync schedule not found.")
	}
	return sch, nil
}

// ListSyncSchedules implements patchbay.SyncStore.
func (s *Store) ListSyncSchedules(ctx context.Context, orgID, connectionID string) ([]*patchbay.SyncSchedule, error) {
	if _, err := s.FindConnection(ctx, orgID, connectionID); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+syncScheduleColumns+` FROM sync_schedules
		WHERE org_id = $1 AND connection_id = $2 ORDER BY entity_type, direction`, orgID, connectionID)
	return collect(rows, err, func(r *sql.Rows) (*patchbay.SyncSchedule, error) { return scanSyncSchedule(r) })
}

// DueSyncSchedules implements patchbay.SyncStore.
func (s *Store) DueSyncSchedules(ctx context.Context, now time.Time, limit int) ([]*patchbay.SyncSchedule, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+prefixed("s.", syncScheduleColumns)+` FROM sync_schedules s
		JOIN connections c ON c.id = s.connection_id AND c.org_id = s.org_id
		WHERE s.enabled AND s.health <> 'disabled' AND s.next_run_at IS NOT NULL AND s.next_run_at <= $1
		AND c.state = 'active' ORDER BY s.next_run_at LIMIT $2`, utc(&now), limit)
	return collect(rows, err, func(r *sql.Rows) (*patchbay.SyncSchedule, error) { return scanSyncSchedule(r) })
}
