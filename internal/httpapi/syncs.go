package httpapi

import (
	"context"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
	"github.com/patchbay/patchbay/internal/syncs"
)

func syncRunOut(r *patchbay.SyncRun) client.SyncRun {
	return client.SyncRun{ID: r.ID, ConnectionID: r.ConnectionID, Direction: string(r.Direction), EntityType: r.EntityType,
		Status: string(r.Status), Trigger: string(r.Trigger), Processed: r.Processed, Failed: r.Failed,
		CursorStart: r.CursorStart, CursorEnd: r.CursorEnd, Error: r.Error, StartedAt: utcPtr(r.StartedAt),
		FinishedAt: utcPtr(r.FinishedAt), CreatedAt: r.CreatedAt.UTC()}
}

func syncItemOut(it *patchbay.SyncItem) client.SyncItem {
	created := it.CreatedAt.UTC()
	return client.SyncItem{Seq: it.Seq, ExternalID: it.ExternalID, InternalType: it.InternalType, InternalID: it.InternalID,
		Cursor: it.Cursor, Status: string(it.Status), Error: it.Error, CreatedAt: &created, FinishedAt: utcPtr(it.FinishedAt)}
}

func syncOpOut(o *patchbay.SyncOp) client.SyncOp {
	at := o.At.UTC()
	return client.SyncOp{ID: o.ID, ParentID: o.ParentID, Level: o.Level, Message: o.Message, Data: o.Data, At: &at}
}

func syncScheduleOut(s *patchbay.SyncSchedule) client.SyncSchedule {
	out := client.SyncSchedule{ConnectionID: s.ConnectionID, EntityType: s.EntityType, Direction: string(s.Direction),
		Interval: s.Interval.String(), Enabled: s.Enabled, Health: string(s.Health),
		ConsecutiveFailures: s.ConsecutiveFailures, LastRunID: s.LastRunID, LastRunAt: utcPtr(s.LastRunAt)}
	if !s.NextRunAt.IsZero() {
		out.NextRunAt = utcPtr(&s.NextRunAt)
	}
	return out
}

type listSyncsInput struct {
	ConnectionID string `query:"connection_id"`
	Status       string `query:"status" enum:"pending,running,completed,failed,"`
	EntityType   string `query:"entity_type"`
	Direction    string `query:"direction" enum:"inbound,outbound,"`
	From         string `query:"from" doc:"Runs created at or after this time (RFC 3339)."`
	To           string `query:"to" doc:"Runs created before this time (RFC 3339)."`
	PageParams
}

// parseTime parses an optional RFC 3339 query parameter.
func parseTime(name, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, patchbay.Errorf(patchbay.EINVALID, "%s must be an RFC 3339 time such as 2026-03-01T12:00:00Z.", name)
	}
	t = t.UTC()
	return &t, nil
}

func (s *Server) listSyncs(ctx context.Context, in *listSyncsInput) (*body[client.List[client.SyncRun]], error) {
	from, err := parseTime("from", in.From)
	if err != nil {
		return nil, err
	}
	to, err := parseTime("to", in.To)
	if err != nil {
		return nil, err
	}
	list, next, err := s.store.ListSyncRuns(ctx, patchbay.PrincipalFrom(ctx).OrgID, patchbay.SyncRunFilter{
		ConnectionID: in.ConnectionID, Status: patchbay.SyncStatus(in.Status), EntityType: in.EntityType,
		Direction: patchbay.SyncDirection(in.Direction), From: from, To: to, Page: in.page()})
	if err != nil {
		return nil, err
	}
	return respond(client.List[client.SyncRun]{Data: mapSlice(list, syncRunOut), NextCursor: next}), nil
}

type startSyncInput struct {
	Body client.SyncRunRequest
}

func (s *Server) startSync(ctx context.Context, in *startSyncInput) (*body[client.SyncRun], error) {
	r, err := s.syncs.StartRun(ctx, &patchbay.SyncRun{ConnectionID: in.Body.ConnectionID, EntityType: in.Body.EntityType,
		Direction: patchbay.SyncDirection(in.Body.Direction)})
	if err != nil {
		return nil, err
	}
	return respond(syncRunOut(r)), nil
}

func (s *Server) getSync(ctx context.Context, in *IDParam) (*body[client.SyncRun], error) {
	r, err := s.store.FindSyncRun(ctx, patchbay.PrincipalFrom(ctx).OrgID, in.ID)
	if err != nil {
		return nil, err
	}
	return respond(syncRunOut(r)), nil
}

type putSyncItemsInput struct {
	IDParam
	Body client.SyncItemsRequest
}

func (s *Server) putSyncItems(ctx context.Context, in *putSyncItemsInput) (*body[client.SyncRun], error) {
	items := make([]*patchbay.SyncItem, len(in.Body.Items))
	for i, it := range in.Body.Items {
		items[i] = &patchbay.SyncItem{Seq: it.Seq, ExternalID: it.ExternalID, InternalType: it.InternalType,
			InternalID: it.InternalID, Cursor: it.Cursor, Status: patchbay.SyncItemStatus(it.Status), Error: it.Error}
	}
	r, err := s.store.PutSyncItems(ctx, patchbay.PrincipalFrom(ctx).OrgID, in.ID, items)
	if err != nil {
		return nil, err
	}
	return respond(syncRunOut(r)), nil
}

