package main_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver, to read the tables
	_ "modernc.org/sqlite"             // the SQLite driver, to read the tables

	"github.com/patchbay/patchbay/client"
	"github.com/patchbay/patchbay/internal/fakevendor"
	"github.com/patchbay/patchbay/internal/postgres/pgtest"
)

// recorder keeps every API answer body, to search them for secrets.
type recorder struct {
	mu     sync.Mutex
	bodies bytes.Buffer
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	r.mu.Lock()
	r.bodies.Write(b)
	r.bodies.WriteByte('\n')
	r.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, err
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bodies.String()
}

// plane is a running Patchbay with the fake vendor in its catalog.
type plane struct {
	env    env
	vendor *fakevendor.Vendor
	creds  initOutput
	rec    *recorder
}

func newPlane(t *testing.T, database string, extra ...string) *plane {
	t.Helper()
	vendor := fakevendor.New(t)
	dir := t.TempDir()
	if err := vendor.WriteCatalog(dir); err != nil {
		t.Fatal(err)
	}
	p := &plane{vendor: vendor, rec: &recorder{},
		env: env{t: t, dataDir: t.TempDir(), database: database,
			extra: append([]string{"PATCHBAY_CONNECTORS_DIR=" + dir, "PATCHBAY_REFRESH_INTERVAL=1h"}, extra...)}}
	out, stderr, code := p.env.run("init", "--json")
	if code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	var raw map[string]string
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	p.creds = initOutput{OrgID: raw["org_id"], APIKey: raw["api_key"], AdminPassword: raw["admin_password"]}
	// The platform-wide OAuth client, set from the command line.
	p.env.extra = append(p.env.extra, "PATCHBAY_OAUTH_CLIENT_SECRET="+fakevendor.DefaultClientSecret)
	if _, stderr, code := p.env.run("oauth-client", "set", fakevendor.Slug, "--client-id", fakevendor.DefaultClientID); code != 0 {
		t.Fatalf("oauth-client set: %s", stderr)
	}
	return p
}

func (p *plane) client(url string) *client.Client {
	c := client.New(url, p.creds.APIKey)
	c.HTTPClient = &http.Client{Transport: p.rec, Timeout: 30 * time.Second}
	return c
}

// connectOAuth drives the whole dance over real HTTP: Patchbay gives the
// vendor URL, the "browser" follows it to the vendor, which redirects to
// Patchbay's callback, which exchanges the code, tests and stores.
func (p *plane) connectOAuth(t *testing.T, srv *server, c *client.Client) client.Connection {
	t.Helper()
	var auth client.Authorization
	if err := c.Do(context.Background(), "POST", "/v1/connections/authorize", nil,
		client.AuthorizeRequest{Connector: fakevendor.Slug, DisplayName: "Vendor"}, &auth); err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Transport: p.rec, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		req.Header.Set("Accept", "application/json")
		return nil
	}}
	resp, err := browser.Get(auth.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Request.URL.Path != "/oauth/callback" || !strings.HasPrefix(resp.Request.URL.String(), srv.url) {
		t.Fatalf("the vendor sent the browser to %s", resp.Request.URL)
	}
	var res client.ConnectionResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("callback: %d %v", resp.StatusCode, err)
	}
	return res.Connection
}

func TestConnectionsEndToEndSQLite(t *testing.T) {
	t.Parallel()
	testConnectionsEndToEnd(t, "")
}

func TestConnectionsEndToEndPostgres(t *testing.T) {
	t.Parallel()
	testConnectionsEndToEnd(t, pgtest.URL(t))
}

