package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/patchbay/patchbay"
)

// CreateEvent implements patchbay.DeliveryStore.
func (s *Store) CreateEvent(ctx context.Context, ev *patchbay.Event) (*patchbay.Event, bool, error) {
	if ev.IdempotencyKey != "" {
		if found, err := s.findEventByKey(ctx, ev.OrgID, ev.IdempotencyKey); err == nil {
			return found, false, nil
		} else if patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
			return nil, false, err
		}
	}
	if ev.ID == "" {
		ev.ID = patchbay.NewID("evt")
	}
	ev.CreatedAt = s.now()
	var key any
	if ev.IdempotencyKey != "" {
		key = ev.IdempotencyKey
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO events (id, org_id, type, payload, source_module, source_id, idempotency_key, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		ev.ID, ev.OrgID, ev.Type, string(ev.Payload), ev.SourceModule, ev.SourceID, key, ev.CreatedAt)
	if err != nil {
		if s.cfg.Dialect.IsUniqueViolation(err) && ev.IdempotencyKey != "" {
			// Another request with the key won the race; inside a
			// transaction this aborts it, and the caller's retry finds it.
			return nil, false, &patchbay.Error{Code: patchbay.ECONFLICT, Message: "An event with this idempotency key is being stored; retry.", Err: err}
		}
		return nil, false, err
	}
	return ev, true, nil
}

// queuePlans runs the dialect's QueueTx in the transaction s is in.
func (s *Store) queuePlans(ctx context.Context) error {
	if s.cfg.Dialect.QueueTx == "" {
		return nil
	}
	_, err := s.w.ExecContext(ctx, s.cfg.Dialect.QueueTx)
	return err
}

// CreateEvents implements patchbay.DeliveryStore.
func (s *Store) CreateEvents(ctx context.Context, evs []*patchbay.Event) error {
	now := s.now()
	rows := make([][]any, len(evs))
	for i, ev := range evs {
		if ev.IdempotencyKey != "" {
			return patchbay.Errorf(patchbay.EINVALID, "Events with an idempotency key are stored one by one.")
		}
		if ev.ID == "" {
			ev.ID = patchbay.NewID("evt")
		}
		ev.CreatedAt = now
		rows[i] = []any{ev.ID, ev.OrgID, ev.Type, string(ev.Payload), ev.SourceModule, ev.SourceID, ev.CreatedAt}
	}
	return s.insertRows(ctx, "events", "id, org_id, type, payload, source_module, source_id, created_at", rows)
}

const eventColumns = `id, org_id, type, payload, source_module, source_id, COALESCE(idempotency_key, ''), created_at`

func scanEvent(row scanner) (*patchbay.Event, error) {
	var ev patchbay.Event
	var payload string
	if err := row.Scan(&ev.ID, &ev.OrgID, &ev.Type, &payload, &ev.SourceModule, &ev.SourceID, &ev.IdempotencyKey, &ev.CreatedAt); err != nil {
		return nil, err
	}
	ev.Payload, ev.CreatedAt = []byte(payload), ev.CreatedAt.UTC()
	return &ev, nil
}

// FindEvents implements patchbay.DeliveryStore.
func (s *Store) FindEvents(ctx context.Context, ids []string) (map[string]*patchbay.Event, error) {
	out := make(map[string]*patchbay.Event, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), 200)
		var q query
		rows, err := s.r.QueryContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id IN (`+argList(&q, ids[:n])+`)`, q.args...)
		list, err := collect(rows, err, func(r *sql.Rows) (*patchbay.Event, error) { return scanEvent(r) })
		if err != nil {
			return nil, err
		}
		for _, ev := range list {
			out[ev.ID] = ev
		}
		ids = ids[n:]
	}
	return out, nil
}

func (s *Store) findEventByKey(ctx context.Context, orgID, key string) (*patchbay.Event, error) {
	ev, err := scanEvent(s.w.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE org_id = $1 AND idempotency_key = $2`, orgID, key))
	if err != nil {
		return nil, notFound(err, "Event not found.")
	}
	return ev, nil
}

// FindEvent implements patchbay.DeliveryStore.
func (s *Store) FindEvent(ctx context.Context, orgID, id string) (*patchbay.Event, error) {
	ev, err := scanEvent(s.r.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, notFound(err, "Event not found.")
	}
	return ev, nil
}