type listSyncItemsInput struct {
	IDParam
	Status   string `query:"status" enum:"pending,processing,succeeded,failed,skipped,"`
	AfterSeq int64  `query:"after_seq" minimum:"0" doc:"Items after this seq."`
	Limit    int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

func (s *Server) listSyncItems(ctx context.Context, in *listSyncItemsInput) (*body[client.SyncItems], error) {
	list, err := s.store.ListSyncItems(ctx, patchbay.PrincipalFrom(ctx).OrgID, in.ID, patchbay.SyncItemFilter{
		Status: patchbay.SyncItemStatus(in.Status), AfterSeq: in.AfterSeq, Limit: in.Limit})
	if err != nil {
		return nil, err
	}
	out := client.SyncItems{Data: mapSlice(list, syncItemOut)}
	if len(list) == (patchbay.Page{Limit: in.Limit}).Size() {
		out.NextSeq = list[len(list)-1].Seq
	}
	return respond(out), nil
}

type addSyncOpsInput struct {
	IDParam
	Body client.SyncOpsRequest
}

func (s *Server) addSyncOps(ctx context.Context, in *addSyncOpsInput) (*body[client.List[client.SyncOp]], error) {
	ops := make([]*patchbay.SyncOp, len(in.Body.Ops))
	for i, o := range in.Body.Ops {
		ops[i] = &patchbay.SyncOp{ID: o.ID, ParentID: o.ParentID, Level: o.Level, Message: o.Message, Data: o.Data}
		if o.At != nil {
			ops[i].At = o.At.UTC()
		}
	}
	if err := s.store.AddSyncOps(ctx, patchbay.PrincipalFrom(ctx).OrgID, in.ID, ops); err != nil {
		return nil, err
	}
	return respond(client.List[client.SyncOp]{Data: mapSlice(ops, syncOpOut)}), nil
}

type listSyncOpsInput struct {
	IDParam
	PageParams
}

func (s *Server) listSyncOps(ctx context.Context, in *listSyncOpsInput) (*body[client.List[client.SyncOp]], error) {
	list, next, err := s.store.ListSyncOps(ctx, patchbay.PrincipalFrom(ctx).OrgID, in.ID, in.page())
	if err != nil {
		return nil, err
	}
	return respond(client.List[client.SyncOp]{Data: mapSlice(list, syncOpOut), NextCursor: next}), nil
}

type finishSyncInput struct {
	IDParam
	Body client.SyncFinishRequest
}

func (s *Server) finishSync(status patchbay.SyncStatus) func(context.Context, *finishSyncInput) (*body[client.SyncRun], error) {
	return func(ctx context.Context, in *finishSyncInput) (*body[client.SyncRun], error) {
		if status == patchbay.SyncFailed && in.Body.Error == "" {
			in.Body.Error = "The host platform reported the run failed."
		}
		r, err := s.syncs.Finish(ctx, in.ID, patchbay.SyncFinish{Status: status, Error: in.Body.Error,
			Processed: in.Body.Processed, Failed: in.Body.Failed})
		if err != nil {
			return nil, err
		}
		return respond(syncRunOut(r)), nil
	}
}

func (s *Server) listSyncSchedules(ctx context.Context, in *IDParam) (*body[client.List[client.SyncSchedule]], error) {
	list, err := s.store.ListSyncSchedules(ctx, patchbay.PrincipalFrom(ctx).OrgID, in.ID)
	if err != nil {
		return nil, err
	}
	return respond(client.List[client.SyncSchedule]{Data: mapSlice(list, syncScheduleOut)}), nil
}

type putSyncScheduleInput struct {
	IDParam
	Body client.SyncScheduleRequest
}

func (s *Server) putSyncSchedule(ctx context.Context, in *putSyncScheduleInput) (*body[client.SyncSchedule], error) {
	interval, err := syncs.ParseInterval(in.Body.Interval)
	if err != nil {
		return nil, err
	}
	sch, err := s.syncs.PutSchedule(ctx, &patchbay.SyncSchedule{ConnectionID: in.ID, EntityType: in.Body.EntityType,
		Direction: patchbay.SyncDirection(in.Body.Direction), Interval: interval, Enabled: in.Body.Enabled})
	if err != nil {
		return nil, err
	}
	return respond(syncScheduleOut(sch)), nil
}

type pullSyncInput struct {
	IDParam
	Body client.SyncPullRequest
}

func (s *Server) pullSync(ctx context.Context, in *pullSyncInput) (*body[client.SyncRun], error) {
	r, err := s.syncs.PullNow(ctx, in.ID, in.Body.EntityType)
	if err != nil {
		return nil, err
	}
	return respond(syncRunOut(r)), nil
}

type syncHistoryInput struct {
	ConnectionID string `query:"connection_id" doc:"One connection's history; every connection's when absent."`
	Limit        int    `query:"limit" minimum:"1" maximum:"200" default:"20" doc:"Runs per connection."`
}

func (s *Server) syncHistory(ctx context.Context, in *syncHistoryInput) (*body[client.List[client.SyncRun]], error) {
	list, err := s.store.SyncHistory(ctx, patchbay.PrincipalFrom(ctx).OrgID, in.ConnectionID, in.Limit)
	if err != nil {
		return nil, err
	}
	return respond(client.List[client.SyncRun]{Data: mapSlice(list, syncRunOut)}), nil
}

type failedSyncsInput struct {
	Days int `query:"days" minimum:"1" maximum:"365" default:"7"`
}

func (s *Server) failedSyncs(ctx context.Context, in *failedSyncsInput) (*body[client.List[client.FailedSync]], error) {
	list, err := s.store.FailedSyncs(ctx, patchbay.PrincipalFrom(ctx).OrgID, s.now().Add(-time.Duration(in.Days)*24*time.Hour))
	if err != nil {
		return nil, err
	}
	return respond(client.List[client.FailedSync]{Data: mapSlice(list, func(f *patchbay.FailedSync) client.FailedSync {
		return client.FailedSync{SyncRun: syncRunOut(f.Run), ConnectionName: f.ConnectionName, Connector: f.ConnectorSlug}
	})}), nil
}
