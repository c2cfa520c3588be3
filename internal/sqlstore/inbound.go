package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"time"

	"github.com/patchbay/patchbay"
)

// CreateInboundRoute implements patchbay.InboundStore.
func (s *Store) CreateInboundRoute(ctx context.Context, r *patchbay.InboundRoute) error {
	r.CreatedAt = s.now()
	return s.inTx(ctx, func(t *Store) error {
		if _, err := t.w.ExecContext(ctx, `DELETE FROM inbound_routes WHERE org_id = $1 AND connection_id = $2`,
			r.OrgID, r.ConnectionID); err != nil {
			return err
		}
		_, err := t.w.ExecContext(ctx, `INSERT INTO inbound_routes (token_hash, org_id, connection_id, secret, created_at)
			VALUES ($1, $2, $3, $4, $5)`, r.TokenHash, r.OrgID, r.ConnectionID, r.Secret, r.CreatedAt)
		return t.conflict(err, "Inbound route collision; try again.")
	})
}

// FindInboundRoute implements patchbay.InboundStore.
func (s *Store) FindInboundRoute(ctx context.Context, tokenHash string) (*patchbay.InboundRoute, error) {
	var r patchbay.InboundRoute
	err := s.r.QueryRowContext(ctx, `SELECT token_hash, org_id, connection_id, secret, created_at FROM inbound_routes
		WHERE token_hash = $1`, tokenHash).Scan(&r.TokenHash, &r.OrgID, &r.ConnectionID, &r.Secret, &r.CreatedAt)
	if err != nil {
		return nil, notFound(err, "Unknown inbound URL.")
	}
	r.CreatedAt = r.CreatedAt.UTC()
	return &r, nil
}

const inboundColumns = `id, org_id, connection_id, provider, event_type, COALESCE(delivery_id, ''), verified, status, headers,
	payload, error, event_id, received_at, processed_at`

func scanInbound(row scanner) (*patchbay.InboundWebhook, error) {
	var w patchbay.InboundWebhook
	var headers, payload string
	var processed sql.NullTime
	err := row.Scan(&w.ID, &w.OrgID, &w.ConnectionID, &w.Provider, &w.EventType, &w.DeliveryID, &w.Verified, &w.Status,
		&headers, &payload, &w.Error, &w.EventID, &w.ReceivedAt, &processed)
	if err != nil {
		return nil, err
	}
	w.Headers = http.Header{}
	if err := json.Unmarshal([]byte(headers), &w.Headers); err != nil {
		return nil, err
	}
	if payload != "" {
		w.Payload = []byte(payload)
	}
	w.ReceivedAt, w.ProcessedAt = w.ReceivedAt.UTC(), timePtr(processed)
	return &w, nil
}

// CreateInbound implements patchbay.InboundStore.
func (s *Store) CreateInbound(ctx context.Context, w *patchbay.InboundWebhook) error {
	w.ID = patchbay.NewID("inb")
	w.ReceivedAt = s.now()
	headers, err := json.Marshal(w.Headers)
	if err != nil {
		return err
	}
	var delivery any
	if w.DeliveryID != "" {
		delivery = w.DeliveryID
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO inbound_webhooks (id, org_id, connection_id, provider, event_type, delivery_id,
		verified, status, headers, payload, error, event_id, received_at, processed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		w.ID, w.OrgID, w.ConnectionID, w.Provider, w.EventType, delivery, w.Verified, w.Status, string(headers),
		string(w.Payload), w.Error, w.EventID, w.ReceivedAt, utc(w.ProcessedAt))
	return s.conflict(err, "Delivery %q was received before.", w.DeliveryID)
}

// UpdateInbound implements patchbay.InboundStore.
func (s *Store) UpdateInbound(ctx context.Context, w *patchbay.InboundWebhook) error {
	res, err := s.w.ExecContext(ctx, `UPDATE inbound_webhooks SET status = $3, error = $4, event_id = $5, processed_at = $6
		WHERE org_id = $1 AND id = $2`, w.OrgID, w.ID, w.Status, w.Error, w.EventID, utc(w.ProcessedAt))
	return mustAffect(res, err, "Inbound webhook not found.")
}

// FindInbound implements patchbay.InboundStore.
func (s *Store) FindInbound(ctx context.Context, orgID, id string) (*patchbay.InboundWebhook, error) {
	w, err := scanInbound(s.r.QueryRowContext(ctx, `SELECT `+inboundColumns+` FROM inbound_webhooks WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, notFound(err, "Inbound webhook not found.")
	}
	return w, nil
}

// ListInbound implements patchbay.InboundStore.
func (s *Store) ListInbound(ctx context.Context, orgID string, f patchbay.InboundFilter) ([]*patchbay.InboundWebhook, string, error) {
	var q query
	q.sql.WriteString(`SELECT ` + inboundColumns + ` FROM inbound_webhooks`)
	q.and("org_id = " + q.arg(orgID))
	if f.ConnectionID != "" {
		q.and("connection_id = " + q.arg(f.ConnectionID))
	}
	if f.Status != "" {
		q.and("status = " + q.arg(f.Status))
	}
	if f.EventType != "" {
		q.and("event_type = " + q.arg(f.EventType))
	}
	tail, err := q.page(f.Page, "received_at")
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, q.String(tail), q.args...)
	list, err := collect(rows, err, func(r *sql.Rows) (*patchbay.InboundWebhook, error) { return scanInbound(r) })
	if err != nil {
		return nil, "", err
	}
	list, next := nextCursor(list, f.Page, func(w *patchbay.InboundWebhook) (time.Time, string) { return w.ReceivedAt, w.ID })
	return list, next, nil
}
