package syncs_test

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/fakevendor"
	"github.com/patchbay/patchbay/internal/syncs"
)

// TestCursorAcrossCrash is the host platform reporting a run's items,
// finishing them out of order, and dying mid-run with items unfinished:
// after the database is opened again, the cursor is the last contiguous
// finished item's, and the next run starts from it.
func TestCursorAcrossCrash(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, e)
			run, err := w.syncs.StartRun(w.ctx, &patchbay.SyncRun{ConnectionID: w.conn.ID, EntityType: "contacts"})
			if err != nil || run.Status != patchbay.SyncRunning || run.Trigger != patchbay.TriggerManual {
				t.Fatalf("start: %+v %v", run, err)
			}
			var items []*patchbay.SyncItem
			for i := int64(1); i <= 6; i++ {
				items = append(items, &patchbay.SyncItem{Seq: i, ExternalID: "hs-" + string(rune('0'+i)), Cursor: "c" + string(rune('0'+i))})
			}
			put := func(status patchbay.SyncItemStatus, seqs ...int64) {
				t.Helper()
				var batch []*patchbay.SyncItem
				for _, s := range seqs {
					batch = append(batch, &patchbay.SyncItem{Seq: s, Status: status})
				}
				if _, err := w.store.PutSyncItems(w.ctx, w.org.Org.ID, run.ID, batch); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := w.store.PutSyncItems(w.ctx, w.org.Org.ID, run.ID, items); err != nil {
				t.Fatal(err)
			}
			put(patchbay.ItemSucceeded, 3)
			put(patchbay.ItemSucceeded, 1)
			put(patchbay.ItemProcessing, 4)
			put(patchbay.ItemSucceeded, 5)
			put(patchbay.ItemSucceeded, 2)

			// The process dies: item 4 is being processed, 6 never started.
			if err := w.store.Close(); err != nil {
				t.Fatal(err)
			}
			w.restart()

			if got := w.cursor("contacts"); got != "c3" {
				t.Fatalf("cursor after the crash %q, want c3 (item 4 is unfinished)", got)
			}
			again, err := w.store.FindSyncRun(w.ctx, w.org.Org.ID, run.ID)
			if err != nil || again.Status != patchbay.SyncRunning || again.Processed != 4 || again.CursorEnd != "c3" {
				t.Fatalf("run after the crash %+v %v", again, err)
			}
			// The host gives the dead run up and starts again: from c3, so
			// items 4 and 6 come again and nothing is skipped.
			if _, err := w.syncs.Finish(w.ctx, run.ID, patchbay.SyncFinish{Status: patchbay.SyncFailed, Error: "host restarted"}); err != nil {
				t.Fatal(err)
			}
			next, err := w.syncs.StartRun(w.ctx, &patchbay.SyncRun{ConnectionID: w.conn.ID, EntityType: "contacts"})
			if err != nil || next.CursorStart != "c3" {
				t.Fatalf("resumed run %+v %v, want it to start at c3", next, err)
			}
		})
	}
}

