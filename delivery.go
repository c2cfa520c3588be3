package patchbay

import (
	"context"
	"encoding/json"
	"path"
	"strings"
	"time"
)

// Endpoint is an outbound webhook destination of an org. Its signing
// secrets are sealed; while a secret rotates, the previous one keeps
// signing alongside the new one until PreviousSecretExpiresAt.
type Endpoint struct {
	ID          string
	OrgID       string
	URL         string
	Description string
	// EventTypes are the subscribed types: exact ("invoice.paid"), a prefix
	// wildcard ("invoice.*") or everything ("*").
	EventTypes []string
	// Active is the operator's switch: deliveries to an inactive endpoint
	// are held until it is activated again.
	Active bool
	// DisabledAt is set by the circuit breaker after DisableAfter
	// consecutive failures; deliveries are held until it is re-enabled.
	DisabledAt          *time.Time
	ConsecutiveFailures int

	Secret                  string // sealed whsec_ secret
	PreviousSecret          string // sealed; signs too until it expires
	PreviousSecretExpiresAt *time.Time

	RateLimit int               // deliveries per second; 0 for no limit
	Timeout   time.Duration     // per attempt
	Headers   map[string]string // sent with every delivery
	// Schedule and MaxAttempts override the org's retry policy when set.
	Schedule    []time.Duration
	MaxAttempts int

	// ConnectionID is the webhook-family connection that represents the
	// endpoint in the connections list.
	ConnectionID string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// DisableAfter is how many consecutive failures disable an endpoint.
const DisableAfter = 10

// Accepting reports whether deliveries to the endpoint may be sent now
// (rather than held).
func (e *Endpoint) Accepting() bool { return e.Active && e.DisabledAt == nil }

// Subscribed reports whether the endpoint wants events of type t.
func (e *Endpoint) Subscribed(t string) bool {
	for _, pattern := range e.EventTypes {
		if pattern == "*" || pattern == t {
			return true
		}
		if prefix, ok := strings.CutSuffix(pattern, "*"); ok && strings.HasPrefix(t, prefix) {
			return true
		}
	}
	return false
}

// ValidEventType reports whether s is a usable event type: dotted words of
// letters, digits, '_' and '-'.
func ValidEventType(s string) bool {
	if s == "" || len(s) > 200 || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !letter && r != '.' && r != '_' && r != '-' {
			return false
		}
	}
	return true
}

// ValidEventPattern reports whether s is an event type or a wildcard
// subscription ("*", "invoice.*").
func ValidEventPattern(s string) bool {
	if s == "*" {
		return true
	}
	if prefix, ok := strings.CutSuffix(s, ".*"); ok {
		return ValidEventType(prefix)
	}
	_, err := path.Match(s, "")
	return err == nil && ValidEventType(s)
}

// Event is something that happened in the host platform.
type Event struct {
	ID             string
	OrgID          string
	Type           string
	Payload        json.RawMessage
	SourceModule   string // the host platform's module that raised it
	SourceID       string // the module's identifier (submission, invoice…)
	IdempotencyKey string
	CreatedAt      time.Time
}

// DeliveryStatus is where a delivery is in its life.
type DeliveryStatus string

// Delivery statuses: pending → sending → delivered, or → retrying → … →
// dead_letter; held while its endpoint is inactive or disabled.
const (
	DeliveryPending    DeliveryStatus = "pending"
	DeliverySending    DeliveryStatus = "sending"
	DeliveryDelivered  DeliveryStatus = "delivered"
	DeliveryRetrying   DeliveryStatus = "retrying"
	DeliveryDeadLetter DeliveryStatus = "dead_letter"
	DeliveryHeld       DeliveryStatus = "held"
)

// DeliveryStatuses lists every status.
var DeliveryStatuses = []DeliveryStatus{DeliveryPending, DeliverySending, DeliveryDelivered, DeliveryRetrying,
	DeliveryDeadLetter, DeliveryHeld}

// Delivery is the attempt chain of sending one event to one endpoint, or
// one vendor API call over one connection.
type Delivery struct {
	ID           string
	OrgID        string
	EventID      string
	EventType    string
	SourceModule string
	SourceID     string
	EndpointID   string // set for webhook deliveries
	ConnectionID string // set for vendor API calls (and the endpoint's connection)
	// Method, Path and Body describe a vendor API call.
	Method string
	Path   string
	Body   json.RawMessage

	Status   DeliveryStatus
	Attempts int // every attempt made
	// RoundAttempts counts attempts since the last manual retry; the
	// dead-letter rule counts these, so a retry by hand gets fresh attempts.
	RoundAttempts  int
	NextAttemptAt  time.Time
	LastAttemptAt  *time.Time
	LastStatusCode int
	LastError      string
	DeliveredAt    *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time

	// LeaseOwner and LeaseUntil are set on a delivery stored already
	// claimed (status sending) by the engine that will attempt it; past
	// LeaseUntil any engine may claim it again.
	LeaseOwner string
	LeaseUntil *time.Time
}

