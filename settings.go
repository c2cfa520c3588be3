package patchbay

import (
	"context"
	"time"
)

// Settings are an org's own choices. Zero values mean Patchbay's defaults.
type Settings struct {
	OrgID string
	// DeliveryRetention is how long the delivery log keeps finished
	// deliveries (delivered or dead-lettered) and their attempts; events
	// go with their last delivery.
	DeliveryRetention time.Duration
	// RetrySchedule and MaxAttempts override the default retry policy for
	// the org's endpoints (an endpoint's own override wins).
	RetrySchedule []time.Duration
	MaxAttempts   int
	// RequestRetention is how long the request log keeps its rows and
	// IdempotencyRetention how long idempotency keys are remembered.
	RequestRetention     time.Duration
	IdempotencyRetention time.Duration
	// OperationLogRetention, SyncItemRetention (finished items of finished
	// runs) and InboundRetention bound the sync operation log, sync items
	// and received vendor webhooks.
	OperationLogRetention time.Duration
	SyncItemRetention     time.Duration
	InboundRetention      time.Duration
	UpdatedAt             time.Time
}

// Default retentions of the sync operation log, finished sync items and
// received webhooks when an org sets none.
const (
	DefaultOperationLogRetention = 365 * 24 * time.Hour
	DefaultSyncItemRetention     = 30 * 24 * time.Hour
	DefaultInboundRetention      = 90 * 24 * time.Hour
)

// orDefault returns d, or def when d is not positive.
func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// OperationLogRetentionOrDefault returns the operation log retention in force.
func (s *Settings) OperationLogRetentionOrDefault() time.Duration {
	return orDefault(s.OperationLogRetention, DefaultOperationLogRetention)
}

// SyncItemRetentionOrDefault returns the finished sync item retention in force.
func (s *Settings) SyncItemRetentionOrDefault() time.Duration {
	return orDefault(s.SyncItemRetention, DefaultSyncItemRetention)
}

// InboundRetentionOrDefault returns the inbound webhook retention in force.
func (s *Settings) InboundRetentionOrDefault() time.Duration {
	return orDefault(s.InboundRetention, DefaultInboundRetention)
}

// DefaultDeliveryRetention is the delivery log's retention when an org sets
// none.
const DefaultDeliveryRetention = 30 * 24 * time.Hour

// Retention returns the delivery log retention in force.
func (s *Settings) Retention() time.Duration {
	if s.DeliveryRetention <= 0 {
		return DefaultDeliveryRetention
	}
	return s.DeliveryRetention
}

// Defaults of the request log's and idempotency ledger's retention.
const (
	DefaultRequestRetention     = 90 * 24 * time.Hour
	DefaultIdempotencyRetention = 90 * 24 * time.Hour
)

// RequestLogRetention returns the request log retention in force.
func (s *Settings) RequestLogRetention() time.Duration {
	if s.RequestRetention <= 0 {
		return DefaultRequestRetention
	}
	return s.RequestRetention
}

// IdempotencyKeyRetention returns how long idempotency keys are kept.
func (s *Settings) IdempotencyKeyRetention() time.Duration {
	if s.IdempotencyRetention <= 0 {
		return DefaultIdempotencyRetention
	}
	return s.IdempotencyRetention
}

// EndpointSummary is one endpoint's line in the delivery report.
type EndpointSummary struct {
	EndpointID   string
	Total        int
	Delivered    int
	Failed       int // dead-lettered
	Waiting      int // pending, retrying or held
	AvgLatency   time.Duration
	LastDelivery *time.Time
}

// SettingsStore stores org settings, prunes by them, and elects the one
// replica that runs singleton work.
type SettingsStore interface {
	// FindSettings returns the org's settings (defaults when it has none).
	FindSettings(ctx context.Context, orgID string) (*Settings, error)
	// SaveSettings stores the org's settings.
	SaveSettings(ctx context.Context, s *Settings) error
	// ListSettings returns every org's settings, for the pruner.
	ListSettings(ctx context.Context) ([]*Settings, error)
	// PruneDeliveries deletes up to limit of the org's finished deliveries
	// (and their attempts) created before cutoff, and events left without
	// deliveries; it returns how many deliveries it deleted.
	PruneDeliveries(ctx context.Context, orgID string, cutoff time.Time, limit int) (int, error)
	// SummarizeDeliveries reports deliveries per endpoint created since.
	SummarizeDeliveries(ctx context.Context, orgID string, since time.Time) ([]*EndpointSummary, error)
	// AcquireLease takes or renews the named lease for owner until ttl from
	// now, unless another owner holds it; it reports whether owner holds it.
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
}
