package patchbay

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// SyncDirection is which way a sync moves records.
type SyncDirection string

// Sync directions: inbound is vendor → host platform, outbound the reverse.
const (
	SyncInbound  SyncDirection = "inbound"
	SyncOutbound SyncDirection = "outbound"
)

// SyncStatus is where a sync run is.
type SyncStatus string

// Sync run statuses: pending → running → completed or failed.
const (
	SyncPending   SyncStatus = "pending"
	SyncRunning   SyncStatus = "running"
	SyncCompleted SyncStatus = "completed"
	SyncFailed    SyncStatus = "failed"
)

// Finished reports whether a run with this status is over.
func (s SyncStatus) Finished() bool { return s == SyncCompleted || s == SyncFailed }

// SyncTrigger is what started a run.
type SyncTrigger string

// Sync triggers: the host platform (manual), a schedule, or a pull
// Patchbay runs itself over a catalog list endpoint.
const (
	TriggerManual    SyncTrigger = "manual"
	TriggerScheduled SyncTrigger = "scheduled"
	TriggerPull      SyncTrigger = "pull"
)

// SyncItemStatus is where one record of a run is.
type SyncItemStatus string

// Sync item statuses: pending → processing → succeeded, failed or skipped.
// The last three are final ("finished").
const (
	ItemPending    SyncItemStatus = "pending"
	ItemProcessing SyncItemStatus = "processing"
	ItemSucceeded  SyncItemStatus = "succeeded"
	ItemFailed     SyncItemStatus = "failed"
	ItemSkipped    SyncItemStatus = "skipped"
)

// SyncItemStatuses lists every item status.
var SyncItemStatuses = []SyncItemStatus{ItemPending, ItemProcessing, ItemSucceeded, ItemFailed, ItemSkipped}

// Finished reports whether an item with this status is done with.
func (s SyncItemStatus) Finished() bool {
	return s == ItemSucceeded || s == ItemFailed || s == ItemSkipped
}

