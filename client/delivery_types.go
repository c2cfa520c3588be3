package client

import (
	"encoding/json"
	"time"
)

// Endpoint is an outbound webhook destination. Its secrets are never part
// of it.
type Endpoint struct {
	ID                      string            `json:"id"`
	URL                     string            `json:"url"`
	Description             string            `json:"description"`
	EventTypes              []string          `json:"event_types"`
	Active                  bool              `json:"active"`
	Disabled                bool              `json:"disabled" doc:"Disabled by the circuit breaker after repeated failures."`
	DisabledAt              *time.Time        `json:"disabled_at,omitempty"`
	ConsecutiveFailures     int               `json:"consecutive_failures"`
	PreviousSecretExpiresAt *time.Time        `json:"previous_secret_expires_at,omitempty" doc:"While set and in the future, the previous secret signs too."`
	RateLimit               int               `json:"rate_limit" doc:"Deliveries per second; 0 for no limit."`
	TimeoutSeconds          int               `json:"timeout_seconds"`
	Headers                 map[string]string `json:"headers,omitempty"`
	RetrySchedule           []string          `json:"retry_schedule,omitempty" doc:"Waits between attempts, e.g. [\"1m\",\"5m\"]; the default policy when empty."`
	MaxAttempts             int               `json:"max_attempts,omitempty"`
	ConnectionID            string            `json:"connection_id"`
	CreatedAt               time.Time         `json:"created_at"`
	UpdatedAt               time.Time         `json:"updated_at"`
}

// EndpointRequest creates or changes an endpoint; absent fields keep their
// value on change.
type EndpointRequest struct {
	URL            *string           `json:"url,omitempty" maxLength:"2000"`
	Description    *string           `json:"description,omitempty" maxLength:"500"`
	EventTypes     []string          `json:"event_types,omitempty" doc:"Exact types, wildcards such as invoice.*, or * for all; * by default."`
	Active         *bool             `json:"active,omitempty"`
	RateLimit      *int              `json:"rate_limit,omitempty"`
	TimeoutSeconds *int              `json:"timeout_seconds,omitempty"`
	Headers        map[string]string `json:"headers,omitempty"`
	RetrySchedule  []string          `json:"retry_schedule,omitempty"`
	MaxAttempts    *int              `json:"max_attempts,omitempty"`
}

// EndpointSecret is an endpoint with its signing secret, shown once.
type EndpointSecret struct {
	Endpoint Endpoint `json:"endpoint"`
	Secret   string   `json:"secret" doc:"The whsec_ signing secret. Shown once; store it now."`
}

// RotateRequest rotates an endpoint's secret.
type RotateRequest struct {
	GraceSeconds int `json:"grace_seconds,omitempty" doc:"How long the old secret keeps signing; 24 hours by default."`
}

// EventRequest publishes one event.
type EventRequest struct {
	Type           string          `json:"type" maxLength:"200"`
	Payload        json.RawMessage `json:"payload" doc:"Any JSON value; sent byte for byte as the webhook's data."`
	SourceModule   string          `json:"source_module,omitempty" maxLength:"100" doc:"The host platform's module that raised it."`
	SourceID       string          `json:"source_id,omitempty" maxLength:"200" doc:"That module's identifier (submission, invoice…)."`
	IdempotencyKey string          `json:"idempotency_key,omitempty" maxLength:"200" doc:"The same key always yields the same event, stored once."`
}

// BatchRequest publishes several events at once.
type BatchRequest struct {
	Events []EventRequest `json:"events" minItems:"1" maxItems:"500"`
}

