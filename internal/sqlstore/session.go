package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/patchbay/patchbay"
)

// CreateSession implements patchbay.SessionStore.
func (s *Store) CreateSession(ctx context.Context, sess *patchbay.Session) error {
	now := s.now()
	sess.CreatedAt, sess.LastSeenAt = now, now
	_, err := s.w.ExecContext(ctx, `INSERT INTO sessions (token_hash, org_id, user_id, created_at, expires_at, last_seen_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, sess.TokenHash, sess.OrgID, sess.UserID, sess.CreatedAt, utc(&sess.ExpiresAt), sess.LastSeenAt)
	return s.conflict(err, "Session collision; sign in again.")
}

// FindSession implements patchbay.SessionStore.
func (s *Store) FindSession(ctx context.Context, tokenHash string) (*patchbay.Session, error) {
	var sess patchbay.Session
	err := s.r.QueryRowContext(ctx, `SELECT token_hash, org_id, user_id, created_at, expires_at, last_seen_at FROM sessions
		WHERE token_hash = $1`, tokenHash).Scan(&sess.TokenHash, &sess.OrgID, &sess.UserID, &sess.CreatedAt, &sess.ExpiresAt, &sess.LastSeenAt)
	if err != nil {
		return nil, notFound(err, "Session not found.")
	}
	sess.CreatedAt, sess.ExpiresAt, sess.LastSeenAt = sess.CreatedAt.UTC(), sess.ExpiresAt.UTC(), sess.LastSeenAt.UTC()
	return &sess, nil
}

// TouchSession implements patchbay.SessionStore.
func (s *Store) TouchSession(ctx context.Context, tokenHash string, at time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1`, tokenHash, utc(&at))
	return mustAffect(res, err, "Session not found.")
}

// DeleteSession implements patchbay.SessionStore.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash)
	return err
}

// DeleteUserSessions implements patchbay.SessionStore.
func (s *Store) DeleteUserSessions(ctx context.Context, userID, keep string) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`, userID, keep)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// DeleteExpiredSessions implements patchbay.SessionStore.
func (s *Store) DeleteExpiredSessions(ctx context.Context, before time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < $1`, utc(&before))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// maxChartDays bounds a chart's range, and maxChartAttempts the attempts
// one chart reads.
const (
	maxChartDays     = 366
	maxChartAttempts = 100000
)

// DailyDeliveries implements patchbay.DeliveryStatsStore. It reads the
// attempts in range and buckets them here rather than in SQL: the engines
// spell "the day of a timestamp" differently, and a chart's range is small.
func (s *Store) DailyDeliveries(ctx context.Context, orgID string, f patchbay.DeliveryStatsFilter) ([]*patchbay.DeliveryDay, error) {
	until := f.Until
	if until.IsZero() {
		until = s.now()
	}
	until = until.UTC()
	since := f.Since.UTC().Truncate(24 * time.Hour)
	if until.Sub(since) > maxChartDays*24*time.Hour {
		since = until.Add(-maxChartDays * 24 * time.Hour).Truncate(24 * time.Hour)
	}
	if !until.After(since) {
		return nil, patchbay.Errorf(patchbay.EINVALID, "The chart's range is empty.")
	}
	var q query
	q.sql.WriteString(`SELECT a.started_at, a.status_code, a.error, a.latency_ms FROM attempts a JOIN deliveries d ON d.id = a.delivery_id`)
	q.and("a.org_id = " + q.arg(orgID))
	q.and("d.org_id = " + q.arg(orgID))
	q.and("a.started_at >= " + q.arg(utc(&since)))
	q.and("a.started_at < " + q.arg(utc(&until)))
	if f.EndpointID != "" {
		q.and("d.endpoint_id = " + q.arg(f.EndpointID))
	}
	if f.ConnectionID != "" {
		q.and("d.connection_id = " + q.arg(f.ConnectionID))
	}
	rows, err := s.r.QueryContext(ctx, q.String(fmt.Sprintf(" LIMIT %d", maxChartAttempts)), q.args...)
	if err != nil {
		return nil, err
	}
	type attempt struct {
		at      time.Time
		status  int
		failure string
		latency int64
	}
	list, err := collect(rows, nil, func(r *sql.Rows) (attempt, error) {
		var a attempt
		err := r.Scan(&a.at, &a.status, &a.failure, &a.latency)
		return a, err
	})
	if err != nil {
		return nil, err
	}
	var days []*patchbay.DeliveryDay
	index := map[time.Time]*patchbay.DeliveryDay{}
	for d := since; d.Before(until); d = d.Add(24 * time.Hour) {
		day := &patchbay.DeliveryDay{Day: d}
		days = append(days, day)
		index[d] = day
	}
	totals := map[*patchbay.DeliveryDay]time.Duration{}
	for _, a := range list {
		day := index[a.at.UTC().Truncate(24*time.Hour)]
		if day == nil {
			continue
		}
		if a.failure == "" && a.status >= 200 && a.status < 300 {
			day.Succeeded++
		} else {
			day.Failed++
		}
		lat := time.Duration(a.latency) * time.Millisecond
		totals[day] += lat
		day.MaxLatency = max(day.MaxLatency, lat)
	}
	for day, total := range totals {
		if n := day.Succeeded + day.Failed; n > 0 {
			day.AvgLatency = total / time.Duration(n)
		}
	}
	return days, nil
}
