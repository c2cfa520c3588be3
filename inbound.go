package patchbay

import (
	"context"
	"net/http"
	"time"
)

// InboundRoute gives a connection an unguessable URL, /inbound/<token>, at
// which its vendor delivers webhooks. Only the token's hash is stored; the
// vendor's signing secret is sealed.
type InboundRoute struct {
	TokenHash    string
	OrgID        string
	ConnectionID string
	Secret       string // sealed
	CreatedAt    time.Time
}

// InboundStatus is where a received webhook is.
type InboundStatus string

// Inbound statuses: pending → processing → processed or failed; rejected
// when its signature did not verify (kept without its body).
const (
	InboundPending    InboundStatus = "pending"
	InboundProcessing InboundStatus = "processing"
	InboundProcessed  InboundStatus = "processed"
	InboundFailed     InboundStatus = "failed"
	InboundRejected   InboundStatus = "rejected"
)

// InboundWebhook is one call a vendor made to Patchbay.
type InboundWebhook struct {
	ID           string
	OrgID        string
	ConnectionID string
	Provider     string // the connector's slug
	EventType    string
	DeliveryID   string // the vendor's id, for de-duplication
	Verified     bool
	Status       InboundStatus
	Headers      http.Header // secrets redacted
	Payload      []byte      // empty when rejected
	Error        string
	EventID      string // the event it was forwarded as
	ReceivedAt   time.Time
	ProcessedAt  *time.Time
}

// InboundFilter selects an org's inbound webhooks.
type InboundFilter struct {
	ConnectionID string
	Status       InboundStatus
	EventType    string
	Page
}

// InboundStore stores inbound routes and webhooks.
type InboundStore interface {
	// CreateInboundRoute stores a route; a connection has at most one, so
	// this replaces any earlier one.
	CreateInboundRoute(ctx context.Context, r *InboundRoute) error
	// FindInboundRoute returns the route with that token hash or ENOTFOUND.
	FindInboundRoute(ctx context.Context, tokenHash string) (*InboundRoute, error)
	// CreateInbound stores a received webhook. With a delivery id the
	// connection has seen before it stores nothing and returns ECONFLICT.
	CreateInbound(ctx context.Context, w *InboundWebhook) error
	// UpdateInbound saves a webhook's status, error, event and times.
	UpdateInbound(ctx context.Context, w *InboundWebhook) error
	// FindInbound returns a webhook of the org or ENOTFOUND.
	FindInbound(ctx context.Context, orgID, id string) (*InboundWebhook, error)
	// ListInbound returns a page of the org's webhooks, newest first.
	ListInbound(ctx context.Context, orgID string, f InboundFilter) ([]*InboundWebhook, string, error)
	// PruneInbound deletes up to limit of the org's webhooks received
	// before cutoff that are no longer pending or processing; it returns
	// how many.
	PruneInbound(ctx context.Context, orgID string, cutoff time.Time, limit int) (int, error)
}
