package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

var syncTests = []testCase{
	{"CursorOnlyPastFinishedItems", testSyncCursor},
	{"CrashMidTransaction", testSyncCrash},
	{"ItemRules", testSyncItemRules},
	{"OneOpenRun", testSyncOneOpenRun},
	{"OperationLog", testSyncOps},
	{"ListAndReports", testSyncList},
	{"Schedules", testSyncSchedules},
	{"Retention", testSyncRetention},
}

// syncRun creates a run of entity "contacts" inbound over c.
func (e *env) syncRun(t *testing.T, c *patchbay.Connection) *patchbay.SyncRun {
	t.Helper()
	r := &patchbay.SyncRun{OrgID: c.OrgID, ConnectionID: c.ID, EntityType: "contacts"}
	must(t, e.s.CreateSyncRun(e.ctx, r), "CreateSyncRun")
	return r
}

// putItems sets the status of items by seq; new items get cursor "c<seq>".
func (e *env) putItems(t *testing.T, r *patchbay.SyncRun, status patchbay.SyncItemStatus, seqs ...int64) *patchbay.SyncRun {
	t.Helper()
	var items []*patchbay.SyncItem
	for _, s := range seqs {
		items = append(items, &patchbay.SyncItem{Seq: s, ExternalID: fmt.Sprintf("ext-%d", s), Cursor: fmt.Sprintf("c%d", s), Status: status})
	}
	run, err := e.s.PutSyncItems(e.ctx, r.OrgID, r.ID, items)
	must(t, err, "PutSyncItems")
	return run
}

// cursor returns the stored cursor of r's connection, "" when none.
func (e *env) cursor(t *testing.T, r *patchbay.SyncRun) string {
	t.Helper()
	c, err := e.s.FindSyncCursor(e.ctx, r.OrgID, r.ConnectionID, r.EntityType, r.Direction)
	if patchbay.ErrorCode(err) == patchbay.ENOTFOUND {
		return ""
	}
	must(t, err, "FindSyncCursor")
	return c.Value
}

func testSyncCursor(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	c := e.connection(t, org.ID, "hubspot", "CRM")
	r := e.syncRun(t, c)
	if r.Status != patchbay.SyncPending || r.CursorStart != "" || r.Trigger != patchbay.TriggerManual {
		t.Fatalf("created %+v", r)
	}
	e.putItems(t, r, patchbay.ItemPending, 1, 2, 3, 4, 5)
	steps := []struct {
		status patchbay.SyncItemStatus
		seqs   []int64
		want   string
	}{
		{patchbay.ItemSucceeded, []int64{2, 4}, ""}, // out of order: item 1 is unfinished
		{patchbay.ItemProcessing, []int64{1}, ""},
		{patchbay.ItemFailed, []int64{1}, "c2"}, // failed counts as finished
		{patchbay.ItemSkipped, []int64{3}, "c4"},
		{patchbay.ItemSucceeded, []int64{5}, "c5"},
	}
	for _, s := range steps {
		run := e.putItems(t, r, s.status, s.seqs...)
		if got := e.cursor(t, r); got != s.want {
			t.Fatalf("after %s %v: cursor %q, want %q", s.status, s.seqs, got, s.want)
		}
		if run.CursorEnd != s.want && s.want != "" {
			t.Fatalf("run cursor_end %q, want %q", run.CursorEnd, s.want)
		}
	}
	run, err := e.s.FindSyncRun(e.ctx, org.ID, r.ID)
	must(t, err, "FindSyncRun")
	if run.Status != patchbay.SyncRunning || run.Processed != 5 || run.Failed != 1 || run.StartedAt == nil {
		t.Fatalf("run %+v", run)
	}
	// An item beyond, never finished, leaves the cursor where it is; the
	// next run resumes from it.
	e.putItems(t, r, patchbay.ItemPending, 6)
	done, err := e.s.FinishSyncRun(e.ctx, org.ID, r.ID, patchbay.SyncFinish{Status: patchbay.SyncCompleted})
	must(t, err, "FinishSyncRun")
	if done.Status != patchbay.SyncCompleted || done.FinishedAt == nil || done.Processed != 5 || done.CursorEnd != "c5" {
		t.Fatalf("finished %+v", done)
	}
	next := e.syncRun(t, c)
	if next.CursorStart != "c5" {
		t.Fatalf("next run starts at %q, want c5", next.CursorStart)
	}
	// Items of a finished run cannot change.
	_, err = e.s.PutSyncItems(e.ctx, org.ID, r.ID, []*patchbay.SyncItem{{Seq: 6, Status: patchbay.ItemSucceeded}})
	wantCode(t, err, patchbay.ECONFLICT, "PutSyncItems on a finished run")
	items, err := e.s.ListSyncItems(e.ctx, org.ID, r.ID, patchbay.SyncItemFilter{AfterSeq: 2, Limit: 3})
	must(t, err, "ListSyncItems")
	if len(items) != 3 || items[0].Seq != 3 || items[0].Status != patchbay.ItemSkipped || items[0].FinishedAt == nil ||
		items[2].Seq != 5 || items[0].ExternalID != "ext-3" {
		t.Fatalf("items %+v", items)
	}
	pending, err := e.s.ListSyncItems(e.ctx, org.ID, r.ID, patchbay.SyncItemFilter{Status: patchbay.ItemPending})
	must(t, err, "ListSyncItems pending")
	if len(pending) != 1 || pending[0].Seq != 6 || pending[0].FinishedAt != nil {
		t.Fatalf("pending %+v", pending)
	}
}

