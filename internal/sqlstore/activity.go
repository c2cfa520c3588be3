package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/patchbay/patchbay"
)

const activityColumns = `id, org_id, actor_type, actor_id, actor_name, action, target_type, target_id,
	outcome, detail, created_at`

// RecordActivity implements patchbay.ActivityLog.
func (s *Store) RecordActivity(ctx context.Context, a *patchbay.Activity) error {
	if a.ID == "" {
		a.ID = patchbay.NewID("act")
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = s.now()
	}
	detail := "{}"
	if len(a.Detail) > 0 {
		b, err := json.Marshal(a.Detail)
		if err != nil {
			return err
		}
		detail = string(b)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO activity (`+activityColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		a.ID, a.OrgID, a.ActorType, a.ActorID, a.ActorName, a.Action, a.TargetType, a.TargetID,
		a.Outcome, detail, utc(&a.CreatedAt))
	return err
}

// ListActivity implements patchbay.ActivityStore.
func (s *Store) ListActivity(ctx context.Context, orgID string, f patchbay.ActivityFilter) ([]*patchbay.Activity, string, error) {
	var q query
	q.sql.WriteString(`SELECT ` + activityColumns + ` FROM activity`)
	q.and("org_id = " + q.arg(orgID))
	if f.ActorID != "" {
		q.and("actor_id = " + q.arg(f.ActorID))
	}
	if prefix, ok := f.ActionPrefix(); ok {
		// substr, not LIKE: an action may contain LIKE's wildcards.
		q.and("substr(action, 1, " + q.arg(len(prefix)) + ") = " + q.arg(prefix))
	} else if f.Action != "" {
		q.and("action = " + q.arg(f.Action))
	}
	if f.TargetType != "" {
		q.and("target_type = " + q.arg(f.TargetType))
	}
	if f.TargetID != "" {
		q.and("target_id = " + q.arg(f.TargetID))
	}
	tail, err := q.createdPage(f.Since, f.Until, f.Page, false)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, q.String(tail), q.args...)
	list, err := collect(rows, err, func(r *sql.Rows) (*patchbay.Activity, error) {
		var a patchbay.Activity
		var detail string
		if err := r.Scan(&a.ID, &a.OrgID, &a.ActorType, &a.ActorID, &a.ActorName, &a.Action, &a.TargetType,
			&a.TargetID, &a.Outcome, &detail, &a.CreatedAt); err != nil {
			return nil, err
		}
		a.CreatedAt = a.CreatedAt.UTC()
		return &a, json.Unmarshal([]byte(detail), &a.Detail)
	})
	if err != nil {
		return nil, "", err
	}
	list, next := nextCursor(list, f.Page, func(a *patchbay.Activity) (time.Time, string) { return a.CreatedAt, a.ID })
	return list, next, nil
}
