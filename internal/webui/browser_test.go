package webui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/fakevendor"
	"github.com/patchbay/patchbay/internal/webui"
)

const chromium = "/usr/bin/chromium"

// screenshotDir is where the browser test saves a PNG of every view.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("PATCHBAY_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("testdata", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowser drives Debian's Chromium through the UI: sign in, connect the
// fake vendor over OAuth, pause and resume, create an endpoint that fails
// then succeeds, find its delivery in the log and retry it, and check that
// a Viewer is offered no action and is refused when posting anyway.
func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium is required under CI: %v", err)
		}
		t.Skipf("no Chromium at %s", chromium)
	}
	st := newStack(t, patchbay.Now, webui.Config{})
	shots := screenshotDir(t)

	// The receiver fails the first request and accepts the rest.
	var calls atomic.Int64
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, "not yet", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)

	opts := append([]chromedp.ExecAllocatorOption{},
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	base := st.srv.URL
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	var saved []string
	shot := func(name string) {
		t.Helper()
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644); err != nil {
			t.Fatal(err)
		}
		saved = append(saved, name+".png")
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	login := func(email string) {
		t.Helper()
		run("sign in as "+email, chromedp.Navigate(base+"/login"),
			chromedp.SendKeys(chromedp.CSS(`input[name=email]`), email),
			chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
			chromedp.Submit(chromedp.CSS(`input[name=password]`)),
			chromedp.WaitVisible(chromedp.CSS(`header.top`)))
	}

	// Sign in.
	run("login page", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)))
	shot("01-login")
	login("admin@acme.test")
	shot("02-connections-empty")

	// Connect the fake vendor through the OAuth flow.
	run("library", chromedp.Navigate(base+"/connectors"), chromedp.WaitVisible(chromedp.CSS(`.cards`)))
	shot("03-connector-library")
	run("connector", chromedp.Click(chromedp.CSS(`a[href="/connectors/`+fakevendor.Slug+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#oauth-connect`)))
	shot("04-connector-connect-flow")
	run("oauth", chromedp.Click(chromedp.CSS(`#oauth-connect`)), chromedp.WaitVisible(chromedp.CSS(`#state`)))
	if got := text("#state"); got != "active" {
		t.Fatalf("connection state after OAuth: %q", got)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(loc, "/connections/con_") {
		t.Fatalf("after OAuth the browser is at %s", loc)
	}
	connURL := strings.Split(loc, "?")[0]
	shot("05-connection-detail")

	// Pause and resume.
	run("pause", chromedp.Click(chromedp.CSS(`#pause`)), chromedp.WaitVisible(chromedp.CSS(`#resume`)))
	if got := text("#state"); got != "paused" {
		t.Fatalf("after pause: %q", got)
	}
	shot("06-connection-paused")
	run("resume", chromedp.Click(chromedp.CSS(`#resume`)), chromedp.WaitVisible(chromedp.CSS(`#pause`)))
	if got := text("#state"); got != "active" {
		t.Fatalf("after resume: %q", got)
	}

	// An endpoint; its secret is shown once.
	run("endpoints", chromedp.Navigate(base+"/endpoints"), chromedp.WaitVisible(chromedp.CSS(`#endpoint-url`)))
	shot("07-endpoints-empty")
	run("create endpoint", chromedp.SendKeys(chromedp.CSS(`#endpoint-url`), receiver.URL+"/hook"),
		chromedp.Click(chromedp.CSS(`#create-endpoint`)), chromedp.WaitVisible(chromedp.CSS(`#secret`)))
	if s := text("#secret"); !strings.HasPrefix(s, "whsec_") {
		t.Fatalf("endpoint secret %q", s)
	}
	shot("08-endpoint-secret-once")
	run("open endpoint", chromedp.Click(chromedp.CSS(`#open-endpoint`)), chromedp.WaitVisible(chromedp.CSS(`#send-test`)))
	page, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS(`main`)))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(page, "whsec_") {
		t.Fatal("the endpoint page shows the secret again")
	}
	run("send test", chromedp.Click(chromedp.CSS(`#send-test`)), chromedp.WaitVisible(chromedp.CSS(`.notice`)))

	// The first attempt fails.
	d := waitDelivery(t, st, func(d *patchbay.Delivery) bool { return d.Status == patchbay.DeliveryRetrying })

	// Find it in the delivery log by its event id, open it, retry it.
	run("search log", chromedp.Navigate(base+"/deliveries"), chromedp.WaitVisible(chromedp.CSS(`#q`)),
		chromedp.SendKeys(chromedp.CSS(`#q`), d.EventID), chromedp.Submit(chromedp.CSS(`#q`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/deliveries/`+d.ID+`"]`)))
	shot("09-delivery-log")
	run("open delivery", chromedp.Click(chromedp.CSS(`a[href="/deliveries/`+d.ID+`"]`)), chromedp.WaitVisible(chromedp.CSS(`#retry`)))
	if got := text("#status"); got != "retrying" {
		t.Fatalf("delivery status %q", got)
	}
	shot("10-delivery-failed")
	run("retry", chromedp.Click(chromedp.CSS(`#retry`)), chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	waitDelivery(t, st, func(d *patchbay.Delivery) bool { return d.Status == patchbay.DeliveryDelivered })
	run("reload delivery", chromedp.Navigate(base+"/deliveries/"+d.ID), chromedp.WaitVisible(chromedp.CSS(`#status`)))
	if got := text("#status"); got != "delivered" {
		t.Fatalf("after retry: %q", got)
	}
	shot("11-delivery-retried")
	run("endpoint charts", chromedp.Navigate(base+"/endpoints/"+d.EndpointID), chromedp.WaitVisible(chromedp.CSS(`svg.chart`)))
	shot("12-endpoint-detail-charts")

	// The other views.
	for _, v := range []struct{ name, path string }{
		{"13-connections-list", "/connections"}, {"14-inbound-log", "/inbound"}, {"15-api-keys", "/api-keys"},
		{"16-users-and-roles", "/users"}, {"17-activity-log", "/activity"}, {"18-settings", "/settings"},
	} {
		run(v.name, chromedp.Navigate(base+v.path), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
		shot(v.name)
	}
	run("create key", chromedp.Navigate(base+"/api-keys"), chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "billing"),
		chromedp.Click(chromedp.CSS(`#create-key`)), chromedp.WaitVisible(chromedp.CSS(`#secret`)))
	shot("19-api-key-shown-once")

	// The signed-token connect flow: the secret is shown once.
	run("signed token", chromedp.Navigate(base+"/connectors/webhook_hmac"), chromedp.WaitVisible(chromedp.CSS(`input[name=field_url]`)))
	shot("23-connector-signed-token-flow")
	run("signed token connect", chromedp.SendKeys(chromedp.CSS(`input[name=field_url]`), "https://hooks.example/in"),
		chromedp.Submit(chromedp.CSS(`input[name=field_url]`)), chromedp.WaitVisible(chromedp.CSS(`#secret`)))
	shot("24-signed-token-secret-once")

	// Syncs, vendor requests and an inbound webhook, made through the
	// services over an API-key connection.
	conn := st.connection()
	syncRun := st.pull(conn)
	st.failedRun(conn)
	_, retry := st.requests(conn)
	hook := st.inboundHook(conn)
	for _, v := range []struct{ name, path, wait string }{
		{"25-syncs-list", "/syncs", `a[href="/syncs/` + syncRun.ID + `"]`},
		{"26-sync-run-detail-op-log", "/syncs/" + syncRun.ID, `#oplog ul.tree ul.tree`},
		{"27-failed-syncs", "/syncs/failed", `main table`},
		{"28-sync-history", "/syncs/history", `main table`},
		{"29-requests-list", "/requests", `a[href="/requests/` + retry.ID + `"]`},
		{"30-request-detail", "/requests/" + retry.ID, `#retry-of`},
		{"31-inbound-detail", "/inbound/log/" + hook.ID, `#replay`},
		{"32-user-edit", "/users/" + st.editor.ID, `#user-form`},
		{"33-role-new", "/roles/new", `#role-form`},
	} {
		run(v.name, chromedp.Navigate(base+v.path), chromedp.WaitVisible(chromedp.CSS(v.wait)))
		shot(v.name)
	}
	run("schedule", chromedp.Navigate(base+"/connections/"+conn.ID), chromedp.WaitVisible(chromedp.CSS(`#pull-items`)),
		chromedp.Click(chromedp.CSS(`details:has(#schedule-form) > summary`)), chromedp.SendKeys(chromedp.CSS(`#schedule-form input[name=entity_type]`), "items"),
		chromedp.Submit(chromedp.CSS(`#schedule-form input[name=entity_type]`)), chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	shot("34-connection-syncs-and-vendor-calls")

	// Phone width.
	run("phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/connections"), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
	shot("20-connections-phone")
	run("phone syncs", chromedp.Navigate(base+"/syncs/"+syncRun.ID), chromedp.WaitVisible(chromedp.CSS(`#oplog`)))
	shot("35-sync-run-phone")
	run("phone detail", chromedp.Navigate(connURL), chromedp.WaitVisible(chromedp.CSS(`#state`)))
	shot("21-connection-detail-phone")
	run("desktop", chromedp.EmulateViewport(1280, 900))

	// A Viewer sees no action and is refused when posting anyway.
	run("sign out", chromedp.Click(chromedp.CSS(`.logout button`)), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)))
	login("viewer@acme.test")
	run("viewer detail", chromedp.Navigate(connURL), chromedp.WaitVisible(chromedp.CSS(`#state`)))
	buttons, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('main button, main form[method=post]').length`))
	if err != nil {
		t.Fatal(err)
	}
	if buttons != 0 {
		t.Errorf("a Viewer is offered %d action buttons or forms", buttons)
	}
	shot("22-connection-detail-viewer")
	js := fmt.Sprintf(`fetch(%q, {method: "POST", body: new URLSearchParams({csrf: document.querySelector('input[name=csrf]').value})}).then(r => r.status)`,
		connURL+"/pause")
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusForbidden {
		t.Errorf("Viewer posting pause: %d, want 403", status)
	}
	if got := text("#state"); got != "active" {
		t.Errorf("state after the Viewer's post: %q", got)
	}
	t.Logf("screenshots in %s: %s", shots, strings.Join(saved, ", "))
}

// waitDelivery waits for the org's one delivery to satisfy ok.
func waitDelivery(t *testing.T, st *stack, ok func(*patchbay.Delivery) bool) *patchbay.Delivery {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		list, _, err := st.store.ListDeliveries(context.Background(), st.org.Org.ID, patchbay.DeliveryFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 1 && ok(list[0]) {
			return list[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery did not reach the wanted state: %+v", list)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