// Event is a published event.
type Event struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	Payload        json.RawMessage `json:"payload,omitempty" doc:"Left out of a publish's answer asked for with with_content=false."`
	SourceModule   string          `json:"source_module,omitempty"`
	SourceID       string          `json:"source_id,omitempty"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
}

// Published is the answer to a publish: the event (the first one, for a
// repeated idempotency key) and how many deliveries it fanned out to.
type Published struct {
	Event      Event `json:"event"`
	Deliveries int   `json:"deliveries"`
	Duplicate  bool  `json:"duplicate"`
}

// Delivery is one event's (or vendor call's) attempt chain to one endpoint
// (or connection).
type Delivery struct {
	ID             string          `json:"id"`
	EventID        string          `json:"event_id,omitempty"`
	EventType      string          `json:"event_type"`
	SourceModule   string          `json:"source_module,omitempty"`
	SourceID       string          `json:"source_id,omitempty"`
	EndpointID     string          `json:"endpoint_id,omitempty"`
	ConnectionID   string          `json:"connection_id,omitempty"`
	Method         string          `json:"method,omitempty"`
	Path           string          `json:"path,omitempty"`
	Status         string          `json:"status" enum:"pending,sending,delivered,retrying,dead_letter,held"`
	Attempts       int             `json:"attempts"`
	NextAttemptAt  *time.Time      `json:"next_attempt_at,omitempty"`
	LastAttemptAt  *time.Time      `json:"last_attempt_at,omitempty"`
	LastStatusCode int             `json:"last_status_code,omitempty"`
	LastError      string          `json:"last_error,omitempty"`
	DeliveredAt    *time.Time      `json:"delivered_at,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	AttemptLog     []Attempt       `json:"attempt_log,omitempty"`
	Body           json.RawMessage `json:"body,omitempty"`
}

// Attempt is one try of a delivery.
type Attempt struct {
	Number     int       `json:"number"`
	StartedAt  time.Time `json:"started_at"`
	StatusCode int       `json:"status_code,omitempty"`
	LatencyMS  int64     `json:"latency_ms"`
	Error      string    `json:"error,omitempty"`
	Response   string    `json:"response,omitempty" doc:"The first KiB of the response body."`
	Manual     bool      `json:"manual" doc:"The first attempt after a retry by hand."`
}

// VendorCallRequest queues a call to a vendor's API over a connection.
type VendorCallRequest struct {
	ConnectionID string          `json:"connection_id"`
	Method       string          `json:"method" enum:"GET,POST,PUT,PATCH,DELETE"`
	Path         string          `json:"path" maxLength:"2000"`
	Body         json.RawMessage `json:"body,omitempty"`
	SourceModule string          `json:"source_module,omitempty" maxLength:"100"`
	SourceID     string          `json:"source_id,omitempty" maxLength:"200"`
}

// RetryRequest retries deliveries by id, or every one matching a filter.
type RetryRequest struct {
	IDs        []string `json:"ids,omitempty" maxItems:"1000"`
	EndpointID string   `json:"endpoint_id,omitempty"`
	Status     []string `json:"status,omitempty" doc:"dead_letter, retrying and held by default."`
	EventType  string   `json:"event_type,omitempty"`
}

// RetryResult says how many deliveries were given fresh attempts.
type RetryResult struct {
	Retried int `json:"retried"`
}

// Settings are an org's settings.
type Settings struct {
	DeliveryRetentionDays int      `json:"delivery_retention_days" doc:"Days the delivery log keeps finished deliveries; 30 by default."`
	RetrySchedule         []string `json:"retry_schedule" doc:"Waits between attempts for the org's endpoints, e.g. [\"1m\",\"5m\"]; empty for the default."`
	MaxAttempts           int      `json:"max_attempts" doc:"Attempts before dead letter; 0 for the default (6)."`
	// RequestRetentionDays and IdempotencyRetentionDays: 0 sets the default.
	RequestRetentionDays     int `json:"request_retention_days,omitempty" doc:"Days the request log keeps its rows; 90 by default."`
	IdempotencyRetentionDays int `json:"idempotency_retention_days,omitempty" doc:"Days idempotency keys are remembered; 90 by default."`
	// The sync and inbound retentions, in days; 0 (or absent) for the default.
	OperationLogRetentionDays int        `json:"operation_log_retention_days,omitempty" doc:"Days the sync operation log is kept; 365 by default."`
	SyncItemRetentionDays     int        `json:"sync_item_retention_days,omitempty" doc:"Days finished items of finished sync runs are kept; 30 by default."`
	InboundRetentionDays      int        `json:"inbound_retention_days,omitempty" doc:"Days received vendor webhooks are kept; 90 by default."`
	UpdatedAt                 *time.Time `json:"updated_at,omitempty"`
}

