package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/patchbay/patchbay/client"
	"github.com/patchbay/patchbay/internal/postgres/pgtest"
)

// binary is the patchbay executable built once for these tests, without
// cgo, as it ships.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "patchbay-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "patchbay")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build patchbay: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is a data directory and database for one run of the binary.
type env struct {
	t        *testing.T
	dataDir  string
	database string
	extra    []string // more NAME=value settings
}

func (e env) environ() []string {
	return append(append(os.Environ(),
		"PATCHBAY_DATA_DIR="+e.dataDir, "PATCHBAY_DATABASE_URL="+e.database,
		"PATCHBAY_ENCRYPTION_KEYS=", "PATCHBAY_API_KEY=", "PATCHBAY_URL=", "PATCHBAY_ADDR=127.0.0.1:0"), e.extra...)
}

// run runs a patchbay command to completion.
func (e env) run(args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = e.environ()
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

// server is a running `patchbay serve`.
type server struct {
	cmd    *exec.Cmd
	url    string
	mu     sync.Mutex
	stdout strings.Builder
	stderr strings.Builder
	done   chan error
}

func (s *server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stdout.String() + s.stderr.String()
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// serve starts `patchbay serve` on a free port and waits until it listens.
func (e env) serve() *server {
	e.t.Helper()
	s := &server{cmd: exec.Command(binary, "serve"), done: make(chan error, 1)}
	s.cmd.Env = e.environ()
	stdout, _ := s.cmd.StdoutPipe()
	stderr, _ := s.cmd.StderrPipe()
	if err := s.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	urls := make(chan string, 1)
	copyLines := func(r io.Reader, to *strings.Builder) {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			s.mu.Lock()
			to.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
	}
	go copyLines(stdout, &s.stdout)
	go copyLines(stderr, &s.stderr)
	go func() { s.done <- s.cmd.Wait() }()
	e.t.Cleanup(func() { _ = s.cmd.Process.Kill() })
	select {
	case s.url = <-urls:
	case err := <-s.done:
		e.t.Fatalf("serve exited: %v\n%s", err, s.output())
	case <-time.After(30 * time.Second):
		e.t.Fatalf("serve did not start:\n%s", s.output())
	}
	return s
}

// stop sends SIGTERM and requires a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("serve exited with %v\n%s", err, s.output())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not stop on SIGTERM")
	}
}

type initOutput struct {
	OrgID, OrgName, AdminEmail, AdminPassword, APIKeyID, APIKey, AdminURL string
}

func TestEndToEndSQLite(t *testing.T) {
	t.Parallel()
	testEndToEnd(t, env{t: t, dataDir: t.TempDir()})
}

func TestEndToEndPostgres(t *testing.T) {
	t.Parallel()
	testEndToEnd(t, env{t: t, dataDir: t.TempDir(), database: pgtest.URL(t)})
}

func testEndToEnd(t *testing.T, e env) {
	ctx := context.Background()

	// init --json prints one object with usable credentials, once.
	out, stderr, code := e.run("init", "--json", "--admin-email", "ops@example.com")
	if code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	var creds struct {
		OrgID         string `json:"org_id"`
		AdminEmail    string `json:"admin_email"`
		AdminPassword string `json:"admin_password"`
		APIKeyID      string `json:"api_key_id"`
		APIKey        string `json:"api_key"`
		AdminURL      string `json:"admin_url"`
	}
	if err := json.Unmarshal([]byte(out), &creds); err != nil {
		t.Fatalf("init --json output is not one JSON object: %v\n%s", err, out)
	}
	if !strings.HasPrefix(creds.APIKey, "pb_") || creds.AdminEmail != "ops@example.com" || creds.AdminPassword == "" || creds.OrgID == "" {
		t.Fatalf("init credentials %+v", creds)
	}
	if _, stderr, code := e.run("init"); code != 1 || !strings.HasPrefix(lastLine(stderr), "patchbay: ") ||
		!strings.Contains(lastLine(stderr), "already initialized") {
		t.Fatalf("second init: exit %d, stderr %q", code, stderr)
	}

	srv := e.serve()
	anon := client.New(srv.url, "")
	var ce *client.Error
	if _, err := anon.Me(ctx); !errors.As(err, &ce) || ce.Code != "unauthorized" || ce.Status != http.StatusUnauthorized {
		t.Fatalf("no key: %v", err)
	}
	if err := anon.Ready(ctx); err != nil {
		t.Fatalf("readyz: %v", err)
	}
	for _, path := range []string{"/healthz", "/metrics", "/v1/openapi.json"} {
		resp, err := http.Get(srv.url + path)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %v %v", path, err, resp)
		}
		resp.Body.Close()
	}

	admin := client.New(srv.url, creds.APIKey)
	me, err := admin.Me(ctx)
	if err != nil || me.OrgID != creds.OrgID || me.RoleID != "administrator" {
		t.Fatalf("me: %+v %v", me, err)
	}
	k, err := admin.CreateAPIKey(ctx, client.CreateAPIKeyRequest{Name: "e2e viewer", RoleID: "viewer"})
	if err != nil {
		t.Fatal(err)
	}
	viewer := client.New(srv.url, k.Key)
	if _, err := viewer.ListAPIKeys(ctx, client.ListAPIKeysOptions{}); client.ErrorCode(err) != "forbidden" {
		t.Fatalf("viewer listing keys: %v", err)
	}
	keys, err := admin.ListAPIKeys(ctx, client.ListAPIKeysOptions{})
	if err != nil || len(keys.Data) != 2 {
		t.Fatalf("keys: %+v %v", keys, err)
	}
	if _, err := admin.RevokeAPIKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := viewer.Me(ctx); client.ErrorCode(err) != "unauthorized" {
		t.Fatalf("revoked key: %v", err)
	}
	acts, err := admin.ListActivity(ctx, client.ActivityQuery{Action: "api_key.*"})
	if err != nil || len(acts.Data) != 3 { // set-up key, create, revoke
		t.Fatalf("activity: %+v %v", acts, err)
	}

	// The CLI talks to the server through the same client.
	out, stderr, code = e.run("api-keys", "list", "--all", "--json", "--url", srv.url, "--api-key", creds.APIKey)
	if code != 0 || !strings.Contains(out, k.ID) {
		t.Fatalf("cli api-keys list: exit %d\n%s\n%s", code, out, stderr)
	}
	if _, stderr, code := e.run("api-keys", "list", "--url", srv.url, "--api-key", k.Key); code != 1 ||
		strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "revoked") {
		t.Fatalf("cli with revoked key: exit %d, stderr %q", code, stderr)
	}
	srv.stop(t)

	// Nothing secret reached the logs.
	for _, secret := range []string{creds.APIKey, creds.AdminPassword, k.Key} {
		if strings.Contains(srv.output(), secret) {
			t.Fatalf("server output holds a secret")
		}
	}

	// A restart keeps everything and sets nothing up again.
	srv = e.serve()
	if strings.Contains(srv.output(), "Admin API key") {
		t.Fatalf("restart set up again:\n%s", srv.output())
	}
	if _, err := client.New(srv.url, creds.APIKey).Me(ctx); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	srv.stop(t)
}