// SyncRun is one sync of one entity type over one connection.
//
// CursorStart is the stored cursor when the run began; CursorEnd is where
// the run has moved it so far. The cursor moves only past finished items
// (see SyncStore.PutSyncItems).
type SyncRun struct {
	ID           string
	OrgID        string
	ConnectionID string
	Direction    SyncDirection
	EntityType   string
	Status       SyncStatus
	Trigger      SyncTrigger
	Processed    int // finished items (or as reported on completion)
	Failed       int // failed items (or as reported on completion)
	CursorStart  string
	CursorEnd    string
	Error        string
	StartedAt    *time.Time
	FinishedAt   *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Validate checks a new run's fields, defaulting direction and trigger.
func (r *SyncRun) Validate() error {
	r.EntityType = strings.TrimSpace(r.EntityType)
	if r.Direction == "" {
		r.Direction = SyncInbound
	}
	if r.Trigger == "" {
		r.Trigger = TriggerManual
	}
	switch {
	case r.ConnectionID == "":
		return Errorf(EINVALID, "connection_id is required.")
	case !ValidEntityType(r.EntityType):
		return Errorf(EINVALID, "entity_type must be a lower-case word such as contacts (letters, digits, _ or -; at most 64).")
	case r.Direction != SyncInbound && r.Direction != SyncOutbound:
		return Errorf(EINVALID, "direction must be inbound or outbound.")
	case r.Trigger != TriggerManual && r.Trigger != TriggerScheduled && r.Trigger != TriggerPull:
		return Errorf(EINVALID, "trigger must be manual, scheduled or pull.")
	}
	return nil
}

// ValidEntityType reports whether s can name an entity type: it appears in
// event types (sync.<connector>.<entity>), so it is one lower-case word.
func ValidEntityType(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// SyncItem is one record a run dispatched. Seq orders the items of a run;
// Cursor is the position the record stands for, which the stored cursor
// takes once every item up to it is finished.
type SyncItem struct {
	OrgID        string
	RunID        string
	Seq          int64
	ExternalID   string
	InternalType string
	InternalID   string
	Cursor       string
	Status       SyncItemStatus
	Error        string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	FinishedAt   *time.Time
}

// Validate checks an item's fields, defaulting its status to pending.
func (it *SyncItem) Validate() error {
	if it.Status == "" {
		it.Status = ItemPending
	}
	switch {
	case it.Seq < 1:
		return Errorf(EINVALID, "Item seq must be 1 or more.")
	case !slices.Contains(SyncItemStatuses, it.Status):
		return Errorf(EINVALID, "Item %d: status must be pending, processing, succeeded, failed or skipped.", it.Seq)
	case len(it.ExternalID) > 500 || len(it.InternalType) > 100 || len(it.InternalID) > 500:
		return Errorf(EINVALID, "Item %d: external_id, internal_type or internal_id is too long.", it.Seq)
	case len(it.Cursor) > 2000 || len(it.Error) > 4000:
		return Errorf(EINVALID, "Item %d: cursor or error is too long.", it.Seq)
	}
	return nil
}

// Operation log levels.
const (
	OpDebug = "debug"
	OpInfo  = "info"
	OpWarn  = "warn"
	OpError = "error"
)

// SyncOp is one entry of a run's operation log; ParentID makes the log a
// tree (a page under the run, a record under its page).
type SyncOp struct {
	ID       string
	OrgID    string
	RunID    string
	ParentID string
	Level    string
	Message  string
	Data     json.RawMessage
	At       time.Time
}

// Validate checks an entry, defaulting its level to info.
func (o *SyncOp) Validate() error {
	if o.Level == "" {
		o.Level = OpInfo
	}
	switch {
	case !slices.Contains([]string{OpDebug, OpInfo, OpWarn, OpError}, o.Level):
		return Errorf(EINVALID, "level must be debug, info, warn or error.")
	case strings.TrimSpace(o.Message) == "" || len(o.Message) > 2000:
		return Errorf(EINVALID, "message is required (at most 2000 characters).")
	case len(o.Data) > 64<<10:
		return Errorf(ETOOLARGE, "data is over 64 KiB.")
	case len(o.Data) > 0 && !json.Valid(o.Data):
		return Errorf(EINVALID, "data is not valid JSON.")
	}
	return nil
}

// SyncCursor is how far syncs of one entity type over one connection, in
// one direction, have got.
type SyncCursor struct {
	OrgID        string
	ConnectionID string
	EntityType   string
	Direction    SyncDirection
	Value        string
	RunID        string // the run that moved it last
	UpdatedAt    time.Time
}

// SyncSchedule runs syncs of one entity type over one connection every
// Interval, backing off while its Health is poor.
type SyncSchedule struct {
	OrgID               string
	ConnectionID        string
	EntityType          string
	Direction           SyncDirection
	Interval            time.Duration
	Enabled             bool
	NextRunAt           time.Time
	ConsecutiveFailures int
	Health              Health
	LastRunID           string
	LastRunAt           *time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// Bounds of a schedule's interval.
const (
	MinSyncInterval = time.Minute
	MaxSyncInterval = 30 * 24 * time.Hour
)

// Validate checks a schedule's fields.
func (s *SyncSchedule) Validate() error {
	r := SyncRun{ConnectionID: s.ConnectionID, EntityType: s.EntityType, Direction: s.Direction}
	if err := r.Validate(); err != nil {
		return err
	}
	s.EntityType, s.Direction = r.EntityType, r.Direction
	if s.Interval < MinSyncInterval || s.Interval > MaxSyncInterval {
		return Errorf(EINVALID, "interval must be 1m to 720h.")
	}
	if s.Health == "" {
		s.Health = HealthHealthy
	}
	return nil
}

// BackoffFactor is how many intervals a schedule waits at a health: 1
// healthy, 2 degraded, 10 failing, and 0 (never runs) disabled.
func BackoffFactor(h Health) int {
	switch h {
	case HealthDegraded:
		return 2
	case HealthFailing:
		return 10
	case HealthDisabled:
		return 0
	}
	return 1
}

// NextSyncAt returns when a schedule that ran at now runs next, and false
// when it does not run again (disabled, or health disabled).
func NextSyncAt(now time.Time, interval time.Duration, enabled bool, h Health) (time.Time, bool) {
	f := BackoffFactor(h)
	if !enabled || f == 0 {
		return time.Time{}, false
	}
	return now.Add(interval * time.Duration(f)), true
}

// Observe updates a schedule's health from the outcome of one of its runs:
// a success makes it healthy; failures count up through HealthFor (one
// degraded, three failing, ten disabled).
func (s *SyncSchedule) Observe(ok bool) {
	if ok {
		s.ConsecutiveFailures = 0
	} else {
		s.ConsecutiveFailures++
	}
	s.Health = HealthFor(s.ConsecutiveFailures)
}

// SyncRunFilter selects an org's runs.
type SyncRunFilter struct {
	ConnectionID string
	Status       SyncStatus
	EntityType   string
	Direction    SyncDirection
	From, To     *time.Time // created at or after From, before To
	Page
}

// SyncItemFilter selects a run's items, in seq order.
type SyncItemFilter struct {
	Status   SyncItemStatus
	AfterSeq int64
	Limit    int
}

// SyncFinish is how a run ends. Processed and Failed, when set, replace
// the counts derived from the run's items.
type SyncFinish struct {
	Status    SyncStatus // completed or failed
	Error     string
	Processed *int
	Failed    *int
}

// FailedSync is one line of the failed-syncs report.
type FailedSync struct {
	Run            *SyncRun
	ConnectionName string
	ConnectorSlug  string
}

// SyncStore stores sync runs, their items and operation logs, cursors and
// schedules.
type SyncStore interface {
	// CreateSyncRun stores a pending run of a connection of the org, with
	// the stored cursor as its CursorStart. ECONFLICT while another run of
	// the same connection, entity type and direction is pending or running.
	CreateSyncRun(ctx context.Context, r *SyncRun) error
	// FindSyncRun returns a run of the org or ENOTFOUND.
	FindSyncRun(ctx context.Context, orgID, id string) (*SyncRun, error)
	// ListSyncRuns returns a page of the org's runs, newest first.
	ListSyncRuns(ctx context.Context, orgID string, f SyncRunFilter) ([]*SyncRun, string, error)
	// StartSyncRun moves a pending run to running; a running run is left as
	// it is; a finished one is ECONFLICT.
	StartSyncRun(ctx context.Context, orgID, id string) (*SyncRun, error)
	// FinishSyncRun ends a pending or running run (ECONFLICT when it is
	// already over), and records the outcome in its schedule's health; a
	// failure pushes the schedule's next run out by the backoff factor of
	// its new health.
	FinishSyncRun(ctx context.Context, orgID, id string, f SyncFinish) (*SyncRun, error)
	// PutSyncItems creates or updates items of a run, by seq, and in the
	// same transaction moves the stored cursor to the cursor of the highest
	// item k such that every item of the run with seq ≤ k is finished. A
	// new item's seq must be above every seq the run has (EINVALID
	// otherwise), so no item can appear behind the cursor; a finished item
	// keeps its status (ECONFLICT on a change). A pending run starts; a
	// finished one is ECONFLICT.
	PutSyncItems(ctx context.Context, orgID, runID string, items []*SyncItem) (*SyncRun, error)
	// ListSyncItems returns up to f.Limit items of a run after f.AfterSeq.
	ListSyncItems(ctx context.Context, orgID, runID string, f SyncItemFilter) ([]*SyncItem, error)
	// AddSyncOps appends entries to a run's operation log; a ParentID must
	// name an entry of the same run (EINVALID otherwise).
	AddSyncOps(ctx context.Context, orgID, runID string, ops []*SyncOp) error
	// ListSyncOps returns a page of a run's operation log, oldest first.
	ListSyncOps(ctx context.Context, orgID, runID string, p Page) ([]*SyncOp, string, error)
	// FindSyncCursor returns a stored cursor or ENOTFOUND.
	FindSyncCursor(ctx context.Context, orgID, connectionID, entityType string, dir SyncDirection) (*SyncCursor, error)
	// SyncHistory returns the last perConnection runs of each of the org's
	// connections (or of one, when connectionID is set), by connection and
	// newest first.
	SyncHistory(ctx context.Context, orgID, connectionID string, perConnection int) ([]*SyncRun, error)
	// FailedSyncs lists the org's failed runs created since, newest first.
	FailedSyncs(ctx context.Context, orgID string, since time.Time) ([]*FailedSync, error)

	// PutSyncSchedule creates or replaces a schedule of a connection of the
	// org.
	PutSyncSchedule(ctx context.Context, s *SyncSchedule) error
	// FindSyncSchedule returns a schedule or ENOTFOUND.
	FindSyncSchedule(ctx context.Context, orgID, connectionID, entityType string, dir SyncDirection) (*SyncSchedule, error)
	// ListSyncSchedules returns the schedules of a connection of the org.
	ListSyncSchedules(ctx context.Context, orgID, connectionID string) ([]*SyncSchedule, error)
	// DueSyncSchedules returns up to limit enabled schedules, of any org,
	// due at now, whose health is not disabled and whose connection is
	// active.
	DueSyncSchedules(ctx context.Context, now time.Time, limit int) ([]*SyncSchedule, error)

	// PruneSyncOps deletes up to limit operation-log entries of the org
	// older than cutoff; it returns how many.
	PruneSyncOps(ctx context.Context, orgID string, cutoff time.Time, limit int) (int, error)
	// PruneSyncItems deletes up to limit finished items of the org's
	// finished runs, finished before cutoff; it returns how many.
	PruneSyncItems(ctx context.Context, orgID string, cutoff time.Time, limit int) (int, error)
}