const deliveryColumns = `id, org_id, event_id, event_type, source_module, source_id, endpoint_id, connection_id, method,
	path, body, status, attempts, round_attempts, next_attempt_at, last_attempt_at, last_status_code, last_error,
	delivered_at, created_at, updated_at`

func scanDelivery(row scanner) (*patchbay.Delivery, error) {
	var d patchbay.Delivery
	var body string
	var last, delivered sql.NullTime
	err := row.Scan(&d.ID, &d.OrgID, &d.EventID, &d.EventType, &d.SourceModule, &d.SourceID, &d.EndpointID,
		&d.ConnectionID, &d.Method, &d.Path, &body, &d.Status, &d.Attempts, &d.RoundAttempts, &d.NextAttemptAt, &last,
		&d.LastStatusCode, &d.LastError, &delivered, &d.CreatedAt, &d.UpdatedAt)
	if err != nil {
		return nil, err
	}
	if body != "" {
		d.Body = []byte(body)
	}
	d.LastAttemptAt, d.DeliveredAt = timePtr(last), timePtr(delivered)
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = d.NextAttemptAt.UTC(), d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return &d, nil
}

// insertRows inserts rows into table with multi-row INSERT statements of
// at most 100 rows: one statement to prepare and run per hundred rows
// instead of per row (measured with patchbay bench delivery).
func (s *Store) insertRows(ctx context.Context, table, columns string, rows [][]any) error {
	const chunk = 100
	for len(rows) > 0 {
		n := min(chunk, len(rows))
		q := query{positional: s.cfg.Dialect.Positional}
		q.sql.WriteString("INSERT INTO " + table + " (" + columns + ") VALUES ")
		q.values(rows[:n], nil)
		if _, err := s.w.ExecContext(ctx, q.sql.String(), q.args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// CreateDeliveries implements patchbay.DeliveryStore.
func (s *Store) CreateDeliveries(ctx context.Context, ds []*patchbay.Delivery) error {
	now := s.now()
	rows := make([][]any, len(ds))
	for i, d := range ds {
		if d.ID == "" {
			d.ID = patchbay.NewID("dlv")
		}
		d.CreatedAt, d.UpdatedAt = now, now
		if d.NextAttemptAt.IsZero() {
			d.NextAttemptAt = now
		}
		rows[i] = []any{d.ID, d.OrgID, d.EventID, d.EventType, d.SourceModule, d.SourceID, d.EndpointID, d.ConnectionID, d.Method,
			d.Path, string(d.Body), d.Status, d.Attempts, d.RoundAttempts, utc(&d.NextAttemptAt), utc(d.LastAttemptAt),
			d.LastStatusCode, d.LastError, utc(d.DeliveredAt), d.CreatedAt, d.UpdatedAt, d.LeaseOwner, utc(d.LeaseUntil)}
	}
	return s.insertRows(ctx, "deliveries", deliveryColumns+", lease_owner, lease_until", rows)
}

// FindDelivery implements patchbay.DeliveryStore.
func (s *Store) FindDelivery(ctx context.Context, orgID, id string) (*patchbay.Delivery, error) {
	d, err := scanDelivery(s.r.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, notFound(err, "Delivery not found.")
	}
	return d, nil
}

// ListDeliveries implements patchbay.DeliveryStore.
func (s *Store) ListDeliveries(ctx context.Context, orgID string, f patchbay.DeliveryFilter) ([]*patchbay.Delivery, string, error) {
	var q query
	q.sql.WriteString(`SELECT ` + deliveryColumns + ` FROM deliveries`)
	q.and("org_id = " + q.arg(orgID))
	if f.EndpointID != "" {
		q.and("endpoint_id = " + q.arg(f.EndpointID))
	}
	if f.ConnectionID != "" {
		q.and("connection_id = " + q.arg(f.ConnectionID))
	}
	if len(f.Statuses) > 0 {
		q.and("status IN (" + argList(&q, f.Statuses) + ")")
	}
	if prefix, ok := strings.CutSuffix(f.EventType, "*"); ok {
		q.and("substr(event_type, 1, " + q.arg(len(prefix)) + ") = " + q.arg(prefix))
	} else if f.EventType != "" {
		q.and("event_type = " + q.arg(f.EventType))
	}
	if f.Search != "" {
		p := q.arg(likePattern(f.Search))
		q.and(`(lower(source_id) LIKE ` + p + ` ESCAPE '\' OR lower(event_id) LIKE ` + p + ` ESCAPE '\' OR lower(id) LIKE ` + p + ` ESCAPE '\')`)
	}
	tail, err := q.createdPage(f.Since, f.Until, f.Page, f.Oldest)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, q.String(tail), q.args...)
	list, err := collect(rows, err, func(r *sql.Rows) (*patchbay.Delivery, error) { return scanDelivery(r) })
	if err != nil {
		return nil, "", err
	}
	list, next := nextCursor(list, f.Page, func(d *patchbay.Delivery) (time.Time, string) { return d.CreatedAt, d.ID })
	return list, next, nil
}

// ListAttempts implements patchbay.DeliveryStore.
func (s *Store) ListAttempts(ctx context.Context, orgID, deliveryID string) ([]*patchbay.Attempt, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, org_id, delivery_id, number, started_at, status_code, latency_ms, error,
		response, manual FROM attempts WHERE org_id = $1 AND delivery_id = $2 ORDER BY number`, orgID, deliveryID)
	return collect(rows, err, func(r *sql.Rows) (*patchbay.Attempt, error) {
		var a patchbay.Attempt
		var ms int64
		err := r.Scan(&a.ID, &a.OrgID, &a.DeliveryID, &a.Number, &a.StartedAt, &a.StatusCode, &ms, &a.Error, &a.Response, &a.Manual)
		a.Latency, a.StartedAt = time.Duration(ms)*time.Millisecond, a.StartedAt.UTC()
		return &a, err
	})
}

// ClaimDeliveries implements patchbay.DeliveryStore.
func (s *Store) ClaimDeliveries(ctx context.Context, owner string, now, until time.Time, limit int) ([]*patchbay.Delivery, error) {
	// Two claims, each ordered and limited on its own partial index: due
	// deliveries first, then ones whose worker's lease ran out. One query
	// with OR made SQLite sort the whole backlog to pick a batch. Relaxed:
	// a claim lost to a power failure leaves the delivery due again
	// (relaxed.go).
	var out []*patchbay.Delivery
	err := s.inRelaxedTx(ctx, func(t *Store) error {
		if err := t.queuePlans(ctx); err != nil {
			return err
		}
		for _, where := range []string{
			`status IN ('pending', 'retrying') AND next_attempt_at <= $3 ORDER BY next_attempt_at`,
			`status = 'sending' AND lease_until < $3 ORDER BY lease_until`,
		} {
			rows, err := t.w.QueryContext(ctx, `UPDATE deliveries SET status = 'sending', lease_owner = $1, lease_until = $2, updated_at = $3
				WHERE id IN (SELECT id FROM deliveries WHERE `+where+` LIMIT $4`+t.cfg.Dialect.SkipLocked+`)
				RETURNING `+deliveryColumns, owner, utc(&until), utc(&now), limit-len(out))
			claimed, err := collect(rows, err, func(r *sql.Rows) (*patchbay.Delivery, error) { return scanDelivery(r) })
			if err != nil {
				return err
			}
			if out = append(out, claimed...); len(out) >= limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FinishAttempts implements patchbay.DeliveryStore.
func (s *Store) FinishAttempts(ctx context.Context, owner string, results []patchbay.AttemptResult) ([]*patchbay.Endpoint, error) {
	var tripped []*patchbay.Endpoint
	// Relaxed: an outcome lost to a power failure only means the delivery
	// is attempted again (relaxed.go).
	err := s.inRelaxedTx(ctx, func(t *Store) error {
		if err := t.queuePlans(ctx); err != nil {
			return err
		}
		stored, err := t.finishDeliveries(ctx, owner, results)
		if err != nil {
			return err
		}
		// Per endpoint: failures since its last success in this batch, and
		// whether a success reset the count.
		type tally struct {
			failures int
			reset    bool
		}
		tallies := map[string]*tally{}
		var attempts [][]any
		for _, r := range results {
			d, a := r.Delivery, r.Attempt
			if !stored[d] {
				continue // the lease expired and another worker took over
			}
			if a == nil {
				continue // held: no attempt was made
			}
			if a.ID == "" {
				a.ID = patchbay.NewID("att")
			}
			attempts = append(attempts, []any{a.ID, d.OrgID, d.ID, a.Number, utc(&a.StartedAt), a.StatusCode,
				a.Latency.Milliseconds(), a.Error, a.Response, a.Manual})
			if d.EndpointID == "" {
				continue
			}
			tl := tallies[d.EndpointID]
			if tl == nil {
				tl = &tally{}
				tallies[d.EndpointID] = tl
			}
			if d.Status == patchbay.DeliveryDelivered {
				tl.failures, tl.reset = 0, true
			} else {
				tl.failures++
			}
		}
		if err := t.insertRows(ctx, "attempts", `id, org_id, delivery_id, number, started_at, status_code,
			latency_ms, error, response, manual`, attempts); err != nil {
			return err
		}
		// Endpoint rows are locked in id order: concurrent batches touching
		// the same endpoints would otherwise deadlock on PostgreSQL.
		for _, id := range slices.Sorted(maps.Keys(tallies)) {
			tl := tallies[id]
			if tl.reset && tl.failures == 0 {
				if _, err := t.w.ExecContext(ctx, `UPDATE endpoints SET consecutive_failures = 0 WHERE id = $1 AND consecutive_failures <> 0`, id); err != nil {
					return err
				}
				continue
			}
			set := `consecutive_failures + $2` // failures continue the run
			if tl.reset {
				set = `$2` // a success in the batch started a new run
			}
			e, err := scanEndpoint(t.w.QueryRowContext(ctx, `UPDATE endpoints SET consecutive_failures = `+set+`
				WHERE id = $1 RETURNING `+endpointColumns, id, tl.failures))
			if errors.Is(err, sql.ErrNoRows) {
				continue // deleted meanwhile
			} else if err != nil {
				return err
			}
			if e.ConsecutiveFailures >= patchbay.DisableAfter && e.DisabledAt == nil {
				tripped = append(tripped, e)
			}
		}
		return nil
	})
	return tripped, err
}

// finishDeliveries writes the deliveries' new state in one statement per
// 100 results, for those still leased to owner, and returns the results it
// stored. Of two results for one delivery in a batch (a stale copy after a
// lease was taken over) the first wins, as if they were written in turn.
func (s *Store) finishDeliveries(ctx context.Context, owner string, results []patchbay.AttemptResult) (map[*patchbay.Delivery]bool, error) {
	first := make(map[string]*patchbay.Delivery, len(results))
	unique := results[:0:0]
	for _, r := range results {
		if _, dup := first[r.Delivery.ID]; !dup {
			first[r.Delivery.ID] = r.Delivery
			unique = append(unique, r)
		}
	}
	results = unique
	stored := make(map[*patchbay.Delivery]bool, len(results))
	now := s.now()
	types := []string{"text", "text", "integer", "integer", "timestamptz", "timestamptz", "integer", "text", "timestamptz", "text",
		"integer"}
	for len(results) > 0 {
		n := min(len(results), 100)
		q := query{positional: s.cfg.Dialect.Positional}
		// was and was_attempts are the status and the attempt count the
		// worker saw: an outcome is stored only if the delivery is still as
		// it was claimed, so a late outcome never overwrites a newer one
		// and an attempt number is used once (the attempts table's key).
		// The status is compared row by row: a constant status = 'sending'
		// let PostgreSQL drive the update from the partial index of sending
		// rows, which it took for a few dozen on a table not yet analyzed,
		// and compare each of thousands with every row here (150 ms for 100
		// rows instead of under 5).
		q.sql.WriteString(`WITH r (id, status, attempts, round_attempts, next_attempt_at, last_attempt_at, last_status_code,
			last_error, delivered_at, was, was_attempts) AS (VALUES `)
		vals := make([][]any, n)
		for i, res := range results[:n] {
			d := res.Delivery
			vals[i] = []any{d.ID, string(d.Status), d.Attempts, d.RoundAttempts, utc(&d.NextAttemptAt), utc(d.LastAttemptAt),
				d.LastStatusCode, d.LastError, utc(d.DeliveredAt), string(patchbay.DeliverySending), claimedAttempts(res)}
		}
		q.values(vals, types)
		q.sql.WriteString(`) UPDATE deliveries SET status = r.status, attempts = r.attempts, round_attempts = r.round_attempts,
			next_attempt_at = r.next_attempt_at, last_attempt_at = r.last_attempt_at, last_status_code = r.last_status_code,
			last_error = r.last_error, delivered_at = r.delivered_at, lease_owner = '', lease_until = NULL, updated_at = ` +
			q.bind(now, "timestamptz") + ` FROM r WHERE deliveries.id = r.id AND deliveries.lease_owner = ` + q.bind(owner, "text") +
			` AND deliveries.status = r.was AND deliveries.attempts = r.was_attempts RETURNING deliveries.id`)
		rows, err := s.w.QueryContext(ctx, q.sql.String(), q.args...)
		ids, err := collect(rows, err, func(r *sql.Rows) (string, error) {
			var id string
			return id, r.Scan(&id)
		})
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			stored[first[id]] = true
		}
		results = results[n:]
	}
	return stored, nil
}

// claimedAttempts is the number of attempts a delivery had when the worker
// that reports res claimed it.
func claimedAttempts(res patchbay.AttemptResult) int {
	if res.Attempt != nil {
		return res.Attempt.Number - 1
	}
	return res.Delivery.Attempts // held: no attempt was made
}

// NotifyDeliveries implements patchbay.DeliveryStore.
func (s *Store) NotifyDeliveries(ctx context.Context) error {
	if s.cfg.Dialect.Notify == "" {
		return nil
	}
	_, err := s.w.ExecContext(ctx, s.cfg.Dialect.Notify)
	return err
}

// NextDue implements patchbay.DeliveryStore. It reads the column itself
// rather than MIN(): SQLite's driver parses a time only from a column
// declared as one, and an aggregate has no declared type.
func (s *Store) NextDue(ctx context.Context) (*time.Time, error) {
	var next sql.NullTime
	err := s.r.QueryRowContext(ctx, `SELECT next_attempt_at FROM deliveries WHERE status IN ('pending', 'retrying')
		ORDER BY next_attempt_at LIMIT 1`).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return timePtr(next), nil
}

// RetryDeliveries implements patchbay.DeliveryStore.
func (s *Store) RetryDeliveries(ctx context.Context, orgID string, ids []string, now time.Time) ([]string, error) {
	var endpoints []string
	err := s.inTx(ctx, func(t *Store) error {
		seen := map[string]bool{}
		for _, id := range ids {
			var endpoint string
			err := t.w.QueryRowContext(ctx, `UPDATE deliveries SET status = 'pending', round_attempts = 0,
				next_attempt_at = $3, updated_at = $3
				WHERE org_id = $1 AND id = $2 AND status IN ('retrying', 'dead_letter', 'held', 'pending')
				RETURNING endpoint_id`, orgID, id, utc(&now)).Scan(&endpoint)
			if errors.Is(err, sql.ErrNoRows) {
				continue // unknown, another org's, delivered or being sent
			} else if err != nil {
				return err
			}
			if endpoint != "" && !seen[endpoint] {
				seen[endpoint] = true
				endpoints = append(endpoints, endpoint)
			}
		}
		return nil
	})
	return endpoints, err
}

// HoldDeliveries implements patchbay.DeliveryStore.
func (s *Store) HoldDeliveries(ctx context.Context, orgID, endpointID string) (int, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE deliveries SET status = 'held', updated_at = $3
		WHERE org_id = $1 AND endpoint_id = $2 AND status IN ('pending', 'retrying')`, orgID, endpointID, s.now())
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// ReleaseConnectionCalls implements patchbay.DeliveryStore.
func (s *Store) ReleaseConnectionCalls(ctx context.Context, orgID, connectionID string, now time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = $3, updated_at = $3
		WHERE org_id = $1 AND connection_id = $2 AND endpoint_id = '' AND status = 'held'`, orgID, connectionID, utc(&now))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// ReleaseDeliveries implements patchbay.DeliveryStore.
func (s *Store) ReleaseDeliveries(ctx context.Context, orgID, endpointID string, now time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = $3, updated_at = $3
		WHERE org_id = $1 AND endpoint_id = $2 AND status = 'held'`, orgID, endpointID, utc(&now))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