// TestServeSetsUpEmptyDatabase starts serve on nothing at all: it creates
// the data directory, the key file (0600) and the first credentials.
func TestServeSetsUpEmptyDatabase(t *testing.T) {
	t.Parallel()
	e := env{t: t, dataDir: filepath.Join(t.TempDir(), "data")}
	srv := e.serve()
	m := regexp.MustCompile(`Admin API key:\s+(pb_\S+)`).FindStringSubmatch(srv.output())
	if m == nil {
		t.Fatalf("no credentials printed:\n%s", srv.output())
	}
	if _, err := client.New(srv.url, m[1]).Me(context.Background()); err != nil {
		t.Fatalf("printed key: %v", err)
	}
	if !strings.Contains(srv.output(), "production should supply its own key") {
		t.Fatalf("no warning about the generated key:\n%s", srv.output())
	}
	for name, mode := range map[string]os.FileMode{"encryption.key": 0o600, "patchbay.db": 0o600} {
		fi, err := os.Stat(filepath.Join(e.dataDir, name))
		if err != nil || fi.Mode().Perm() != mode {
			t.Fatalf("%s: %v %v", name, fi, err)
		}
	}
	srv.stop(t)
}

// TestCLIErrors checks bad input gets a non-zero exit and one readable line.
func TestCLIErrors(t *testing.T) {
	t.Parallel()
	e := env{t: t, dataDir: t.TempDir()}
	out, _, code := e.run("--help")
	if code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	for _, flag := range []string{"--addr", "PATCHBAY_ADDR", "--data-dir", "PATCHBAY_DATA_DIR", "--database",
		"PATCHBAY_DATABASE_URL", "--public-url", "PATCHBAY_PUBLIC_URL"} {
		if !strings.Contains(out, flag) {
			t.Errorf("--help does not list %s", flag)
		}
	}
	for _, args := range [][]string{
		{"no-such-command"},
		{"serve", "--log-level", "loud"},
		{"api-keys", "list"}, // no key
		{"init", "--database", "mysql://x"},
		{"init", "--encryption-keys", "k1:tooshort"},
	} {
		_, stderr, code := e.run(args...)
		if code == 0 || strings.Count(stderr, "patchbay: ") != 1 || !strings.HasPrefix(lastLine(stderr), "patchbay: ") {
			t.Errorf("%v: exit %d, stderr %q; want one closing \"patchbay: …\" line", args, code, stderr)
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// The delivery benchmark runs end to end at a small size: every round is
// reported against its baselines, every delivery arrives signed.
func TestBenchDeliverySmall(t *testing.T) {
	t.Parallel()
	e := env{t: t, dataDir: t.TempDir()}
	out, stderr, code := e.run("bench", "delivery", "--engines", "sqlite", "--events", "300", "--rounds", "2",
		"--duration", "1s", "--fanout", "3", "--json")
	if code != 0 {
		t.Fatalf("bench delivery exited %d: %s", code, stderr)
	}
	var report struct {
		Results []struct {
			Ratio   float64 `json:"ratio"`
			Missing int     `json:"missing"`
			Invalid int     `json:"invalid"`
			Rounds  []struct {
				Ratio float64 `json:"ratio"`
			} `json:"rounds"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("bench delivery --json printed %q: %v", out, err)
	}
	if len(report.Results) != 1 {
		t.Fatalf("%d results, want 1 (sqlite)", len(report.Results))
	}
	r := report.Results[0]
	if r.Missing != 0 || r.Invalid != 0 || r.Ratio <= 0 || len(r.Rounds) != 2 {
		t.Errorf("result: ratio %v, %d missing, %d invalid, %d rounds; want a ratio, none missing or invalid, 2 rounds",
			r.Ratio, r.Missing, r.Invalid, len(r.Rounds))
	}
	if r.Ratio != r.Rounds[0].Ratio && r.Ratio != r.Rounds[1].Ratio {
		t.Errorf("reported ratio %v is neither round's (%v, %v)", r.Ratio, r.Rounds[0].Ratio, r.Rounds[1].Ratio)
	}
}