// Attempt is one try of a delivery.
type Attempt struct {
	ID         string
	OrgID      string
	DeliveryID string
	Number     int
	StartedAt  time.Time
	StatusCode int // 0 when no response arrived
	Latency    time.Duration
	Error      string
	// Response is a bounded excerpt of the response body.
	Response string
	Manual   bool // retried by hand
}

// DeliveryFilter selects deliveries of one org for the delivery log.
type DeliveryFilter struct {
	EndpointID   string
	ConnectionID string
	Statuses     []DeliveryStatus
	EventType    string // exact or prefix wildcard "invoice.*"
	Search       string // free text on the event's source id and id
	Since, Until *time.Time
	Oldest       bool // oldest first instead of newest first
	Page
}

// DeliveryStore stores endpoints, events, deliveries and their attempts.
type DeliveryStore interface {
	CreateEndpoint(ctx context.Context, e *Endpoint) error
	FindEndpoint(ctx context.Context, orgID, id string) (*Endpoint, error)
	LockEndpoint(ctx context.Context, orgID, id string) (*Endpoint, error)
	ListEndpoints(ctx context.Context, orgID string, p Page) ([]*Endpoint, string, error)
	// SubscribedEndpoints returns every endpoint of the org subscribed to
	// event type t, accepting or not.
	SubscribedEndpoints(ctx context.Context, orgID, t string) ([]*Endpoint, error)
	UpdateEndpoint(ctx context.Context, e *Endpoint) error
	DeleteEndpoint(ctx context.Context, orgID, id string) error

	// CreateEvent stores an event; with an idempotency key already used in
	// the org it stores nothing and returns the first event with created
	// false.
	CreateEvent(ctx context.Context, ev *Event) (stored *Event, created bool, err error)
	// CreateEvents stores events that carry no idempotency key, filling
	// their ids and times, with as few statements as it can.
	CreateEvents(ctx context.Context, evs []*Event) error
	FindEvent(ctx context.Context, orgID, id string) (*Event, error)
	// FindEvents returns the events with these ids, of any org, by id: the
	// engine loads a claimed batch's events with it. Missing ids are absent.
	FindEvents(ctx context.Context, ids []string) (map[string]*Event, error)
	// CreateDeliveries stores new deliveries, with their lease when one is
	// set.
	CreateDeliveries(ctx context.Context, ds []*Delivery) error

	FindDelivery(ctx context.Context, orgID, id string) (*Delivery, error)
	ListDeliveries(ctx context.Context, orgID string, f DeliveryFilter) ([]*Delivery, string, error)
	ListAttempts(ctx context.Context, orgID, deliveryID string) ([]*Attempt, error)

	// ClaimDeliveries leases up to limit due deliveries (pending or
	// retrying and due, or sending with an expired lease) to owner until
	// until, marking them sending. Replicas never get the same delivery.
	ClaimDeliveries(ctx context.Context, owner string, now, until time.Time, limit int) ([]*Delivery, error)
	// FinishAttempts stores attempts and the deliveries' new state, for
	// deliveries still leased to owner, and counts consecutive failures per
	// endpoint. It returns the endpoints that just reached DisableAfter
	// failures and are not disabled yet.
	FinishAttempts(ctx context.Context, owner string, results []AttemptResult) (tripped []*Endpoint, err error)
	// NextDue returns when the earliest pending or retrying delivery is
	// due, or nil when none is.
	NextDue(ctx context.Context) (*time.Time, error)
	// RetryDeliveries makes the org's deliveries with these ids that are
	// not delivered nor being sent due now, with fresh attempts; it returns
	// the endpoints they belong to.
	RetryDeliveries(ctx context.Context, orgID string, ids []string, now time.Time) ([]string, error)
	// HoldDeliveries marks an endpoint's pending and retrying deliveries
	// held; ReleaseDeliveries makes its held deliveries due now.
	HoldDeliveries(ctx context.Context, orgID, endpointID string) (int, error)
	// NotifyDeliveries tells every replica's engine, once the transaction
	// commits, that deliveries are due (PostgreSQL NOTIFY; a no-op where
	// there is one process).
	NotifyDeliveries(ctx context.Context) error
	ReleaseDeliveries(ctx context.Context, orgID, endpointID string, now time.Time) (int, error)
	// ReleaseConnectionCalls makes the held vendor calls over a connection
	// due now (when it resumes).
	ReleaseConnectionCalls(ctx context.Context, orgID, connectionID string, now time.Time) (int, error)
}

// AttemptResult is the outcome of one attempt, as the engine records it.
type AttemptResult struct {
	Delivery *Delivery // with Status, NextAttemptAt, LastStatusCode, LastError, DeliveredAt updated
	Attempt  *Attempt
}