// testSyncCrash finishes an item in a transaction that never commits (the
// process dies before COMMIT): neither the item nor the cursor moved.
func testSyncCrash(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	c := e.connection(t, org.ID, "hubspot", "CRM")
	r := e.syncRun(t, c)
	e.putItems(t, r, patchbay.ItemPending, 1, 2, 3)
	e.putItems(t, r, patchbay.ItemSucceeded, 2, 3)
	crash := errors.New("crash")
	err := e.s.WithTx(e.ctx, func(tx patchbay.Store) error {
		if _, err := tx.PutSyncItems(e.ctx, org.ID, r.ID, []*patchbay.SyncItem{{Seq: 1, Status: patchbay.ItemSucceeded}}); err != nil {
			return err
		}
		return crash
	})
	if !errors.Is(err, crash) {
		t.Fatalf("WithTx: %v", err)
	}
	if got := e.cursor(t, r); got != "" {
		t.Fatalf("cursor %q after a crash before commit, want none", got)
	}
	items, err := e.s.ListSyncItems(e.ctx, org.ID, r.ID, patchbay.SyncItemFilter{})
	must(t, err, "ListSyncItems")
	if items[0].Status != patchbay.ItemPending {
		t.Fatalf("item 1 is %s after the crash", items[0].Status)
	}
	e.putItems(t, r, patchbay.ItemSucceeded, 1)
	if got := e.cursor(t, r); got != "c3" {
		t.Fatalf("cursor %q, want c3", got)
	}
}

