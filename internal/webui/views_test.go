package webui_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/webui"
)

// TestEmptyStates checks that each new list tells a new operator what to
// do when it is empty.
func TestEmptyStates(t *testing.T) {
	st := newStack(t, patchbay.Now, webui.Config{})
	b := st.browser()
	b.login("admin@acme.test")
	for path, want := range map[string]string{
		"/syncs":               "No sync runs yet",
		"/syncs?status=failed": "No sync run matches",
		"/syncs/failed":        "No sync failed in the last 7 days",
		"/syncs/history":       "No connection has synced yet",
		"/requests":            "No vendor calls yet",
		"/requests?status=5xx": "No vendor call matches",
		"/inbound":             "Nothing received yet",
		"/requests?status=abc": "Status must be",
		"/syncs?since=2026-03-02&until=2026-03-01": "The end date must not be before",
	} {
		res, body := b.do("GET", path, nil)
		if (res.StatusCode != 200 && res.StatusCode != 400) || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d, want %q", path, res.StatusCode, want)
		}
	}
}

// formPost posts a form with the session's CSRF token.
func (b *browser) post(path string, form url.Values) (*reply, string) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf())
	return b.do("POST", path, form)
}

// TestSyncViews pulls and schedules from the connection page and reads the
// runs list, a run with its operation-log tree, failed syncs and history.
func TestSyncViews(t *testing.T) {
	st := newStack(t, patchbay.Now, webui.Config{})
	conn := st.connection()
	st.failedRun(conn)
	b := st.browser()
	b.login("admin@acme.test")

	_, page := b.do("GET", "/connections/"+conn.ID, nil)
	if !strings.Contains(page, `id="pull-items"`) || !strings.Contains(page, `id="schedule-form"`) {
		t.Fatal("an Administrator is not offered Pull now and the schedule form")
	}
	res, _ := b.post("/connections/"+conn.ID+"/sync-pull", url.Values{"entity_type": {"items"}})
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/syncs/") || !strings.HasSuffix(loc, "?ok=pulled") {
		t.Fatalf("pull now: %d %s", res.StatusCode, loc)
	}
	_, run := b.do("GET", loc, nil)
	for _, want := range []string{`id="status">completed`, `class="tree"`, "pull " + conn.ConnectorSlug + " items", "page 1:", `id="stored-cursor"><code>`,
		"succeeded", "Pull finished"} {
		if !strings.Contains(run, want) {
			t.Errorf("run page lacks %q", want)
		}
	}
	// The pages nest under the run's root entry.
	if !regexp.MustCompile(`(?s)<ul class="tree"><li>.*pull .*<ul class="tree"><li>.*page 1:`).MatchString(run) {
		t.Error("the operation log is not a nested tree")
	}
	if res, _ := b.post("/connections/"+conn.ID+"/sync-pull", url.Values{"entity_type": {"invoices"}}); res.StatusCode != http.StatusBadRequest {
		t.Errorf("pull of an entity without a list endpoint: %d", res.StatusCode)
	}

	_, list := b.do("GET", "/syncs", nil)
	if !strings.Contains(list, "s-completed") || !strings.Contains(list, "s-failed") || !strings.Contains(list, "vendor said 502") {
		t.Error("the runs list lacks the runs")
	}
	if _, list := b.do("GET", "/syncs?status=failed&entity_type=contacts&direction=inbound&connection_id="+conn.ID, nil); strings.Contains(list, "s-completed") ||
		!strings.Contains(list, "vendor said 502") {
		t.Error("the status filter does not filter")
	}
	if _, failed := b.do("GET", "/syncs/failed", nil); !strings.Contains(failed, "vendor said 502") || !strings.Contains(failed, conn.DisplayName) {
		t.Error("the failed-syncs report lacks the failed run")
	}
	if _, hist := b.do("GET", "/syncs/history", nil); !strings.Contains(hist, conn.DisplayName) || strings.Count(hist, `href="/syncs/syn`) < 2 {
		t.Errorf("history: %s", hist)
	}

	// Schedules: create, disable, refuse a bad interval.
	res, _ = b.post("/connections/"+conn.ID+"/sync-schedules", url.Values{"entity_type": {"items"}, "direction": {"inbound"},
		"interval": {"6h"}, "enabled": {"1"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save schedule: %d", res.StatusCode)
	}
	_, page = b.do("GET", "/connections/"+conn.ID, nil)
	if !strings.Contains(page, "6h0m0s") || !strings.Contains(page, "s-healthy") || !strings.Contains(page, ">Disable</button>") {
		t.Error("the connection page lacks the schedule")
	}
	b.post("/connections/"+conn.ID+"/sync-schedules", url.Values{"entity_type": {"items"}, "direction": {"inbound"}, "interval": {"6h0m0s"}})
	sch, err := st.store.FindSyncSchedule(context.Background(), st.org.Org.ID, conn.ID, "items", patchbay.SyncInbound)
	if err != nil || sch.Enabled {
		t.Errorf("after Disable: %+v %v", sch, err)
	}
	if res, body := b.post("/connections/"+conn.ID+"/sync-schedules", url.Values{"entity_type": {"items"}, "interval": {"soon"}}); res.StatusCode != 400 ||
		!strings.Contains(body, "not a duration") {
		t.Errorf("bad interval: %d", res.StatusCode)
	}

	// An Editor reads syncs but may not pull.
	e := st.browser()
	e.login("editor@acme.test")
	if _, page := e.do("GET", "/connections/"+conn.ID, nil); strings.Contains(page, "sync-pull") || strings.Contains(page, "schedule-form") {
		t.Error("an Editor is offered sync actions")
	}
	if res, _ := e.post("/connections/"+conn.ID+"/sync-pull", url.Values{"entity_type": {"items"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("Editor pull: %d", res.StatusCode)
	}
}

// TestRequestViews filters the vendor request log and reads a row.
func TestRequestViews(t *testing.T) {
	st := newStack(t, patchbay.Now, webui.Config{})
	conn := st.connection()
	first, retry := st.requests(conn)
	b := st.browser()
	b.login("viewer@acme.test")

	_, list := b.do("GET", "/requests?status=5xx&method=POST&q=contacts&source=proxy", nil)
	if !strings.Contains(list, "/requests/"+first.ID) || strings.Contains(list, "/requests/"+retry.ID) {
		t.Error("the 5xx filter does not select the failed attempt only")
	}
	if _, list := b.do("GET", "/requests?status=201&connection_id="+conn.ID, nil); !strings.Contains(list, "/requests/"+retry.ID) ||
		strings.Contains(list, "/requests/"+first.ID) {
		t.Error("the status filter does not select the retry only")
	}
	_, page := b.do("GET", "/requests/"+retry.ID, nil)
	for _, want := range []string{"req_vendor_7", "idem-42", `id="retry-of">` + first.ID, `{&#34;id&#34;:&#34;c_1&#34;}`, "80 ms", conn.DisplayName} {
		if !strings.Contains(page, want) {
			t.Errorf("request page lacks %q", want)
		}
	}
	if _, page := b.do("GET", "/connections/"+conn.ID, nil); !strings.Contains(page, "Recent vendor calls") || !strings.Contains(page, "/requests/"+retry.ID) {
		t.Error("the connection page lacks its vendor calls")
	}
	if res, _ := b.do("GET", "/requests/req_nope", nil); res.StatusCode != 404 {
		t.Errorf("unknown request: %d", res.StatusCode)
	}
}

// TestInboundReplay opens a received webhook and replays it as an Editor.
func TestInboundReplay(t *testing.T) {
	st := newStack(t, patchbay.Now, webui.Config{})
	conn := st.connection()
	hook := st.inboundHook(conn)
	v := st.browser()
	v.login("viewer@acme.test")
	_, page := v.do("GET", "/inbound/log/"+hook.ID, nil)
	if !strings.Contains(page, "X-Signature") || !strings.Contains(page, "[redacted]") || strings.Contains(page, `id="replay"`) {
		t.Error("the Viewer's inbound page: headers missing or Replay offered")
	}
	e := st.browser()
	e.login("editor@acme.test")
	if _, page := e.do("GET", "/inbound", nil); !strings.Contains(page, `href="/inbound/log/`+hook.ID+`"`) {
		t.Error("the inbound log does not link the webhook")
	}
	if _, page := e.do("GET", "/inbound/log/"+hook.ID, nil); !strings.Contains(page, `id="replay"`) {
		t.Error("an Editor is not offered Replay")
	}
	res, _ := e.post("/inbound/log/"+hook.ID+"/replay", nil)
	if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Header.Get("Location"), "ok=replayed") {
		t.Fatalf("replay: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	acts, _, err := st.store.ListActivity(context.Background(), st.org.Org.ID, patchbay.ActivityFilter{TargetID: hook.ID})
	if err != nil || len(acts) != 1 || acts[0].Action != "inbound.replay" {
		t.Errorf("activity after replay: %+v %v", acts, err)
	}
}

// TestUsersAndRoles edits and deletes users and manages custom roles, and
// checks that nobody grants what they lack.
func TestUsersAndRoles(t *testing.T) {
	st := newStack(t, patchbay.Now, webui.Config{})
	b := st.browser()
	b.login("admin@acme.test")

	res, _ := b.post("/users/"+st.editor.ID, url.Values{"name": {"Ed Itor"}, "role_id": {patchbay.RoleViewer}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save user: %d", res.StatusCode)
	}
	u, err := st.store.FindUser(context.Background(), st.org.Org.ID, st.editor.ID)
	if err != nil || u.Name != "Ed Itor" || u.RoleID != patchbay.RoleViewer {
		t.Fatalf("after save: %+v %v", u, err)
	}

	// A custom role: delete is not grantable, the rest is.
	res, body := b.post("/roles", url.Values{"name": {"Manager"}, "capability": {"users:manage", "connections:read", "delete"}})
	if res.StatusCode != 400 || !strings.Contains(body, "reserved for the Administrator") || !strings.Contains(body, `value="Manager"`) {
		t.Errorf("role with delete: %d", res.StatusCode)
	}
	res, _ = b.post("/roles", url.Values{"name": {"Manager"}, "description": {"Manages people"}, "capability": {"users:manage", "connections:read"}})
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/roles/") {
		t.Fatalf("create role: %d %s", res.StatusCode, loc)
	}
	roleID := strings.TrimPrefix(strings.Split(loc, "?")[0], "/roles/")
	if _, page := b.do("GET", "/roles/"+roleID, nil); !strings.Contains(page, `value="users:manage" checked`) || strings.Contains(page, `value="delete"`) {
		t.Error("the role page's checklist is wrong")
	}
	if res, _ := b.post("/roles/"+roleID, url.Values{"name": {"Manager"}, "capability": {"users:manage", "connections:read", "activity:read"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("update role: %d", res.StatusCode)
	}
	if res, _ := b.post("/roles/"+patchbay.RoleEditor, url.Values{"name": {"Editor 2"}}); res.StatusCode != 400 {
		t.Errorf("change a built-in role: %d", res.StatusCode)
	}
	mgr := st.user("manager@acme.test", roleID)

	// The manager may edit users but not hand out more than they hold, nor
	// delete anyone.
	m := st.browser()
	m.login("manager@acme.test")
	if _, page := m.do("GET", "/users/"+st.viewer.ID, nil); strings.Contains(page, "delete-user") {
		t.Error("a role without delete is offered Delete")
	}
	if res, body := m.post("/users/"+st.viewer.ID, url.Values{"name": {"V"}, "role_id": {patchbay.RoleAdministrator}}); res.StatusCode != 400 ||
		!strings.Contains(body, "cannot grant") {
		t.Errorf("manager grants Administrator: %d", res.StatusCode)
	}
	if res, _ := m.post("/users/"+st.viewer.ID+"/delete", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("manager deletes: %d", res.StatusCode)
	}
	if res, _ := m.post("/roles", url.Values{"name": {"X"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("manager creates a role: %d", res.StatusCode)
	}

	// A role in use is not deleted; a user is.
	if res, _ := b.post("/roles/"+roleID+"/delete", nil); res.StatusCode != http.StatusConflict {
		t.Errorf("delete a held role: %d", res.StatusCode)
	}
	if res, _ := b.post("/users/"+mgr.ID+"/delete", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("delete user: %d", res.StatusCode)
	}
	if res, _ := b.post("/roles/"+roleID+"/delete", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("delete role: %d", res.StatusCode)
	}
	acts, _, err := st.store.ListActivity(context.Background(), st.org.Org.ID, patchbay.ActivityFilter{Page: patchbay.Page{Limit: 50}})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range acts {
		seen[a.Action] = true
	}
	for _, want := range []string{"user.update", "user.delete", "role.create", "role.update", "role.delete"} {
		if !seen[want] {
			t.Errorf("no %s in the activity log", want)
		}
	}
}
