package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// SyncsQuery filters ListSyncs.
type SyncsQuery struct {
	ConnectionID string
	Status       string
	EntityType   string
	Direction    string
	From, To     time.Time // created at or after From, before To; zero for no bound
	ListOptions
}

func (q SyncsQuery) values() url.Values {
	v := q.ListOptions.values()
	setFilled(v, map[string]string{"connection_id": q.ConnectionID, "status": q.Status,
		"entity_type": q.EntityType, "direction": q.Direction})
	setTime(v, "from", q.From)
	setTime(v, "to", q.To)
	return v
}

// ListSyncs returns a page of the org's sync runs, newest first.
func (c *Client) ListSyncs(ctx context.Context, q SyncsQuery) (*List[SyncRun], error) {
	var out List[SyncRun]
	return &out, c.Do(ctx, http.MethodGet, "/v1/syncs", q.values(), nil, &out)
}

// StartSync records a run the host platform is starting.
func (c *Client) StartSync(ctx context.Context, req SyncRunRequest) (*SyncRun, error) {
	var out SyncRun
	return &out, c.Do(ctx, http.MethodPost, "/v1/syncs", nil, req, &out)
}

// GetSync returns a run.
func (c *Client) GetSync(ctx context.Context, id string) (*SyncRun, error) {
	var out SyncRun
	return &out, c.Do(ctx, http.MethodGet, "/v1/syncs/"+url.PathEscape(id), nil, nil, &out)
}

// PutSyncItems creates or updates items of a run; the answer is the run,
// with its counts and cursor.
func (c *Client) PutSyncItems(ctx context.Context, id string, items []SyncItem) (*SyncRun, error) {
	var out SyncRun
	return &out, c.Do(ctx, http.MethodPost, "/v1/syncs/"+url.PathEscape(id)+"/items", nil, SyncItemsRequest{Items: items}, &out)
}

// ListSyncItems returns up to limit items of a run after afterSeq, in seq
// order, optionally of one status.
func (c *Client) ListSyncItems(ctx context.Context, id, status string, afterSeq int64, limit int) (*SyncItems, error) {
	v := url.Values{}
	if status != "" {
		v.Set("status", status)
	}
	if afterSeq > 0 {
		v.Set("after_seq", strconv.FormatInt(afterSeq, 10))
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	var out SyncItems
	return &out, c.Do(ctx, http.MethodGet, "/v1/syncs/"+url.PathEscape(id)+"/items", v, nil, &out)
}

// AddSyncOps appends entries to a run's operation log and returns them
// with their ids.
func (c *Client) AddSyncOps(ctx context.Context, id string, ops []SyncOp) (*List[SyncOp], error) {
	var out List[SyncOp]
	return &out, c.Do(ctx, http.MethodPost, "/v1/syncs/"+url.PathEscape(id)+"/log", nil, SyncOpsRequest{Ops: ops}, &out)
}

// ListSyncOps returns a page of a run's operation log, oldest first.
func (c *Client) ListSyncOps(ctx context.Context, id string, opt ListOptions) (*List[SyncOp], error) {
	var out List[SyncOp]
	return &out, c.Do(ctx, http.MethodGet, "/v1/syncs/"+url.PathEscape(id)+"/log", opt.values(), nil, &out)
}

// CompleteSync completes a run.
func (c *Client) CompleteSync(ctx context.Context, id string, req SyncFinishRequest) (*SyncRun, error) {
	var out SyncRun
	return &out, c.Do(ctx, http.MethodPost, "/v1/syncs/"+url.PathEscape(id)+"/complete", nil, req, &out)
}

// FailSync fails a run with req.Error.
func (c *Client) FailSync(ctx context.Context, id string, req SyncFinishRequest) (*SyncRun, error) {
	var out SyncRun
	return &out, c.Do(ctx, http.MethodPost, "/v1/syncs/"+url.PathEscape(id)+"/fail", nil, req, &out)
}

// ListSyncSchedules returns a connection's sync schedules.
func (c *Client) ListSyncSchedules(ctx context.Context, connectionID string) (*List[SyncSchedule], error) {
	var out List[SyncSchedule]
	return &out, c.Do(ctx, http.MethodGet, "/v1/connections/"+url.PathEscape(connectionID)+"/sync-schedules", nil, nil, &out)
}

// PutSyncSchedule creates or replaces a connection's schedule of an
// entity type and direction.
func (c *Client) PutSyncSchedule(ctx context.Context, connectionID string, req SyncScheduleRequest) (*SyncSchedule, error) {
	var out SyncSchedule
	return &out, c.Do(ctx, http.MethodPut, "/v1/connections/"+url.PathEscape(connectionID)+"/sync-schedules", nil, req, &out)
}

// PullSync pulls an entity type over a connection now, through the list
// endpoint its connector declares, and returns the finished run.
func (c *Client) PullSync(ctx context.Context, connectionID, entityType string) (*SyncRun, error) {
	var out SyncRun
	return &out, c.Do(ctx, http.MethodPost, "/v1/connections/"+url.PathEscape(connectionID)+"/sync-pull", nil,
		SyncPullRequest{EntityType: entityType}, &out)
}

// SyncHistory returns the last runs of each connection (perConnection, 20
// when zero), or of one connection.
func (c *Client) SyncHistory(ctx context.Context, connectionID string, perConnection int) (*List[SyncRun], error) {
	v := url.Values{}
	if connectionID != "" {
		v.Set("connection_id", connectionID)
	}
	if perConnection > 0 {
		v.Set("limit", strconv.Itoa(perConnection))
	}
	var out List[SyncRun]
	return &out, c.Do(ctx, http.MethodGet, "/v1/reports/syncs", v, nil, &out)
}

// FailedSyncs returns the failed runs of the last days (7 when zero).
func (c *Client) FailedSyncs(ctx context.Context, days int) (*List[FailedSync], error) {
	v := url.Values{}
	if days > 0 {
		v.Set("days", strconv.Itoa(days))
	}
	var out List[FailedSync]
	return &out, c.Do(ctx, http.MethodGet, "/v1/reports/failed-syncs", v, nil, &out)
}