func testSyncItemRules(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	c := e.connection(t, org.ID, "hubspot", "CRM")
	r := e.syncRun(t, c)
	e.putItems(t, r, patchbay.ItemPending, 1, 2, 5)
	// No item may appear behind others: it could land behind the cursor.
	_, err := e.s.PutSyncItems(e.ctx, org.ID, r.ID, []*patchbay.SyncItem{{Seq: 3, Cursor: "c3"}})
	wantCode(t, err, patchbay.EINVALID, "new item below the run's highest seq")
	_, err = e.s.PutSyncItems(e.ctx, org.ID, r.ID, []*patchbay.SyncItem{{Seq: 6, Status: "done"}})
	wantCode(t, err, patchbay.EINVALID, "unknown status")
	_, err = e.s.PutSyncItems(e.ctx, org.ID, r.ID, []*patchbay.SyncItem{{Seq: 0}})
	wantCode(t, err, patchbay.EINVALID, "seq 0")
	e.putItems(t, r, patchbay.ItemSucceeded, 1)
	// Saying it again is fine; taking it back is not.
	e.putItems(t, r, patchbay.ItemSucceeded, 1)
	_, err = e.s.PutSyncItems(e.ctx, org.ID, r.ID, []*patchbay.SyncItem{{Seq: 1, Status: patchbay.ItemPending}})
	wantCode(t, err, patchbay.ECONFLICT, "finished item back to pending")
	// An update keeps the record's cursor and fills in the internal id.
	run, err := e.s.PutSyncItems(e.ctx, org.ID, r.ID, []*patchbay.SyncItem{{Seq: 2, Status: patchbay.ItemSucceeded,
		InternalType: "contact", InternalID: "usr_2"}})
	must(t, err, "PutSyncItems update")
	if run.CursorEnd != "c2" || e.cursor(t, r) != "c2" {
		t.Fatalf("cursor %q / %q, want c2", run.CursorEnd, e.cursor(t, r))
	}
	items, err := e.s.ListSyncItems(e.ctx, org.ID, r.ID, patchbay.SyncItemFilter{Status: patchbay.ItemSucceeded})
	must(t, err, "ListSyncItems")
	if len(items) != 2 || items[1].InternalID != "usr_2" || items[1].Cursor != "c2" {
		t.Fatalf("items %+v", items)
	}
	// Another org sees nothing.
	other := e.org(t, "Other")
	_, err = e.s.PutSyncItems(e.ctx, other.ID, r.ID, []*patchbay.SyncItem{{Seq: 9}})
	wantCode(t, err, patchbay.ENOTFOUND, "PutSyncItems from another org")
	_, err = e.s.ListSyncItems(e.ctx, other.ID, r.ID, patchbay.SyncItemFilter{})
	wantCode(t, err, patchbay.ENOTFOUND, "ListSyncItems from another org")
	_, err = e.s.FindSyncCursor(e.ctx, other.ID, c.ID, "contacts", patchbay.SyncInbound)
	wantCode(t, err, patchbay.ENOTFOUND, "FindSyncCursor from another org")
}

func testSyncOneOpenRun(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	c := e.connection(t, org.ID, "hubspot", "CRM")
	r := e.syncRun(t, c)
	err := e.s.CreateSyncRun(e.ctx, &patchbay.SyncRun{OrgID: org.ID, ConnectionID: c.ID, EntityType: "contacts"})
	wantCode(t, err, patchbay.ECONFLICT, "second open run")
	// Another entity or direction is its own cursor.
	must(t, e.s.CreateSyncRun(e.ctx, &patchbay.SyncRun{OrgID: org.ID, ConnectionID: c.ID, EntityType: "deals"}), "other entity")
	must(t, e.s.CreateSyncRun(e.ctx, &patchbay.SyncRun{OrgID: org.ID, ConnectionID: c.ID, EntityType: "contacts",
		Direction: patchbay.SyncOutbound}), "other direction")
	started, err := e.s.StartSyncRun(e.ctx, org.ID, r.ID)
	must(t, err, "StartSyncRun")
	wantTimePtr(t, "started_at", started.StartedAt, new(e.now()))
	msg := "vendor said 500"
	failed, err := e.s.FinishSyncRun(e.ctx, org.ID, r.ID, patchbay.SyncFinish{Status: patchbay.SyncFailed, Error: msg})
	must(t, err, "FinishSyncRun")
	if failed.Status != patchbay.SyncFailed || failed.Error != msg {
		t.Fatalf("failed run %+v", failed)
	}
	_, err = e.s.FinishSyncRun(e.ctx, org.ID, r.ID, patchbay.SyncFinish{Status: patchbay.SyncCompleted})
	wantCode(t, err, patchbay.ECONFLICT, "finishing twice")
	_, err = e.s.StartSyncRun(e.ctx, org.ID, r.ID)
	wantCode(t, err, patchbay.ECONFLICT, "starting a finished run")
	e.syncRun(t, c) // the first is over: a new one may open
	wantCode(t, e.s.CreateSyncRun(e.ctx, &patchbay.SyncRun{OrgID: org.ID, ConnectionID: "con_none", EntityType: "contacts"}),
		patchbay.ENOTFOUND, "run of an unknown connection")
	wantCode(t, e.s.CreateSyncRun(e.ctx, &patchbay.SyncRun{OrgID: org.ID, ConnectionID: c.ID, EntityType: "Bad Type"}),
		patchbay.EINVALID, "bad entity type")
}