// TestPullAcrossCrash pulls the fake vendor's records over real HTTP and
// kills the pull between storing a page's items and publishing them. After
// a restart the cursor is the previous page's last record, and the next
// pull delivers exactly the records after it.
func TestPullAcrossCrash(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, e)
			w.vendor.SetItemCount(25)
			typ := "sync." + fakevendor.Slug + ".records"
			dead := w.store
			w.events.before = func(n int) {
				if n == 2 { // the second page's publish: the process dies here
					_ = dead.Close()
					runtime.Goexit()
				}
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, _ = w.syncs.PullNow(w.ctx, w.conn.ID, "records")
			}()
			<-done
			first := w.events.externalIDs(t, typ)
			if !slices.Equal(first, itemIDs(1, 10)) {
				t.Fatalf("before the crash: %v", first)
			}

			w.restart()
			if got := w.cursor("records"); got != "item_0010" {
				t.Fatalf("cursor after the crash %q, want item_0010", got)
			}
			runs, _, err := w.store.ListSyncRuns(w.ctx, w.org.Org.ID, patchbay.SyncRunFilter{})
			if err != nil || len(runs) != 1 || runs[0].Status != patchbay.SyncRunning {
				t.Fatalf("runs after the crash %+v %v", runs, err)
			}
			stuck, err := w.store.ListSyncItems(w.ctx, w.org.Org.ID, runs[0].ID, patchbay.SyncItemFilter{Status: patchbay.ItemProcessing})
			if err != nil || len(stuck) != 10 || stuck[0].ExternalID != "item_0011" {
				t.Fatalf("unfinished items %+v %v", stuck, err)
			}

			// The dead pull blocks a new one until it is stale.
			if _, err := w.syncs.PullNow(w.ctx, w.conn.ID, "records"); patchbay.ErrorCode(err) != patchbay.ECONFLICT {
				t.Fatalf("pull while the dead one is fresh: %v", err)
			}
			w.clock.Advance(w.syncs.StaleAfter + time.Second)
			run, err := w.syncs.PullNow(w.ctx, w.conn.ID, "records")
			if err != nil || run.Status != patchbay.SyncCompleted || run.CursorStart != "item_0010" || run.CursorEnd != "item_0025" ||
				run.Processed != 15 {
				t.Fatalf("resumed pull %+v %v", run, err)
			}
			if got := w.events.externalIDs(t, typ); !slices.Equal(got, itemIDs(11, 25)) {
				t.Fatalf("after the restart: %v, want items 11 to 25 exactly", got)
			}
			old, _ := w.store.FindSyncRun(w.ctx, w.org.Org.ID, runs[0].ID)
			if old.Status != patchbay.SyncFailed || old.Error == "" {
				t.Fatalf("dead run %+v, want it failed as abandoned", old)
			}
		})
	}
}

// TestPullStopsOnErrorAndResumes fails the vendor's second page: the run
// fails with the vendor's error and the cursor stays after page one; the
// next pull carries on from there.
func TestPullStopsOnErrorAndResumes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, engines(t)[0])
	w.vendor.SetItemCount(25)
	typ := "sync." + fakevendor.Slug + ".records"
	w.calls.before = func(n int) {
		if n == 2 {
			w.vendor.FailNext(1, 503)
		}
	}
	run, err := w.syncs.PullNow(w.ctx, w.conn.ID, "records")
	if err != nil || run.Status != patchbay.SyncFailed || run.Error != "The vendor answered 503 Service Unavailable." ||
		run.CursorEnd != "item_0010" || run.Trigger != patchbay.TriggerPull {
		t.Fatalf("failed pull %+v %v", run, err)
	}
	ops, _, err := w.store.ListSyncOps(w.ctx, w.org.Org.ID, run.ID, patchbay.Page{})
	if err != nil || len(ops) != 3 || ops[1].ParentID != ops[0].ID || ops[2].Level != patchbay.OpError {
		t.Fatalf("operation log %+v %v", ops, err)
	}
	w.calls.before = nil
	again, err := w.syncs.PullNow(w.ctx, w.conn.ID, "records")
	if err != nil || again.Status != patchbay.SyncCompleted || again.CursorStart != "item_0010" {
		t.Fatalf("second pull %+v %v", again, err)
	}
	if got := w.events.externalIDs(t, typ); !slices.Equal(got, itemIDs(1, 25)) {
		t.Fatalf("records delivered %v, want 1 to 25 once each", got)
	}
	// Nothing new: an empty run that leaves the cursor.
	last, err := w.syncs.PullNow(w.ctx, w.conn.ID, "records")
	if err != nil || last.Status != patchbay.SyncCompleted || last.Processed != 0 || w.cursor("records") != "item_0025" {
		t.Fatalf("pull with nothing new %+v %v", last, err)
	}
	if _, err := w.syncs.PullNow(w.ctx, w.conn.ID, "invoices"); patchbay.ErrorCode(err) != patchbay.EINVALID {
		t.Fatalf("pull of an entity with no list endpoint: %v", err)
	}
}

