// Package syncs runs sync runs: the host platform reports the runs it
// makes (items, operation log, outcome) through the API; schedules start
// runs at an interval, backing off while a schedule's health is poor, and
// either tell the host platform a run is due (a sync.due event) or, where
// the connector declares a list endpoint, pull the records themselves and
// deliver them as events.
//
// The store keeps the one rule that matters across crashes: the cursor of
// a connection's entity type moves only past finished items, in the same
// transaction as the item change (patchbay.SyncStore.PutSyncItems).
package syncs

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/delivery"
)

// Catalog finds connectors; *connector.Catalog implements it.
type Catalog interface {
	Get(slug string) (*patchbay.Connector, bool)
}

// Caller calls a vendor's API over a connection, with the credential
// attached and refreshed; *connection.Service implements it.
type Caller interface {
	Do(ctx context.Context, orgID, id, method, path string, body []byte) (*http.Response, error)
}

// Publisher publishes Patchbay's own events; *delivery.Service implements
// it.
type Publisher interface {
	PublishOwn(ctx context.Context, events []delivery.EventInput) ([]delivery.Published, error)
}

// Event types Patchbay publishes for syncs. Pulled records go out as
// sync.<connector>.<entity>, one event per record.
const (
	EventDue = "sync.due"
)

// Config configures a Service.
type Config struct {
	Store       patchbay.Store
	Catalog     Catalog
	Connections Caller
	Deliveries  Publisher
	Logger      *slog.Logger
	Now         func() time.Time
}

// Service runs syncs.
type Service struct {
	store   patchbay.Store
	catalog Catalog
	calls   Caller
	publish Publisher
	logger  *slog.Logger
	now     func() time.Time

	// PagesPerRun bounds the pages one pull run fetches; the next run goes
	// on from the cursor. 20 by default.
	PagesPerRun int
	// MaxPayload bounds the event of one pulled record; a bigger one fails
	// its item. 256 KiB by default, the delivery service's own bound.
	MaxPayload int
	// StaleAfter is how long a pull may go without progress before it is
	// taken for dead (its process crashed) and failed, so a new run can
	// start. 10 minutes by default.
	StaleAfter time.Duration
}

// New returns a Service.
func New(cfg Config) *Service {
	s := &Service{store: cfg.Store, catalog: cfg.Catalog, calls: cfg.Connections, publish: cfg.Deliveries,
		logger: cfg.Logger, now: cfg.Now, PagesPerRun: 20, MaxPayload: 256 << 10,
		StaleAfter: 10 * time.Minute}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.now == nil {
		s.now = patchbay.Now
	}
	return s
}

// system returns ctx acting as Patchbay itself in an org.
func system(ctx context.Context, orgID string) context.Context {
	return patchbay.WithPrincipal(ctx, &patchbay.Principal{OrgID: orgID, ActorType: patchbay.ActorSystem,
		ActorID: "syncs", ActorName: "Patchbay", Capabilities: patchbay.NewCapabilitySet(patchbay.CapSyncWrite)})
}

// StartRun records a run the host platform is starting, already running.
func (s *Service) StartRun(ctx context.Context, r *patchbay.SyncRun) (*patchbay.SyncRun, error) {
	r.OrgID, r.Trigger = patchbay.PrincipalFrom(ctx).OrgID, patchbay.TriggerManual
	var out *patchbay.SyncRun
	err := s.store.WithTx(ctx, func(tx patchbay.Store) error {
		if err := tx.CreateSyncRun(ctx, r); err != nil {
			return err
		}
		var err error
		out, err = tx.StartSyncRun(ctx, r.OrgID, r.ID)
		return err
	})
	return out, err
}

// Finish completes or fails a run of the caller's org.
func (s *Service) Finish(ctx context.Context, id string, f patchbay.SyncFinish) (*patchbay.SyncRun, error) {
	return s.store.FinishSyncRun(ctx, patchbay.PrincipalFrom(ctx).OrgID, id, f)
}

// PutSchedule creates or replaces a schedule of a connection of the
// caller's org. A new or re-enabled schedule is due one interval from now,
// and starts healthy; a changed one keeps its health and next run.
func (s *Service) PutSchedule(ctx context.Context, sch *patchbay.SyncSchedule) (*patchbay.SyncSchedule, error) {
	sch.OrgID = patchbay.PrincipalFrom(ctx).OrgID
	if err := sch.Validate(); err != nil {
		return nil, err
	}
	err := s.store.WithTx(ctx, func(tx patchbay.Store) error {
		old, err := tx.FindSyncSchedule(ctx, sch.OrgID, sch.ConnectionID, sch.EntityType, sch.Direction)
		switch {
		case err == nil && old.Enabled && sch.Enabled:
			sch.Health, sch.ConsecutiveFailures, sch.LastRunID, sch.LastRunAt = old.Health, old.ConsecutiveFailures, old.LastRunID, old.LastRunAt
			sch.NextRunAt = old.NextRunAt
			if interval := sch.Interval; interval < old.Interval && !old.NextRunAt.IsZero() {
				sch.NextRunAt = minTime(old.NextRunAt, s.now().Add(interval))
			}
		case err == nil:
			sch.LastRunID, sch.LastRunAt = old.LastRunID, old.LastRunAt
			sch.Health, sch.ConsecutiveFailures = patchbay.HealthHealthy, 0
			sch.NextRunAt = s.now().Add(sch.Interval)
		case patchbay.ErrorCode(err) == patchbay.ENOTFOUND:
			sch.Health, sch.ConsecutiveFailures = patchbay.HealthHealthy, 0
			sch.NextRunAt = s.now().Add(sch.Interval)
		default:
			return err
		}
		if !sch.Enabled {
			sch.NextRunAt = time.Time{}
		}
		if err := tx.PutSyncSchedule(ctx, sch); err != nil {
			return err
		}
		a := patchbay.NewActivity(ctx, "sync.schedule", "connection", sch.ConnectionID, patchbay.OutcomeSuccess)
		a.Detail = map[string]any{"entity_type": sch.EntityType, "direction": string(sch.Direction),
			"interval": sch.Interval.String(), "enabled": sch.Enabled}
		return tx.RecordActivity(ctx, a)
	})
	if err != nil {
		return nil, err
	}
	return sch, nil
}

// ParseInterval reads a schedule interval written as a duration such as
// 15m or 6h; the schedule's Validate checks its bounds.
func ParseInterval(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, patchbay.Errorf(patchbay.EINVALID, "interval: %q is not a duration such as 15m or 6h.", s)
	}
	return d, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// announce publishes sync.due for a run: the host platform runs it and
// reports through the API. The idempotency key makes announcing twice
// harmless.
func (s *Service) announce(ctx context.Context, r *patchbay.SyncRun, slug string) error {
	payload, err := json.Marshal(map[string]any{"run_id": r.ID, "connection_id": r.ConnectionID, "connector": slug,
		"entity_type": r.EntityType, "direction": r.Direction, "cursor": r.CursorStart, "trigger": r.Trigger})
	if err != nil {
		return err
	}
	_, err = s.publish.PublishOwn(system(ctx, r.OrgID), []delivery.EventInput{{Type: EventDue, Payload: payload,
		SourceModule: "syncs", SourceID: r.ID, IdempotencyKey: EventDue + ":" + r.ID}})
	return err
}