func testSyncOps(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	c := e.connection(t, org.ID, "hubspot", "CRM")
	r := e.syncRun(t, c)
	root := &patchbay.SyncOp{Message: "sync started", Data: []byte(`{"page_size":100}`)}
	page := &patchbay.SyncOp{ID: "op_page1", ParentID: "", Message: "page 1"}
	must(t, e.s.AddSyncOps(e.ctx, org.ID, r.ID, []*patchbay.SyncOp{root}), "AddSyncOps root")
	page.ParentID = root.ID
	rec := &patchbay.SyncOp{ParentID: "op_page1", Level: patchbay.OpWarn, Message: "record 7 skipped"}
	e.clock.Advance(time.Second)
	must(t, e.s.AddSyncOps(e.ctx, org.ID, r.ID, []*patchbay.SyncOp{page, rec}), "AddSyncOps children")
	wantCode(t, e.s.AddSyncOps(e.ctx, org.ID, r.ID, []*patchbay.SyncOp{{ParentID: "op_nope", Message: "x"}}),
		patchbay.EINVALID, "unknown parent")
	wantCode(t, e.s.AddSyncOps(e.ctx, org.ID, r.ID, []*patchbay.SyncOp{{Level: "loud", Message: "x"}}),
		patchbay.EINVALID, "unknown level")
	// A parent in another run does not count.
	other := e.syncRun(t, e.connection(t, org.ID, "stripe", "Billing"))
	wantCode(t, e.s.AddSyncOps(e.ctx, org.ID, other.ID, []*patchbay.SyncOp{{ParentID: root.ID, Message: "x"}}),
		patchbay.EINVALID, "parent of another run")
	ops, next, err := e.s.ListSyncOps(e.ctx, org.ID, r.ID, patchbay.Page{Limit: 2})
	must(t, err, "ListSyncOps")
	if len(ops) != 2 || next == "" || ops[0].ID != root.ID || string(ops[0].Data) == "" || ops[0].Level != patchbay.OpInfo {
		t.Fatalf("first page %+v next %q", ops, next)
	}
	rest, next, err := e.s.ListSyncOps(e.ctx, org.ID, r.ID, patchbay.Page{Limit: 2, Cursor: next})
	must(t, err, "ListSyncOps page 2")
	if len(rest) != 1 || next != "" {
		t.Fatalf("second page %+v next %q", rest, next)
	}
	byID := map[string]*patchbay.SyncOp{}
	for _, o := range append(ops, rest...) {
		byID[o.ID] = o
	}
	if byID["op_page1"].ParentID != root.ID || byID[rec.ID].ParentID != "op_page1" || byID[rec.ID].Data != nil {
		t.Fatalf("tree %+v", byID)
	}
	_, _, err = e.s.ListSyncOps(e.ctx, e.org(t, "Other").ID, r.ID, patchbay.Page{})
	wantCode(t, err, patchbay.ENOTFOUND, "ListSyncOps from another org")
}