// TestPullNextCursor pulls the vendor's /api/items, paged by an opaque next
// cursor: a record stands for its page's start, the page's last record for
// the next page, so a later pull re-reads at most the last page.
func TestPullNextCursor(t *testing.T) {
	t.Parallel()
	w := newWorld(t, engines(t)[0])
	w.vendor.SetItemCount(25)
	typ := "sync." + fakevendor.Slug + ".items"
	run, err := w.syncs.PullNow(w.ctx, w.conn.ID, "items")
	if err != nil || run.Status != patchbay.SyncCompleted || run.Processed != 25 || run.CursorEnd == "" {
		t.Fatalf("pull %+v %v", run, err)
	}
	if got := w.events.externalIDs(t, typ); !slices.Equal(got, itemIDs(1, 25)) {
		t.Fatalf("records %v", got)
	}
	w.vendor.SetItemCount(30)
	if _, err := w.syncs.PullNow(w.ctx, w.conn.ID, "items"); err != nil {
		t.Fatal(err)
	}
	got := w.events.externalIDs(t, typ)[25:]
	if !slices.Equal(got, itemIDs(21, 30)) {
		t.Fatalf("second pull %v, want the last page again and the new records", got)
	}
}

// TestSchedules runs the scheduler with a fake clock: a due schedule of an
// entity the connector cannot list is announced with sync.due; one it can
// list is pulled; failures back the next run off; disabled schedules and
// paused connections never run; a second replica does nothing while the
// first holds the lease.
func TestSchedules(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			testSchedules(t, newWorld(t, e))
		})
	}
}

func testSchedules(t *testing.T, w *world) {
	w.vendor.SetItemCount(3)
	ctx := w.ctx
	put := func(entity string, enabled bool) *patchbay.SyncSchedule {
		t.Helper()
		s, err := w.syncs.PutSchedule(ctx, &patchbay.SyncSchedule{ConnectionID: w.conn.ID, EntityType: entity,
			Interval: time.Hour, Enabled: enabled})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	contacts := put("contacts", true)
	put("records", true)
	put("deals", false)
	if want := w.clock.Now().Add(time.Hour); !contacts.NextRunAt.Equal(want) || contacts.Health != patchbay.HealthHealthy {
		t.Fatalf("new schedule %+v", contacts)
	}
	sc := &syncsScheduler{w: w}
	if n := sc.run(t); n != 0 {
		t.Fatalf("%d runs before anything is due", n)
	}
	w.clock.Advance(time.Hour)
	if n := sc.run(t); n != 2 {
		t.Fatalf("%d runs, want contacts and records", n)
	}
	if types := w.events.types(); !slices.Contains(types, "sync.due") || len(w.events.externalIDs(t, "sync.fakevendor.records")) != 3 {
		t.Fatalf("events %v", types)
	}
	runs, _, _ := w.store.ListSyncRuns(ctx, w.org.Org.ID, patchbay.SyncRunFilter{EntityType: "contacts"})
	if len(runs) != 1 || runs[0].Status != patchbay.SyncPending || runs[0].Trigger != patchbay.TriggerScheduled {
		t.Fatalf("contacts runs %+v", runs)
	}
	// The host platform fails the announced run: degraded, so the next
	// run is two intervals after this one.
	if _, err := w.syncs.Finish(ctx, runs[0].ID, patchbay.SyncFinish{Status: patchbay.SyncFailed, Error: "host error"}); err != nil {
		t.Fatal(err)
	}
	sch, _ := w.store.FindSyncSchedule(ctx, w.org.Org.ID, w.conn.ID, "contacts", patchbay.SyncInbound)
	if sch.Health != patchbay.HealthDegraded || !sch.NextRunAt.Equal(runs[0].CreatedAt.Add(2*time.Hour)) {
		t.Fatalf("after a failure %+v", sch)
	}
	w.clock.Advance(time.Hour)
	if n := sc.run(t); n != 1 { // records only
		t.Fatalf("%d runs an interval after a failure, want 1", n)
	}
	w.clock.Advance(time.Hour)
	if n := sc.run(t); n != 2 {
		t.Fatalf("%d runs two intervals after a failure, want 2", n)
	}
	// A second replica does nothing while this one holds the lease.
	w.clock.Advance(time.Hour)
	sc.run(t)
	other := &syncsScheduler{w: w}
	if n := other.run(t); n != 0 {
		t.Fatalf("a second replica started %d runs", n)
	}
	// An announced run the host platform has not started when its
	// schedule comes due again is announced again, not doubled.
	open, _, _ := w.store.ListSyncRuns(ctx, w.org.Org.ID, patchbay.SyncRunFilter{EntityType: "contacts", Status: patchbay.SyncPending})
	if len(open) != 1 {
		t.Fatalf("pending contacts runs %+v", open)
	}
	dues := func() int {
		return len(slices.DeleteFunc(w.events.types(), func(s string) bool { return s != "sync.due" }))
	}
	before := dues()
	w.clock.Advance(2 * time.Hour)
	sc.run(t)
	if again, _, _ := w.store.ListSyncRuns(ctx, w.org.Org.ID, patchbay.SyncRunFilter{EntityType: "contacts", Status: patchbay.SyncPending}); len(again) != 1 || again[0].ID != open[0].ID {
		t.Fatalf("pending contacts runs after it came due again %+v", again)
	}
	if dues() != before+1 {
		t.Fatalf("sync.due published %d times more, want once", dues()-before)
	}
	// A paused connection's schedules never run.
	if _, err := w.calls.conns.Pause(ctx, w.conn.ID); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(24 * time.Hour)
	if n := sc.run(t); n != 0 {
		t.Fatalf("%d runs on a paused connection", n)
	}
	deals, _, _ := w.store.ListSyncRuns(ctx, w.org.Org.ID, patchbay.SyncRunFilter{EntityType: "deals"})
	if len(deals) != 0 {
		t.Fatalf("a disabled schedule ran: %+v", deals)
	}
}

// TestBackoffFactor is the schedule arithmetic.
func TestBackoffFactor(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		enabled bool
		health  patchbay.Health
		want    time.Duration
		runs    bool
	}{
		{"healthy", true, patchbay.HealthHealthy, time.Hour, true},
		{"unknown health counts as healthy", true, "", time.Hour, true},
		{"degraded waits twice as long", true, patchbay.HealthDegraded, 2 * time.Hour, true},
		{"failing waits ten times as long", true, patchbay.HealthFailing, 10 * time.Hour, true},
		{"disabled health stops", true, patchbay.HealthDisabled, 0, false},
		{"disabled schedule stops", false, patchbay.HealthHealthy, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			next, ok := patchbay.NextSyncAt(now, time.Hour, tc.enabled, tc.health)
			if ok != tc.runs || (ok && !next.Equal(now.Add(tc.want))) {
				t.Fatalf("NextSyncAt = %v, %v; want +%v, %v", next, ok, tc.want, tc.runs)
			}
		})
	}
	// Health follows run outcomes: one failure degrades, three fail, ten
	// disable; a success heals.
	s := &patchbay.SyncSchedule{}
	var got []patchbay.Health
	for range 10 {
		s.Observe(false)
		got = append(got, s.Health)
	}
	want := []patchbay.Health{"degraded", "degraded", "failing", "failing", "failing", "failing", "failing", "failing", "failing", "disabled"}
	if !slices.Equal(got, want) {
		t.Fatalf("health by failures %v, want %v", got, want)
	}
	if s.Observe(true); s.Health != patchbay.HealthHealthy || s.ConsecutiveFailures != 0 {
		t.Fatalf("after a success %+v", s)
	}
}