// SettingsUpdate changes an org's settings (PUT /v1/settings): fields left
// out keep their current value; 0 (or an empty schedule) sets the default.
type SettingsUpdate struct {
	DeliveryRetentionDays     *int      `json:"delivery_retention_days,omitempty" doc:"Days the delivery log keeps finished deliveries; 0 for the default (30)."`
	RetrySchedule             *[]string `json:"retry_schedule,omitempty" doc:"Waits between attempts for the org's endpoints, e.g. [\"1m\",\"5m\"]; empty for the default."`
	MaxAttempts               *int      `json:"max_attempts,omitempty" doc:"Attempts before dead letter; 0 for the default (6)."`
	RequestRetentionDays      *int      `json:"request_retention_days,omitempty" doc:"Days the request log keeps its rows; 0 for the default (90)."`
	IdempotencyRetentionDays  *int      `json:"idempotency_retention_days,omitempty" doc:"Days idempotency keys are remembered; 0 for the default (90)."`
	OperationLogRetentionDays *int      `json:"operation_log_retention_days,omitempty" doc:"Days the sync operation log is kept; 0 for the default (365)."`
	SyncItemRetentionDays     *int      `json:"sync_item_retention_days,omitempty" doc:"Days finished items of finished sync runs are kept; 0 for the default (30)."`
	InboundRetentionDays      *int      `json:"inbound_retention_days,omitempty" doc:"Days received vendor webhooks are kept; 0 for the default (90)."`
}

// EndpointSummary is one endpoint's line in the delivery report.
type EndpointSummary struct {
	EndpointID   string     `json:"endpoint_id"`
	Total        int        `json:"total"`
	Delivered    int        `json:"delivered"`
	Failed       int        `json:"failed" doc:"Dead-lettered."`
	Waiting      int        `json:"waiting" doc:"Pending, sending, retrying or held."`
	AvgLatencyMS int64      `json:"avg_latency_ms"`
	LastDelivery *time.Time `json:"last_delivery_at,omitempty"`
}

// Mapping pairs a vendor's id with the host platform's, per connection.
type Mapping struct {
	ID           string    `json:"id"`
	ConnectionID string    `json:"connection_id"`
	ExternalID   string    `json:"external_id"`
	InternalType string    `json:"internal_type"`
	InternalID   string    `json:"internal_id"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// MappingRequest creates a mapping.
type MappingRequest struct {
	ConnectionID string `json:"connection_id" maxLength:"100"`
	ExternalID   string `json:"external_id" maxLength:"500"`
	InternalType string `json:"internal_type" maxLength:"100"`
	InternalID   string `json:"internal_id" maxLength:"500"`
}

// InboundWebhook is a call a vendor made to one of Patchbay's inbound URLs.
type InboundWebhook struct {
	ID           string              `json:"id"`
	ConnectionID string              `json:"connection_id"`
	Provider     string              `json:"provider"`
	EventType    string              `json:"event_type"`
	DeliveryID   string              `json:"delivery_id,omitempty"`
	Verified     bool                `json:"verified"`
	Status       string              `json:"status" enum:"pending,processing,processed,failed,rejected"`
	Headers      map[string][]string `json:"headers" doc:"Signature and secret headers are redacted."`
	Payload      json.RawMessage     `json:"payload,omitempty" doc:"The body, when verified; as a JSON string when it was not JSON."`
	Error        string              `json:"error,omitempty"`
	EventID      string              `json:"event_id,omitempty" doc:"The event it was forwarded as."`
	ReceivedAt   time.Time           `json:"received_at"`
	ProcessedAt  *time.Time          `json:"processed_at,omitempty"`
}

// InboundURLRequest sets up a connection's inbound URL.
type InboundURLRequest struct {
	Secret string `json:"secret" minLength:"1" maxLength:"1000" doc:"The signing secret the vendor shows for the webhook."`
}

// InboundURL is where the vendor is to send webhooks. It holds a secret
// token and is shown once; set up a new one to replace it.
type InboundURL struct {
	URL string `json:"url"`
}