func testSyncList(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	crm := e.connection(t, org.ID, "hubspot", "CRM")
	pay := e.connection(t, org.ID, "stripe", "Billing")
	a := e.syncRun(t, crm)
	_, err := e.s.FinishSyncRun(e.ctx, org.ID, a.ID, patchbay.SyncFinish{Status: patchbay.SyncFailed, Error: "boom"})
	must(t, err, "FinishSyncRun")
	e.clock.Advance(8 * 24 * time.Hour)
	b := e.syncRun(t, crm)
	_, err = e.s.FinishSyncRun(e.ctx, org.ID, b.ID, patchbay.SyncFinish{Status: patchbay.SyncFailed, Error: "again"})
	must(t, err, "FinishSyncRun")
	e.clock.Advance(time.Minute)
	cRun := e.syncRun(t, pay)
	runs, next, err := e.s.ListSyncRuns(e.ctx, org.ID, patchbay.SyncRunFilter{ConnectionID: crm.ID, Page: patchbay.Page{Limit: 1}})
	must(t, err, "ListSyncRuns")
	if len(runs) != 1 || runs[0].ID != b.ID || next == "" {
		t.Fatalf("page 1 %v %q", runs, next)
	}
	runs, _, err = e.s.ListSyncRuns(e.ctx, org.ID, patchbay.SyncRunFilter{ConnectionID: crm.ID, Page: patchbay.Page{Limit: 1, Cursor: next}})
	must(t, err, "ListSyncRuns page 2")
	if len(runs) != 1 || runs[0].ID != a.ID {
		t.Fatalf("page 2 %v", runs)
	}
	for name, tc := range map[string]struct {
		f    patchbay.SyncRunFilter
		want int
	}{
		"status":    {patchbay.SyncRunFilter{Status: patchbay.SyncPending}, 1},
		"entity":    {patchbay.SyncRunFilter{EntityType: "contacts"}, 3},
		"direction": {patchbay.SyncRunFilter{Direction: patchbay.SyncOutbound}, 0},
		"from":      {patchbay.SyncRunFilter{From: new(e.now().Add(-time.Hour))}, 2},
		"to":        {patchbay.SyncRunFilter{To: new(e.now().Add(-time.Hour))}, 1},
	} {
		got, _, err := e.s.ListSyncRuns(e.ctx, org.ID, tc.f)
		must(t, err, "ListSyncRuns "+name)
		if len(got) != tc.want {
			t.Errorf("filter %s: %d runs, want %d", name, len(got), tc.want)
		}
	}
	hist, err := e.s.SyncHistory(e.ctx, org.ID, "", 1)
	must(t, err, "SyncHistory")
	if len(hist) != 2 || hist[0].ConnectionID > hist[1].ConnectionID {
		t.Fatalf("history, one per connection: %+v", hist)
	}
	for _, h := range hist {
		if h.ConnectionID == crm.ID && h.ID != b.ID {
			t.Fatalf("latest CRM run %s, want %s", h.ID, b.ID)
		}
	}
	hist, err = e.s.SyncHistory(e.ctx, org.ID, crm.ID, 20)
	must(t, err, "SyncHistory of one connection")
	if len(hist) != 2 || hist[0].ID != b.ID || hist[1].ID != a.ID {
		t.Fatalf("CRM history %+v", hist)
	}
	failed, err := e.s.FailedSyncs(e.ctx, org.ID, e.now().Add(-7*24*time.Hour))
	must(t, err, "FailedSyncs")
	if len(failed) != 1 || failed[0].Run.ID != b.ID || failed[0].ConnectionName != "CRM" || failed[0].ConnectorSlug != "hubspot" ||
		failed[0].Run.Error != "again" {
		t.Fatalf("failed syncs %+v", failed)
	}
	other := e.org(t, "Other")
	if runs, _, _ := e.s.ListSyncRuns(e.ctx, other.ID, patchbay.SyncRunFilter{}); len(runs) != 0 {
		t.Fatalf("another org lists %d runs", len(runs))
	}
	_, err = e.s.FindSyncRun(e.ctx, other.ID, cRun.ID)
	wantCode(t, err, patchbay.ENOTFOUND, "FindSyncRun from another org")
	_, err = e.s.FinishSyncRun(e.ctx, other.ID, cRun.ID, patchbay.SyncFinish{Status: patchbay.SyncCompleted})
	wantCode(t, err, patchbay.ENOTFOUND, "FinishSyncRun from another org")
}