// syncsScheduler is one replica's scheduler over the world's services.
type syncsScheduler struct {
	w  *world
	sc *syncs.Scheduler
}

func (s *syncsScheduler) run(t *testing.T) int {
	t.Helper()
	if s.sc == nil {
		s.sc = &syncs.Scheduler{Syncs: s.w.syncs}
	}
	n, err := s.sc.RunDue(s.w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPullOversizedRecord fails a record too big for an event on its own:
// the pull goes on past it instead of stopping there on every run.
func TestPullOversizedRecord(t *testing.T) {
	t.Parallel()
	w := newWorld(t, engines(t)[0])
	w.vendor.SetItemCount(3)
	w.syncs.MaxPayload = 10
	run, err := w.syncs.PullNow(w.ctx, w.conn.ID, "records")
	if err != nil || run.Status != patchbay.SyncCompleted || run.Failed != 3 || run.CursorEnd != "item_0003" {
		t.Fatalf("pull %+v %v", run, err)
	}
	if got := w.events.externalIDs(t, "sync.fakevendor.records"); len(got) != 0 {
		t.Fatalf("oversized records published: %v", got)
	}
	failed, err := w.store.ListSyncItems(w.ctx, w.org.Org.ID, run.ID, patchbay.SyncItemFilter{Status: patchbay.ItemFailed})
	if err != nil || len(failed) != 3 || failed[0].Error == "" {
		t.Fatalf("failed items %+v %v", failed, err)
	}
}
