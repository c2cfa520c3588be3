package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
)

// TestSyncsAPI drives a host-reported run through the API: start, items
// finished out of order (the cursor waits for the gap), a hierarchical
// operation log, completion, the lists and reports, schedules and a pull
// from the fake vendor.
func TestSyncsAPI(t *testing.T) {
	f := newFixture(t)
	a := f.newOrg("Org A", "admin@a.example")
	c := f.newConnection(a.Org.ID, 1)
	key := a.APIKey
	viewer, _ := f.newKey(a.Org.ID, patchbay.RoleViewer, nil, 0)

	var run client.SyncRun
	f.must(http.StatusCreated, "POST", "/v1/syncs", key, client.SyncRunRequest{ConnectionID: c.ID, EntityType: "contacts"}, &run)
	if run.Status != "running" || run.Direction != "inbound" || run.Trigger != "manual" || run.StartedAt == nil {
		t.Fatalf("started %+v", run)
	}
	f.must(http.StatusConflict, "POST", "/v1/syncs", key, client.SyncRunRequest{ConnectionID: c.ID, EntityType: "contacts"}, nil)
	f.must(http.StatusForbidden, "POST", "/v1/syncs/"+run.ID+"/items", viewer, client.SyncItemsRequest{Items: []client.SyncItem{{Seq: 1}}}, nil)

	var items []client.SyncItem
	for i := int64(1); i <= 4; i++ {
		items = append(items, client.SyncItem{Seq: i, ExternalID: fmt.Sprintf("hs-%d", i), Cursor: fmt.Sprintf("2026-03-0%dT00:00:00Z", i)})
	}
	f.must(http.StatusOK, "POST", "/v1/syncs/"+run.ID+"/items", key, client.SyncItemsRequest{Items: items}, &run)
	f.must(http.StatusOK, "POST", "/v1/syncs/"+run.ID+"/items", key, client.SyncItemsRequest{Items: []client.SyncItem{
		{Seq: 2, Status: "succeeded", InternalType: "contact", InternalID: "usr_2"}, {Seq: 3, Status: "failed", Error: "bad email"}}}, &run)
	if run.CursorEnd != "" || run.Processed != 2 || run.Failed != 1 {
		t.Fatalf("cursor moved past unfinished item 1: %+v", run)
	}
	f.must(http.StatusOK, "POST", "/v1/syncs/"+run.ID+"/items", key, client.SyncItemsRequest{Items: []client.SyncItem{{Seq: 1, Status: "skipped"}}}, &run)
	if run.CursorEnd != "2026-03-03T00:00:00Z" {
		t.Fatalf("cursor %q, want item 3's", run.CursorEnd)
	}
	f.must(http.StatusBadRequest, "POST", "/v1/syncs/"+run.ID+"/items", key, client.SyncItemsRequest{Items: []client.SyncItem{{Seq: 2, Status: "done"}}}, nil)
	f.must(http.StatusConflict, "POST", "/v1/syncs/"+run.ID+"/items", key, client.SyncItemsRequest{Items: []client.SyncItem{{Seq: 2, Status: "pending"}}}, nil)

	var ops client.List[client.SyncOp]
	f.must(http.StatusOK, "POST", "/v1/syncs/"+run.ID+"/log", key, client.SyncOpsRequest{Ops: []client.SyncOp{
		{ID: "op_fetch", Message: "fetch contacts"}, {ParentID: "op_fetch", Level: "warn", Message: "item 3 bad email", Data: []byte(`{"seq":3}`)}}}, &ops)
	if len(ops.Data) != 2 || ops.Data[1].ID == "" || ops.Data[1].ParentID != "op_fetch" {
		t.Fatalf("log %+v", ops)
	}
	f.must(http.StatusBadRequest, "POST", "/v1/syncs/"+run.ID+"/log", key, client.SyncOpsRequest{Ops: []client.SyncOp{{ParentID: "op_nope", Message: "x"}}}, nil)
	var read client.List[client.SyncOp]
	f.must(http.StatusOK, "GET", "/v1/syncs/"+run.ID+"/log", viewer, nil, &read)
	if len(read.Data) != 2 || read.Data[0].ID != "op_fetch" || read.Data[0].ParentID != "" || string(read.Data[1].Data) != `{"seq":3}` {
		t.Fatalf("read log %+v", read)
	}
	var page, pending client.SyncItems
	f.must(http.StatusOK, "GET", "/v1/syncs/"+run.ID+"/items?limit=2", viewer, nil, &page)
	if len(page.Data) != 2 || page.NextSeq != 2 || page.Data[1].InternalID != "usr_2" {
		t.Fatalf("items page %+v", page)
	}
	f.must(http.StatusOK, "GET", "/v1/syncs/"+run.ID+"/items?status=pending", viewer, nil, &pending)
	page = pending
	if len(page.Data) != 1 || page.Data[0].Seq != 4 || page.NextSeq != 0 {
		t.Fatalf("pending items %+v", page)
	}
	f.must(http.StatusOK, "POST", "/v1/syncs/"+run.ID+"/fail", key, client.SyncFinishRequest{Error: "token expired"}, &run)
	if run.Status != "failed" || run.Error != "token expired" || run.FinishedAt == nil {
		t.Fatalf("failed %+v", run)
	}
	f.must(http.StatusConflict, "POST", "/v1/syncs/"+run.ID+"/complete", key, client.SyncFinishRequest{}, nil)

	// A new run resumes from the cursor and reports its own counts.
	var next client.SyncRun
	f.must(http.StatusCreated, "POST", "/v1/syncs", key, client.SyncRunRequest{ConnectionID: c.ID, EntityType: "contacts"}, &next)
	if next.CursorStart != "2026-03-03T00:00:00Z" {
		t.Fatalf("resumed at %q", next.CursorStart)
	}
	processed := 40
	f.must(http.StatusOK, "POST", "/v1/syncs/"+next.ID+"/complete", key, client.SyncFinishRequest{Processed: &processed}, &next)
	if next.Status != "completed" || next.Processed != 40 {
		t.Fatalf("completed %+v", next)
	}

	var list client.List[client.SyncRun]
	f.must(http.StatusOK, "GET", "/v1/syncs?status=failed&connection_id="+c.ID, viewer, nil, &list)
	if len(list.Data) != 1 || list.Data[0].ID != run.ID {
		t.Fatalf("failed runs %+v", list)
	}
	f.must(http.StatusOK, "GET", "/v1/syncs?limit=1", viewer, nil, &list)
	if len(list.Data) != 1 || list.NextCursor == "" {
		t.Fatalf("first page %+v", list)
	}
	future := url.QueryEscape(f.clock.Now().Add(time.Hour).Format(time.RFC3339))
	var none client.List[client.SyncRun]
	f.must(http.StatusOK, "GET", "/v1/syncs?from="+future, viewer, nil, &none)
	if len(none.Data) != 0 {
		t.Fatalf("runs from the future %+v", list)
	}
	f.must(http.StatusBadRequest, "GET", "/v1/syncs?from=yesterday", viewer, nil, nil)
	var hist client.List[client.SyncRun]
	f.must(http.StatusOK, "GET", "/v1/reports/syncs?connection_id="+c.ID, viewer, nil, &hist)
	if len(hist.Data) != 2 || hist.Data[0].ID != next.ID {
		t.Fatalf("history %+v", hist)
	}
	var failed client.List[client.FailedSync]
	f.must(http.StatusOK, "GET", "/v1/reports/failed-syncs", viewer, nil, &failed)
	if len(failed.Data) != 1 || failed.Data[0].ID != run.ID || failed.Data[0].Connector != "fakevendor" || failed.Data[0].Error != "token expired" {
		t.Fatalf("failed report %+v", failed)
	}

	// Schedules.
	var sch client.SyncSchedule
	f.must(http.StatusOK, "PUT", "/v1/connections/"+c.ID+"/sync-schedules", key,
		client.SyncScheduleRequest{EntityType: "contacts", Interval: "6h", Enabled: true}, &sch)
	if sch.Interval != "6h0m0s" || sch.Health != "healthy" || sch.NextRunAt == nil || !sch.NextRunAt.Equal(f.clock.Now().Add(6*time.Hour)) {
		t.Fatalf("schedule %+v", sch)
	}
	f.must(http.StatusBadRequest, "PUT", "/v1/connections/"+c.ID+"/sync-schedules", key,
		client.SyncScheduleRequest{EntityType: "contacts", Interval: "10s", Enabled: true}, nil)
	var schedules client.List[client.SyncSchedule]
	f.must(http.StatusOK, "GET", "/v1/connections/"+c.ID+"/sync-schedules", viewer, nil, &schedules)
	if len(schedules.Data) != 1 || schedules.Data[0].EntityType != "contacts" {
		t.Fatalf("schedules %+v", schedules)
	}

	// A pull from the fake vendor over real HTTP.
	f.vendor.SetItemCount(12)
	var pulled client.SyncRun
	f.must(http.StatusOK, "POST", "/v1/connections/"+c.ID+"/sync-pull", key, client.SyncPullRequest{EntityType: "records"}, &pulled)
	if pulled.Status != "completed" || pulled.Trigger != "pull" || pulled.Processed != 12 || pulled.CursorEnd != "item_0012" {
		t.Fatalf("pull %+v", pulled)
	}
	f.must(http.StatusBadRequest, "POST", "/v1/connections/"+c.ID+"/sync-pull", key, client.SyncPullRequest{EntityType: "contacts"}, nil)

	// Retention settings.
	var st client.Settings
	f.must(http.StatusOK, "GET", "/v1/settings", key, nil, &st)
	if st.OperationLogRetentionDays != 365 || st.SyncItemRetentionDays != 30 || st.InboundRetentionDays != 90 {
		t.Fatalf("default retention %+v", st)
	}
	f.must(http.StatusOK, "PUT", "/v1/settings", key, client.Settings{OperationLogRetentionDays: 400, InboundRetentionDays: 14}, &st)
	f.must(http.StatusOK, "GET", "/v1/settings", key, nil, &st)
	if st.OperationLogRetentionDays != 400 || st.SyncItemRetentionDays != 30 || st.InboundRetentionDays != 14 {
		t.Fatalf("retention %+v", st)
	}
	f.must(http.StatusBadRequest, "PUT", "/v1/settings", key, client.Settings{SyncItemRetentionDays: -1}, nil)

	// sync.* events are Patchbay's own: a client cannot forge a sync.due.
	f.must(http.StatusBadRequest, "POST", "/v1/events", key, map[string]any{"type": "sync.due", "payload": map[string]string{"run_id": run.ID}}, nil)
}