func testSyncSchedules(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	c := e.connection(t, org.ID, "hubspot", "CRM")
	paused := e.connection(t, org.ID, "stripe", "Billing", func(c *patchbay.Connection) { c.State = patchbay.StatePaused })
	sch := &patchbay.SyncSchedule{OrgID: org.ID, ConnectionID: c.ID, EntityType: "contacts", Interval: time.Hour,
		Enabled: true, NextRunAt: e.now()}
	must(t, e.s.PutSyncSchedule(e.ctx, sch), "PutSyncSchedule")
	must(t, e.s.PutSyncSchedule(e.ctx, &patchbay.SyncSchedule{OrgID: org.ID, ConnectionID: c.ID, EntityType: "deals",
		Interval: time.Hour, Enabled: false, NextRunAt: e.now()}), "PutSyncSchedule disabled")
	must(t, e.s.PutSyncSchedule(e.ctx, &patchbay.SyncSchedule{OrgID: org.ID, ConnectionID: paused.ID, EntityType: "customers",
		Interval: time.Hour, Enabled: true, NextRunAt: e.now()}), "PutSyncSchedule paused")
	wantCode(t, e.s.PutSyncSchedule(e.ctx, &patchbay.SyncSchedule{OrgID: org.ID, ConnectionID: c.ID, EntityType: "x",
		Interval: time.Second, Enabled: true}), patchbay.EINVALID, "interval under a minute")
	wantCode(t, e.s.PutSyncSchedule(e.ctx, &patchbay.SyncSchedule{OrgID: e.org(t, "Other").ID, ConnectionID: c.ID,
		EntityType: "x", Interval: time.Hour}), patchbay.ENOTFOUND, "schedule on another org's connection")

	due, err := e.s.DueSyncSchedules(e.ctx, e.now(), 10)
	must(t, err, "DueSyncSchedules")
	if len(due) != 1 || due[0].EntityType != "contacts" || due[0].Health != patchbay.HealthHealthy || due[0].Interval != time.Hour {
		t.Fatalf("due %+v (disabled schedules and paused connections never run)", due)
	}
	if due, _ := e.s.DueSyncSchedules(e.ctx, e.now().Add(-time.Second), 10); len(due) != 0 {
		t.Fatalf("due before next_run_at: %+v", due)
	}
	list, err := e.s.ListSyncSchedules(e.ctx, org.ID, c.ID)
	must(t, err, "ListSyncSchedules")
	if len(list) != 2 || list[0].EntityType != "contacts" || list[1].Enabled {
		t.Fatalf("list %+v", list)
	}
	// Run outcomes drive health: failures degrade, then fail, a success heals.
	wantHealth := []patchbay.Health{patchbay.HealthDegraded, patchbay.HealthDegraded, patchbay.HealthFailing}
	for i, want := range wantHealth {
		r := e.syncRun(t, c)
		_, err := e.s.FinishSyncRun(e.ctx, org.ID, r.ID, patchbay.SyncFinish{Status: patchbay.SyncFailed, Error: "x"})
		must(t, err, "FinishSyncRun")
		got, err := e.s.FindSyncSchedule(e.ctx, org.ID, c.ID, "contacts", patchbay.SyncInbound)
		must(t, err, "FindSyncSchedule")
		if got.Health != want || got.ConsecutiveFailures != i+1 || got.LastRunID != r.ID {
			t.Fatalf("after %d failures: %+v, want %s", i+1, got, want)
		}
		// The failure pushes the next run out by the new health's factor.
		wantTime(t, "next_run_at", got.NextRunAt, r.CreatedAt.Add(time.Duration(patchbay.BackoffFactor(want))*time.Hour))
	}
	r := e.syncRun(t, c)
	_, err = e.s.FinishSyncRun(e.ctx, org.ID, r.ID, patchbay.SyncFinish{Status: patchbay.SyncCompleted})
	must(t, err, "FinishSyncRun")
	got, err := e.s.FindSyncSchedule(e.ctx, org.ID, c.ID, "contacts", patchbay.SyncInbound)
	must(t, err, "FindSyncSchedule")
	if got.Health != patchbay.HealthHealthy || got.ConsecutiveFailures != 0 || !got.CreatedAt.Equal(sch.CreatedAt) {
		t.Fatalf("after a success: %+v", got)
	}
}

