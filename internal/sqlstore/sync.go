package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/patchbay/patchbay"
)

const syncRunColumns = `id, org_id, connection_id, direction, entity_type, status, trigger_kind, processed, failed,
	cursor_start, cursor_end, error, started_at, finished_at, created_at, updated_at`

func scanSyncRun(row scanner) (*patchbay.SyncRun, error) {
	var r patchbay.SyncRun
	var started, finished sql.NullTime
	err := row.Scan(&r.ID, &r.OrgID, &r.ConnectionID, &r.Direction, &r.EntityType, &r.Status, &r.Trigger, &r.Processed,
		&r.Failed, &r.CursorStart, &r.CursorEnd, &r.Error, &started, &finished, &r.CreatedAt, &r.UpdatedAt)
	if err != nil {
		return nil, err
	}
	r.StartedAt, r.FinishedAt = timePtr(started), timePtr(finished)
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return &r, nil
}

// CreateSyncRun implements patchbay.SyncStore.
func (s *Store) CreateSyncRun(ctx context.Context, r *patchbay.SyncRun) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return s.inTx(ctx, func(t *Store) error {
		if _, err := t.FindConnection(ctx, r.OrgID, r.ConnectionID); err != nil {
			return err
		}
		cur, err := t.FindSyncCursor(ctx, r.OrgID, r.ConnectionID, r.EntityType, r.Direction)
		switch {
		case err == nil:
			r.CursorStart = cur.Value
		case patchbay.ErrorCode(err) != patchbay.ENOTFOUND:
			return err
		}
		r.ID, r.Status, r.CursorEnd = patchbay.NewID("syn"), patchbay.SyncPending, r.CursorStart
		r.Processed, r.Failed, r.Error, r.StartedAt, r.FinishedAt = 0, 0, "", nil, nil
		r.CreatedAt = t.now()
		r.UpdatedAt = r.CreatedAt
		_, err = t.w.ExecContext(ctx, `INSERT INTO sync_runs (`+syncRunColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
			r.ID, r.OrgID, r.ConnectionID, r.Direction, r.EntityType, r.Status, r.Trigger, 0, 0, r.CursorStart,
			r.CursorEnd, "", nil, nil, r.CreatedAt, r.UpdatedAt)
		return t.conflict(err, "A %s sync of %s over this connection is already pending or running.", r.Direction, r.EntityType)
	})
}

// FindSyncRun implements patchbay.SyncStore.
func (s *Store) FindSyncRun(ctx context.Context, orgID, id string) (*patchbay.SyncRun, error) {
	r, err := scanSyncRun(s.r.QueryRowContext(ctx, `SELECT `+syncRunColumns+` FROM sync_runs WHERE org_id = $1 AND id = $2`+
		s.forUpdate(), orgID, id))
	if err != nil {
		return nil, notFound(err, "Sync run not found.")
	}
	return r, nil
}

// forUpdate locks the rows a SELECT reads when inside a transaction.
func (s *Store) forUpdate() string {
	if s.tx != nil {
		return s.cfg.Dialect.ForUpdate
	}
	return ""
}

// ListSyncRuns implements patchbay.SyncStore.
func (s *Store) ListSyncRuns(ctx context.Context, orgID string, f patchbay.SyncRunFilter) ([]*patchbay.SyncRun, string, error) {
	var q query
	q.sql.WriteString(`SELECT ` + syncRunColumns + ` FROM sync_runs`)
	q.and("org_id = " + q.arg(orgID))
	for col, v := range map[string]string{"connection_id": f.ConnectionID, "status": string(f.Status),
		"entity_type": f.EntityType, "direction": string(f.Direction)} {
		if v != "" {
			q.and(col + " = " + q.arg(v))
		}
	}
	tail, err := q.createdPage(f.From, f.To, f.Page, false)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, q.String(tail), q.args...)
	list, err := collect(rows, err, func(r *sql.Rows) (*patchbay.SyncRun, error) { return scanSyncRun(r) })
	if err != nil {
		return nil, "", err
	}
	list, next := nextCursor(list, f.Page, func(r *patchbay.SyncRun) (time.Time, string) { return r.CreatedAt, r.ID })
	return list, next, nil
}