// testConnectionsEndToEnd connects through OAuth and with an API key, then
// refreshes, pauses, resumes and disconnects (revocation seen at the
// vendor); then looks for the cleartext of every credential in the
// database, the API answers and the logs; then rotates the encryption key
// and runs on the new key alone.
func testConnectionsEndToEnd(t *testing.T, database string) {
	ctx := context.Background()
	p := newPlane(t, database)
	const apiKeySecret = "vendor-api-key-7f3c9a1e5b"
	p.vendor.AddAPIKey(apiKeySecret)
	secrets := []string{apiKeySecret, fakevendor.DefaultClientSecret, p.creds.APIKey, p.creds.AdminPassword}

	srv := p.env.serve()
	c := p.client(srv.url)
	conn := p.connectOAuth(t, srv, c)
	if conn.State != "active" || conn.VendorAccountID == "" || len(conn.Scopes) != 2 {
		t.Fatalf("oauth connection %+v", conn)
	}
	var keyConn client.ConnectionResult
	if err := c.Do(ctx, "POST", "/v1/connections", nil, client.CreateConnectionRequest{Connector: fakevendor.Slug,
		AuthMode: "api_key", Fields: map[string]string{"api_key": apiKeySecret}}, &keyConn); err != nil {
		t.Fatal(err)
	}
	// A wrong key is refused by the test call, and nothing is stored.
	err := c.Do(ctx, "POST", "/v1/connections", nil, client.CreateConnectionRequest{Connector: fakevendor.Slug,
		AuthMode: "api_key", Fields: map[string]string{"api_key": "wrong-" + apiKeySecret}}, nil)
	if client.ErrorCode(err) != "invalid" || strings.Contains(err.Error(), apiKeySecret) {
		t.Fatalf("wrong key: %v", err)
	}

	// The CLI reaches the same API.
	remote := []string{"--url", srv.url, "--api-key", p.creds.APIKey}
	if out, stderr, code := p.env.run(append([]string{"connections", "test", keyConn.Connection.ID}, remote...)...); code != 0 ||
		!strings.Contains(out, "connected") {
		t.Fatalf("cli connections test: exit %d\n%s%s", code, out, stderr)
	}
	if out, _, code := p.env.run(append([]string{"connections", "--json"}, remote...)...); code != 0 || !strings.Contains(out, conn.ID) {
		t.Fatalf("cli connections list: exit %d\n%s", code, out)
	}
	if out, _, code := p.env.run(append([]string{"connectors", "--family", "payment"}, remote...)...); code != 0 || !strings.Contains(out, "stripe") {
		t.Fatalf("cli connectors: exit %d\n%s", code, out)
	}

	act := func(action string) client.ConnectionResult {
		t.Helper()
		var res client.ConnectionResult
		if err := c.Do(ctx, "POST", "/v1/connections/"+conn.ID+"/"+action, nil, nil, &res); err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		return res
	}
	before := p.vendor.RefreshRequests()
	if res := act("refresh"); res.Test.Outcome != "connected" || p.vendor.RefreshRequests() != before+1 {
		t.Fatalf("refresh: %+v, vendor refreshes %d", res, p.vendor.RefreshRequests()-before)
	}
	if res := act("pause"); res.Connection.State != "paused" {
		t.Fatalf("pause: %+v", res)
	}
	var usable client.List[client.Connection]
	if err := c.Do(ctx, "GET", "/v1/connections/usable", url.Values{"connector": {fakevendor.Slug}}, nil, &usable); err != nil || len(usable.Data) != 1 {
		t.Fatalf("picker while paused: %+v %v", usable, err)
	}
	if res := act("resume"); res.Connection.State != "active" || res.Test.Outcome != "connected" {
		t.Fatalf("resume: %+v", res)
	}
	var disc client.ConnectionResult
	if err := c.Do(ctx, "DELETE", "/v1/connections/"+conn.ID, nil, nil, &disc); err != nil {
		t.Fatal(err)
	}
	if disc.Connection.State != "disconnected" || disc.Revocation != "revoked" || len(p.vendor.Revocations()) != 1 {
		t.Fatalf("disconnect: %+v; vendor saw %d revocations", disc, len(p.vendor.Revocations()))
	}
	secrets = append(secrets, p.vendor.Revocations()...) // the refresh token, in clear at the vendor only
	var acts client.List[client.Activity]
	if err := c.Do(ctx, "GET", "/v1/activity", url.Values{"target_id": {conn.ID}}, nil, &acts); err != nil || len(acts.Data) != 5 {
		t.Fatalf("activity of the connection: %d entries, %v", len(acts.Data), err)
	}
	srv.stop(t)

	// No cleartext anywhere: database, API answers, logs.
	stored := dumpDatabase(t, p.env)
	for _, s := range secrets {
		for where, text := range map[string]string{"database": stored, "API answers": p.rec.String(), "logs": srv.output()} {
			if strings.Contains(text, s) {
				t.Errorf("the %s hold the cleartext of a credential (%.6s…)", where, s)
			}
		}
	}
	if !strings.Contains(stored, "pbs1:k1:") {
		t.Fatal("no sealed values found: the search looked in the wrong place")
	}

	// Rotate to a new key, then run with the new key alone.
	out, stderr, code := p.env.run("keys", "rotate", "--new-key", "k2", "--batch", "1")
	if code != 0 || !strings.Contains(out, `under key "k2"`) {
		t.Fatalf("keys rotate: exit %d\n%s\n%s", code, out, stderr)
	}
	stored = dumpRows(t, p.env)
	if strings.Contains(stored, "pbs1:k1:") || !strings.Contains(stored, "pbs1:k2:") {
		t.Fatal("values still sealed under the old key after rotation")
	}
	keyFile := filepath.Join(p.env.dataDir, "encryption.key")
	spec, _ := os.ReadFile(keyFile)
	newOnly, _, _ := strings.Cut(strings.TrimSpace(string(spec)), ",")
	if err := os.WriteFile(keyFile, []byte(newOnly+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv = p.env.serve()
	var res client.ConnectionResult
	if err := p.client(srv.url).Do(ctx, "POST", "/v1/connections/"+keyConn.Connection.ID+"/test", nil, nil, &res); err != nil || res.Test.Outcome != "connected" {
		t.Fatalf("test under the new key alone: %+v %v", res, err)
	}
	srv.stop(t)
}

// dumpDatabase returns every stored byte: the SQLite files (free pages and
// old WAL frames included), or every row of the PostgreSQL schema as text.
func dumpDatabase(t *testing.T, e env) string {
	t.Helper()
	if e.database == "" {
		var all []byte
		for _, name := range []string{"patchbay.db", "patchbay.db-wal"} {
			b, _ := os.ReadFile(filepath.Join(e.dataDir, name))
			all = append(all, b...)
		}
		return string(all)
	}
	return dumpRows(t, e)
}

// dumpRows returns every live row of every table as text.
func dumpRows(t *testing.T, e env) string {
	t.Helper()
	driver, dsn, list := "pgx", e.database, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	if e.database == "" {
		driver, dsn, list = "sqlite", filepath.Join(e.dataDir, "patchbay.db"), `SELECT name FROM sqlite_master WHERE type = 'table'`
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tables []string
	forEachRow(t, db, list, func(vals []any) { tables = append(tables, fmt.Sprint(vals[0])) })
	var sb strings.Builder
	for _, table := range tables {
		forEachRow(t, db, `SELECT * FROM "`+table+`"`, func(vals []any) {
			for _, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				fmt.Fprintf(&sb, "%v\t", v)
			}
			sb.WriteString("\n")
		})
	}
	return sb.String()
}

// TestRefreshOnceAcrossProcesses runs two Patchbay processes on one
// PostgreSQL database and has many callers, split between them, use a
// connection whose token is due: the vendor sees exactly one refresh.
func TestRefreshOnceAcrossProcesses(t *testing.T) {
	t.Parallel()
	database := pgtest.URL(t)
	p := newPlane(t, database, "PATCHBAY_REFRESH_AHEAD=4s")
	p.vendor.SetTokenLifetime(8 * time.Second)
	a, b := p.env.serve(), p.env.serve()
	ca, cb := p.client(a.url), p.client(b.url)
	conn := p.connectOAuth(t, a, ca)

	// Wait until the token is within refresh-ahead of expiry.
	time.Sleep(time.Until(conn.ExpiresAt.Add(-4*time.Second)) + 200*time.Millisecond)
	before := p.vendor.RefreshRequests()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := 0; i < 32; i++ {
		c := ca
		if i%2 == 1 {
			c = cb
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res client.ConnectionResult
			err := c.Do(context.Background(), "POST", "/v1/connections/"+conn.ID+"/test", nil, nil, &res)
			if err == nil && res.Test.Outcome != "connected" {
				err = &client.Error{Code: res.Test.Outcome, Message: res.Test.Detail}
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := p.vendor.RefreshRequests() - before; n != 1 {
		t.Fatalf("%d token requests for one expiry across two processes, want 1", n)
	}
	a.stop(t)
	b.stop(t)
}

// forEachRow runs a query and calls fn with each row's values.
func forEachRow(t *testing.T, db *sql.DB, query string, fn func([]any)) {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fn(vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
