package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay/client"
	"github.com/patchbay/patchbay/internal/fakevendor"
	"github.com/patchbay/patchbay/internal/postgres/pgtest"
)

func TestSyncsEndToEndSQLite(t *testing.T) {
	t.Parallel()
	testSyncs(t, "")
}

func TestSyncsEndToEndPostgres(t *testing.T) {
	t.Parallel()
	testSyncs(t, pgtest.URL(t))
}

// testSyncs reports a run's items through the API, finishes them out of
// order, kills the server with SIGKILL mid-run, starts it again and checks
// that the cursor is the last contiguous finished item's, that a new run
// resumes there, and that the CLI pulls the fake vendor's records.
func testSyncs(t *testing.T, database string) {
	ctx := context.Background()
	p := newPlane(t, database)
	srv := p.env.serve()
	c := client.New(srv.url, p.creds.APIKey)
	p.vendor.AddAPIKey("sync-key")
	conn, err := c.CreateConnection(ctx, client.CreateConnectionRequest{Connector: fakevendor.Slug, AuthMode: "api_key",
		Fields: map[string]string{"api_key": "sync-key"}})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.StartSync(ctx, client.SyncRunRequest{ConnectionID: conn.Connection.ID, EntityType: "contacts"})
	if err != nil {
		t.Fatal(err)
	}
	var items []client.SyncItem
	for i := int64(1); i <= 5; i++ {
		items = append(items, client.SyncItem{Seq: i, ExternalID: fmt.Sprintf("c-%d", i), Cursor: fmt.Sprintf("c%d", i)})
	}
	if _, err := c.PutSyncItems(ctx, run.ID, items); err != nil {
		t.Fatal(err)
	}
	for _, seq := range []int64{2, 3, 1, 5} {
		if _, err := c.PutSyncItems(ctx, run.ID, []client.SyncItem{{Seq: seq, Status: "succeeded"}}); err != nil {
			t.Fatal(err)
		}
	}

	// SIGKILL: no shutdown, no flush beyond what was committed.
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-srv.done:
		t.Logf("killed: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the killed server did not exit")
	}
	srv = p.env.serve()
	c = client.New(srv.url, p.creds.APIKey)
	got, err := c.GetSync(ctx, run.ID)
	if err != nil || got.Status != "running" || got.CursorEnd != "c3" || got.Processed != 4 {
		t.Fatalf("after SIGKILL: %+v %v (want the cursor at c3: item 4 is unfinished)", got, err)
	}

	remote := []string{"--url", srv.url, "--api-key", p.creds.APIKey}
	if out, stderr, code := p.env.run(append([]string{"syncs", "fail", run.ID, "--error", "host restarted"}, remote...)...); code != 0 ||
		!strings.Contains(out, "is failed") {
		t.Fatalf("syncs fail: exit %d\n%s%s", code, out, stderr)
	}
	out, stderr, code := p.env.run(append([]string{"syncs", "start", conn.Connection.ID, "contacts", "--json"}, remote...)...)
	var resumed client.SyncRun
	if code != 0 || json.Unmarshal([]byte(out), &resumed) != nil || resumed.CursorStart != "c3" {
		t.Fatalf("syncs start: exit %d, %+v\n%s%s", code, resumed, out, stderr)
	}

	p.vendor.SetItemCount(15)
	out, stderr, code = p.env.run(append([]string{"syncs", "pull", conn.Connection.ID, "records", "--json"}, remote...)...)
	var pulled client.SyncRun
	if code != 0 || json.Unmarshal([]byte(out), &pulled) != nil || pulled.Status != "completed" || pulled.Processed != 15 ||
		pulled.CursorEnd != "item_0015" {
		t.Fatalf("syncs pull: exit %d, %+v\n%s%s", code, pulled, out, stderr)
	}
	if out, _, code := p.env.run(append([]string{"syncs", "failed"}, remote...)...); code != 0 || !strings.Contains(out, "host restarted") {
		t.Fatalf("syncs failed: exit %d\n%s", code, out)
	}
	if out, _, code := p.env.run(append([]string{"syncs", "get", pulled.ID}, remote...)...); code != 0 || !strings.Contains(out, "item_0015") {
		t.Fatalf("syncs get: exit %d\n%s", code, out)
	}
	srv.stop(t)
}