// StartSyncRun implements patchbay.SyncStore.
func (s *Store) StartSyncRun(ctx context.Context, orgID, id string) (*patchbay.SyncRun, error) {
	var r *patchbay.SyncRun
	err := s.inTx(ctx, func(t *Store) error {
		var err error
		r, err = t.startRun(ctx, orgID, id)
		return err
	})
	return r, err
}

// startRun locks a run and moves it to running when pending; s is in a
// transaction.
func (s *Store) startRun(ctx context.Context, orgID, id string) (*patchbay.SyncRun, error) {
	r, err := s.FindSyncRun(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	switch r.Status {
	case patchbay.SyncRunning:
		return r, nil
	case patchbay.SyncCompleted, patchbay.SyncFailed:
		return nil, patchbay.Errorf(patchbay.ECONFLICT, "The sync run is already %s.", r.Status)
	}
	now := s.now()
	r.Status, r.StartedAt, r.UpdatedAt = patchbay.SyncRunning, &now, now
	_, err = s.w.ExecContext(ctx, `UPDATE sync_runs SET status = $3, started_at = $4, updated_at = $4 WHERE org_id = $1 AND id = $2`,
		orgID, id, r.Status, now)
	return r, err
}

// FinishSyncRun implements patchbay.SyncStore.
func (s *Store) FinishSyncRun(ctx context.Context, orgID, id string, f patchbay.SyncFinish) (*patchbay.SyncRun, error) {
	if !f.Status.Finished() {
		return nil, patchbay.Errorf(patchbay.EINVALID, "A run finishes completed or failed.")
	}
	if len(f.Error) > 4000 {
		f.Error = f.Error[:4000]
	}
	var r *patchbay.SyncRun
	err := s.inTx(ctx, func(t *Store) error {
		var err error
		if r, err = t.startRun(ctx, orgID, id); err != nil {
			return err
		}
		if f.Processed != nil {
			r.Processed = *f.Processed
		}
		if f.Failed != nil {
			r.Failed = *f.Failed
		}
		now := t.now()
		r.Status, r.Error, r.FinishedAt, r.UpdatedAt = f.Status, f.Error, &now, now
		if _, err := t.w.ExecContext(ctx, `UPDATE sync_runs SET status = $3, error = $4, processed = $5, failed = $6,
			finished_at = $7, updated_at = $7 WHERE org_id = $1 AND id = $2`,
			orgID, id, r.Status, r.Error, r.Processed, r.Failed, now); err != nil {
			return err
		}
		sch, err := t.FindSyncSchedule(ctx, orgID, r.ConnectionID, r.EntityType, r.Direction)
		if patchbay.ErrorCode(err) == patchbay.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		sch.Observe(f.Status == patchbay.SyncCompleted)
		sch.LastRunID, sch.LastRunAt = r.ID, &now
		if next, ok := patchbay.NextSyncAt(r.CreatedAt, sch.Interval, sch.Enabled, sch.Health); ok && next.After(sch.NextRunAt) {
			sch.NextRunAt = next
		}
		return t.saveSchedule(ctx, sch)
	})
	return r, err
}

const syncItemColumns = `org_id, run_id, seq, external_id, internal_type, internal_id, cursor_value, status, error,
	created_at, updated_at, finished_at`

func scanSyncItem(row scanner) (*patchbay.SyncItem, error) {
	var it patchbay.SyncItem
	var finished sql.NullTime
	err := row.Scan(&it.OrgID, &it.RunID, &it.Seq, &it.ExternalID, &it.InternalType, &it.InternalID, &it.Cursor,
		&it.Status, &it.Error, &it.CreatedAt, &it.UpdatedAt, &finished)
	if err != nil {
		return nil, err
	}
	it.CreatedAt, it.UpdatedAt, it.FinishedAt = it.CreatedAt.UTC(), it.UpdatedAt.UTC(), timePtr(finished)
	return &it, nil
}

// finishedStatuses is the SQL list of final item statuses.
const finishedStatuses = `('succeeded', 'failed', 'skipped')`

// PutSyncItems implements patchbay.SyncStore. The item changes, the run's
// counts and the cursor move commit together: a crash leaves either all of
// them or none, so the stored cursor is never past an unfinished item.
func (s *Store) PutSyncItems(ctx context.Context, orgID, runID string, items []*patchbay.SyncItem) (*patchbay.SyncRun, error) {
	for _, it := range items {
		if err := it.Validate(); err != nil {
			return nil, err
		}
	}
	var r *patchbay.SyncRun
	err := s.inTx(ctx, func(t *Store) error {
		var err error
		if r, err = t.startRun(ctx, orgID, runID); err != nil {
			return err
		}
		var maxSeq int64
		if err := t.w.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM sync_items WHERE run_id = $1`, runID).Scan(&maxSeq); err != nil {
			return err
		}
		now := t.now()
		for _, it := range items {
			if err := t.putItem(ctx, r, it, &maxSeq, now); err != nil {
				return err
			}
		}
		return t.advanceCursor(ctx, r, now)
	})
	return r, err
}

// putItem creates or updates one item of run r; s is in a transaction.
func (s *Store) putItem(ctx context.Context, r *patchbay.SyncRun, it *patchbay.SyncItem, maxSeq *int64, now time.Time) error {
	it.OrgID, it.RunID, it.UpdatedAt = r.OrgID, r.ID, now
	if it.Status.Finished() {
		it.FinishedAt = &now
	} else {
		it.FinishedAt = nil
	}
	old, err := scanSyncItem(s.w.QueryRowContext(ctx, `SELECT `+syncItemColumns+` FROM sync_items WHERE run_id = $1 AND seq = $2`,
		r.ID, it.Seq))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if it.Seq <= *maxSeq {
			return patchbay.Errorf(patchbay.EINVALID, "Item %d is new, but the run already has item %d: new items take higher seqs.",
				it.Seq, *maxSeq)
		}
		*maxSeq, it.CreatedAt = it.Seq, now
		_, err := s.w.ExecContext(ctx, `INSERT INTO sync_items (`+syncItemColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, it.OrgID, it.RunID, it.Seq, it.ExternalID,
			it.InternalType, it.InternalID, it.Cursor, it.Status, it.Error, now, now, utc(it.FinishedAt))
		return err
	case err != nil:
		return err
	}
	if old.Status.Finished() {
		if it.Status != old.Status {
			return patchbay.Errorf(patchbay.ECONFLICT, "Item %d is already %s.", it.Seq, old.Status)
		}
		*it = *old
		return nil
	}
	// The external id and cursor are the record's identity: an update keeps
	// them unless it fills them in.
	if it.ExternalID == "" {
		it.ExternalID = old.ExternalID
	}
	if it.Cursor == "" {
		it.Cursor = old.Cursor
	}
	if it.InternalType == "" {
		it.InternalType, it.InternalID = old.InternalType, old.InternalID
	}
	it.CreatedAt = old.CreatedAt
	_, err = s.w.ExecContext(ctx, `UPDATE sync_items SET external_id = $3, internal_type = $4, internal_id = $5,
		cursor_value = $6, status = $7, error = $8, updated_at = $9, finished_at = $10 WHERE run_id = $1 AND seq = $2`,
		it.RunID, it.Seq, it.ExternalID, it.InternalType, it.InternalID, it.Cursor, it.Status, it.Error, now, utc(it.FinishedAt))
	return err
}

// advanceCursor recounts run r's items and moves the stored cursor to the
// cursor of the highest finished item below the lowest unfinished one; s is
// in a transaction.
func (s *Store) advanceCursor(ctx context.Context, r *patchbay.SyncRun, now time.Time) error {
	if err := s.w.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN status IN `+finishedStatuses+` THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0)
		FROM sync_items WHERE run_id = $1`, r.ID).Scan(&r.Processed, &r.Failed); err != nil {
		return err
	}
	var seq, doneSeq int64
	var value string
	err := s.w.QueryRowContext(ctx, `SELECT seq, cursor_value FROM sync_items
		WHERE run_id = $1 AND status IN `+finishedStatuses+` AND cursor_value <> ''
		AND seq < COALESCE((SELECT MIN(seq) FROM sync_items WHERE run_id = $1 AND status IN ('pending', 'processing')), $2)
		ORDER BY seq DESC LIMIT 1`, r.ID, int64(1)<<62).Scan(&seq, &value)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if err := s.w.QueryRowContext(ctx, `SELECT cursor_seq FROM sync_runs WHERE id = $1`, r.ID).Scan(&doneSeq); err != nil {
		return err
	}
	r.UpdatedAt = now
	if errors.Is(err, sql.ErrNoRows) || seq <= doneSeq {
		_, err := s.w.ExecContext(ctx, `UPDATE sync_runs SET processed = $2, failed = $3, updated_at = $4 WHERE id = $1`,
			r.ID, r.Processed, r.Failed, now)
		return err
	}
	r.CursorEnd = value
	if _, err := s.w.ExecContext(ctx, `UPDATE sync_runs SET processed = $2, failed = $3, cursor_end = $4, cursor_seq = $5,
		updated_at = $6 WHERE id = $1`, r.ID, r.Processed, r.Failed, value, seq, now); err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO sync_cursors (org_id, connection_id, entity_type, direction, value, run_id, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (connection_id, entity_type, direction) DO UPDATE SET value = excluded.value, run_id = excluded.run_id,
			updated_at = excluded.updated_at`,
		r.OrgID, r.ConnectionID, r.EntityType, r.Direction, value, r.ID, now)
	return err
}

// ListSyncItems implements patchbay.SyncStore.
func (s *Store) ListSyncItems(ctx context.Context, orgID, runID string, f patchbay.SyncItemFilter) ([]*patchbay.SyncItem, error) {
	if _, err := s.FindSyncRun(ctx, orgID, runID); err != nil {
		return nil, err
	}
	limit := patchbay.Page{Limit: f.Limit}.Size()
	var q query
	q.sql.WriteString(`SELECT ` + syncItemColumns + ` FROM sync_items`)
	q.and("org_id = " + q.arg(orgID))
	q.and("run_id = " + q.arg(runID))
	q.and("seq > " + q.arg(f.AfterSeq))
	if f.Status != "" {
		q.and("status = " + q.arg(f.Status))
	}
	rows, err := s.r.QueryContext(ctx, q.String(" ORDER BY seq LIMIT "+q.arg(limit)), q.args...)
	return collect(rows, err, func(r *sql.Rows) (*patchbay.SyncItem, error) { return scanSyncItem(r) })
}

// FindSyncCursor implements patchbay.SyncStore.
func (s *Store) FindSyncCursor(ctx context.Context, orgID, connectionID, entityType string, dir patchbay.SyncDirection) (*patchbay.SyncCursor, error) {
	c := patchbay.SyncCursor{OrgID: orgID, ConnectionID: connectionID, EntityType: entityType, Direction: dir}
	err := s.r.QueryRowContext(ctx, `SELECT value, run_id, updated_at FROM sync_cursors
		WHERE org_id = $1 AND connection_id = $2 AND entity_type = $3 AND direction = $4`,
		orgID, connectionID, entityType, dir).Scan(&c.Value, &c.RunID, &c.UpdatedAt)
	if err != nil {
		return nil, notFound(err, "No cursor yet.")
	}
	c.UpdatedAt = c.UpdatedAt.UTC()
	return &c, nil
}

// SyncHistory implements patchbay.SyncStore (seed 000's sync history of a
// connection, for every connection at once).
func (s *Store) SyncHistory(ctx context.Context, orgID, connectionID string, perConnection int) ([]*patchbay.SyncRun, error) {
	var q query
	q.sql.WriteString(`SELECT ` + syncRunColumns + `, ROW_NUMBER() OVER (PARTITION BY connection_id
		ORDER BY created_at DESC, id DESC) AS rn FROM sync_runs`)
	q.and("org_id = " + q.arg(orgID))
	if connectionID != "" {
		q.and("connection_id = " + q.arg(connectionID))
	}
	stmt := `SELECT ` + syncRunColumns + ` FROM (` + q.String("") + `) x WHERE rn <= ` + q.arg(perConnection) +
		` ORDER BY connection_id, created_at DESC, id DESC`
	rows, err := s.r.QueryContext(ctx, stmt, q.args...)
	return collect(rows, err, func(r *sql.Rows) (*patchbay.SyncRun, error) { return scanSyncRun(r) })
}

// FailedSyncs implements patchbay.SyncStore (seed 000's failed syncs in the
// last 7 days, for any since).
func (s *Store) FailedSyncs(ctx context.Context, orgID string, since time.Time) ([]*patchbay.FailedSync, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+prefixed("r.", syncRunColumns)+`, COALESCE(c.display_name, ''),
		COALESCE(c.connector_slug, '') FROM sync_runs r LEFT JOIN connections c ON c.id = r.connection_id AND c.org_id = r.org_id
		WHERE r.org_id = $1 AND r.status = 'failed' AND r.created_at >= $2
		ORDER BY r.created_at DESC, r.id DESC LIMIT 500`, orgID, utc(&since))
	return collect(rows, err, func(rs *sql.Rows) (*patchbay.FailedSync, error) {
		var f patchbay.FailedSync
		var r patchbay.SyncRun
		var started, finished sql.NullTime
		err := rs.Scan(&r.ID, &r.OrgID, &r.ConnectionID, &r.Direction, &r.EntityType, &r.Status, &r.Trigger, &r.Processed,
			&r.Failed, &r.CursorStart, &r.CursorEnd, &r.Error, &started, &finished, &r.CreatedAt, &r.UpdatedAt,
			&f.ConnectionName, &f.ConnectorSlug)
		r.StartedAt, r.FinishedAt = timePtr(started), timePtr(finished)
		r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
		f.Run = &r
		return &f, err
	})
}

// PruneSyncItems implements patchbay.SyncStore.
func (s *Store) PruneSyncItems(ctx context.Context, orgID string, cutoff time.Time, limit int) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM sync_items WHERE (run_id, seq) IN (SELECT i.run_id, i.seq FROM sync_items i
		JOIN sync_runs r ON r.id = i.run_id
		WHERE i.org_id = $1 AND i.finished_at IS NOT NULL AND i.finished_at < $2 AND r.status IN ('completed', 'failed')
		ORDER BY i.finished_at LIMIT $3)`, orgID, utc(&cutoff), limit)
	return affected(res, err)
}

// PruneSyncOps implements patchbay.SyncStore.
func (s *Store) PruneSyncOps(ctx context.Context, orgID string, cutoff time.Time, limit int) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM sync_ops WHERE id IN (SELECT id FROM sync_ops
		WHERE org_id = $1 AND at < $2 ORDER BY at LIMIT $3)`, orgID, utc(&cutoff), limit)
	return affected(res, err)
}

// PruneInbound implements patchbay.InboundStore.
func (s *Store) PruneInbound(ctx context.Context, orgID string, cutoff time.Time, limit int) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM inbound_webhooks WHERE id IN (SELECT id FROM inbound_webhooks
		WHERE org_id = $1 AND status NOT IN ('pending', 'processing') AND received_at < $2 ORDER BY received_at LIMIT $3)`,
		orgID, utc(&cutoff), limit)
	return affected(res, err)
}

// affected returns how many rows a statement changed.
func affected(res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
