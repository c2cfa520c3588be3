package client

import (
	"encoding/json"
	"time"
)

// SyncRun is one sync of one entity type over one connection.
type SyncRun struct {
	ID           string     `json:"id"`
	ConnectionID string     `json:"connection_id"`
	Direction    string     `json:"direction" enum:"inbound,outbound"`
	EntityType   string     `json:"entity_type"`
	Status       string     `json:"status" enum:"pending,running,completed,failed"`
	Trigger      string     `json:"trigger" enum:"manual,scheduled,pull"`
	Processed    int        `json:"records_processed" doc:"Finished items, or the count reported on completion."`
	Failed       int        `json:"records_failed" doc:"Failed items, or the count reported on completion."`
	CursorStart  string     `json:"cursor_start" doc:"The stored cursor when the run began: where to resume from."`
	CursorEnd    string     `json:"cursor_end" doc:"Where the run has moved the cursor: past finished items only."`
	Error        string     `json:"error,omitempty"`
	StartedAt    *time.Time `json:"started_at,omitempty"`
	FinishedAt   *time.Time `json:"finished_at,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
}

// SyncRunRequest starts a run the host platform makes.
type SyncRunRequest struct {
	ConnectionID string `json:"connection_id" minLength:"1" maxLength:"100"`
	EntityType   string `json:"entity_type" minLength:"1" maxLength:"64" doc:"A lower-case word such as contacts."`
	Direction    string `json:"direction,omitempty" enum:"inbound,outbound," doc:"inbound (vendor → platform) by default."`
}

// SyncItem is one record a run dispatched.
type SyncItem struct {
	Seq          int64      `json:"seq" minimum:"1" doc:"Order within the run; new items take seqs above every earlier one."`
	ExternalID   string     `json:"external_id,omitempty" maxLength:"500"`
	InternalType string     `json:"internal_type,omitempty" maxLength:"100"`
	InternalID   string     `json:"internal_id,omitempty" maxLength:"500"`
	Cursor       string     `json:"cursor,omitempty" maxLength:"2000" doc:"The position this record stands for; the stored cursor takes it once every item up to it is finished."`
	Status       string     `json:"status,omitempty" enum:"pending,processing,succeeded,failed,skipped," doc:"pending when new and absent."`
	Error        string     `json:"error,omitempty" maxLength:"4000"`
	CreatedAt    *time.Time `json:"created_at,omitempty" readOnly:"true"`
	FinishedAt   *time.Time `json:"finished_at,omitempty" readOnly:"true"`
}

// SyncItemsRequest creates or updates up to 500 items of a run.
type SyncItemsRequest struct {
	Items []SyncItem `json:"items" minItems:"1" maxItems:"500"`
}

// SyncItems is a page of a run's items, in seq order.
type SyncItems struct {
	Data    []SyncItem `json:"data"`
	NextSeq int64      `json:"next_after_seq,omitempty" doc:"Pass as after_seq for the next page; absent on the last page."`
}

// SyncOp is one entry of a run's operation log.
type SyncOp struct {
	ID       string          `json:"id,omitempty" maxLength:"100" doc:"Given by the caller to name a parent in the same batch, or made up."`
	ParentID string          `json:"parent_id,omitempty" maxLength:"100" doc:"An entry of the same run: the log is a tree."`
	Level    string          `json:"level,omitempty" enum:"debug,info,warn,error," doc:"info by default."`
	Message  string          `json:"message" minLength:"1" maxLength:"2000"`
	Data     json.RawMessage `json:"data,omitempty" doc:"Any JSON value, up to 64 KiB."`
	At       *time.Time      `json:"at,omitempty" doc:"When it happened; now by default."`
}

// SyncOpsRequest appends up to 500 entries to a run's operation log.
type SyncOpsRequest struct {
	Ops []SyncOp `json:"ops" minItems:"1" maxItems:"500"`
}

// SyncFinishRequest completes or fails a run. Counts, when given, replace
// those derived from the run's items.
type SyncFinishRequest struct {
	Error     string `json:"error,omitempty" maxLength:"4000" doc:"Why the run failed."`
	Processed *int   `json:"records_processed,omitempty" minimum:"0"`
	Failed    *int   `json:"records_failed,omitempty" minimum:"0"`
}

// SyncSchedule runs syncs of an entity type over a connection at an
// interval, backing off while its health is poor.
type SyncSchedule struct {
	ConnectionID        string     `json:"connection_id" readOnly:"true"`
	EntityType          string     `json:"entity_type"`
	Direction           string     `json:"direction"`
	Interval            string     `json:"interval" doc:"e.g. 15m or 6h; 1m to 720h."`
	Enabled             bool       `json:"enabled"`
	NextRunAt           *time.Time `json:"next_run_at,omitempty"`
	Health              string     `json:"health" enum:"healthy,degraded,failing,disabled" doc:"From run outcomes: degraded waits 2 intervals, failing 10, disabled stops."`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	LastRunID           string     `json:"last_run_id,omitempty"`
	LastRunAt           *time.Time `json:"last_run_at,omitempty"`
}

// SyncScheduleRequest creates or replaces a schedule.
type SyncScheduleRequest struct {
	EntityType string `json:"entity_type" minLength:"1" maxLength:"64"`
	Direction  string `json:"direction,omitempty" enum:"inbound,outbound," doc:"inbound by default."`
	Interval   string `json:"interval" doc:"e.g. 15m or 6h; 1m to 720h."`
	Enabled    bool   `json:"enabled"`
}

// SyncPullRequest pulls an entity type the connector declares a list
// endpoint for.
type SyncPullRequest struct {
	EntityType string `json:"entity_type" minLength:"1" maxLength:"64"`
}

// FailedSync is one line of the failed-syncs report.
type FailedSync struct {
	SyncRun
	ConnectionName string `json:"connection_name"`
	Connector      string `json:"connector"`
}