func testSyncRetention(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	c := e.connection(t, org.ID, "hubspot", "CRM")
	st := &patchbay.Settings{OrgID: org.ID, OperationLogRetention: 48 * time.Hour, SyncItemRetention: 24 * time.Hour,
		InboundRetention: 72 * time.Hour}
	must(t, e.s.SaveSettings(e.ctx, st), "SaveSettings")
	got, err := e.s.FindSettings(e.ctx, org.ID)
	must(t, err, "FindSettings")
	if got.OperationLogRetention != 48*time.Hour || got.SyncItemRetention != 24*time.Hour || got.InboundRetention != 72*time.Hour {
		t.Fatalf("settings %+v", got)
	}
	all, err := e.s.ListSettings(e.ctx)
	must(t, err, "ListSettings")
	if len(all) != 1 || all[0].InboundRetention != 72*time.Hour {
		t.Fatalf("list settings %+v", all)
	}
	if d := (&patchbay.Settings{}).InboundRetentionOrDefault(); d != patchbay.DefaultInboundRetention {
		t.Fatalf("default inbound retention %v", d)
	}

	done := e.syncRun(t, c)
	e.putItems(t, done, patchbay.ItemSucceeded, 1, 2, 3)
	e.putItems(t, done, patchbay.ItemPending, 4)
	must(t, e.s.AddSyncOps(e.ctx, org.ID, done.ID, []*patchbay.SyncOp{{Message: "a"}, {Message: "b"}}), "AddSyncOps")
	_, err = e.s.FinishSyncRun(e.ctx, org.ID, done.ID, patchbay.SyncFinish{Status: patchbay.SyncCompleted})
	must(t, err, "FinishSyncRun")
	open := e.syncRun(t, c)
	e.putItems(t, open, patchbay.ItemSucceeded, 1)
	oldHook := &patchbay.InboundWebhook{OrgID: org.ID, ConnectionID: c.ID, Provider: "hubspot", Status: patchbay.InboundProcessed}
	must(t, e.s.CreateInbound(e.ctx, oldHook), "CreateInbound")
	stuck := &patchbay.InboundWebhook{OrgID: org.ID, ConnectionID: c.ID, Provider: "hubspot", Status: patchbay.InboundPending}
	must(t, e.s.CreateInbound(e.ctx, stuck), "CreateInbound")

	e.clock.Advance(25 * time.Hour)
	cutoff := e.now().Add(-24 * time.Hour)
	n, err := e.s.PruneSyncItems(e.ctx, org.ID, cutoff, 2)
	if err != nil || n != 2 {
		t.Fatalf("pruned %d items, want a batch of 2: %v", n, err)
	}
	n, err = e.s.PruneSyncItems(e.ctx, org.ID, cutoff, 2)
	if err != nil || n != 1 {
		t.Fatalf("pruned %d items, want the last 1 (not the unfinished one, not the open run's): %v", n, err)
	}
	left, err := e.s.ListSyncItems(e.ctx, org.ID, done.ID, patchbay.SyncItemFilter{})
	must(t, err, "ListSyncItems")
	openLeft, err := e.s.ListSyncItems(e.ctx, org.ID, open.ID, patchbay.SyncItemFilter{})
	must(t, err, "ListSyncItems open")
	if len(left) != 1 || left[0].Seq != 4 || len(openLeft) != 1 {
		t.Fatalf("left %+v, open run %+v", left, openLeft)
	}
	if n, err := e.s.PruneSyncOps(e.ctx, org.ID, e.now().Add(-48*time.Hour), 10); err != nil || n != 0 {
		t.Fatalf("pruned %d ops within retention: %v", n, err)
	}
	if n, err := e.s.PruneSyncOps(e.ctx, org.ID, e.now(), 10); err != nil || n != 2 {
		t.Fatalf("pruned %d ops, want 2: %v", n, err)
	}
	if n, err := e.s.PruneInbound(e.ctx, org.ID, e.now(), 10); err != nil || n != 1 {
		t.Fatalf("pruned %d webhooks, want the processed one: %v", n, err)
	}
	_, err = e.s.FindInbound(e.ctx, org.ID, oldHook.ID)
	wantCode(t, err, patchbay.ENOTFOUND, "pruned webhook")
	_, err = e.s.FindInbound(e.ctx, org.ID, stuck.ID)
	must(t, err, "pending webhook kept")
	other := e.org(t, "Other")
	if n, err := e.s.PruneSyncItems(e.ctx, other.ID, e.now(), 10); err != nil || n != 0 {
		t.Fatalf("another org pruned %d: %v", n, err)
	}
}
