package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a child process whose output is kept (its last lines) and
// scanned for the URL it listens on.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	url  string

	mu   sync.Mutex
	tail []string
}

// listening matches the line serve and the receiver print once they listen.
var listening = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)

// startProc starts exe with args and env and waits, up to timeout, for it
// to print that it listens.
func startProc(name, exe string, args, env []string, timeout time.Duration) (*proc, error) {
	p := &proc{name: name, cmd: exec.Command(exe, args...), done: make(chan struct{})} //nolint:gosec // exe is this program's own executable
	p.cmd.Env = env
	p.cmd.SysProcAttr = childAttr()
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	urls := make(chan string, 1)
	var copies sync.WaitGroup
	scan := func(r io.Reader) {
		defer copies.Done()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.keep(sc.Text())
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
	}
	copies.Add(2)
	go scan(stdout)
	go scan(stderr)
	go func() {
		copies.Wait() // Wait closes the pipes: read them to the end first
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case p.url = <-urls:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%s exited before listening: %v\n%s", name, p.cmd.ProcessState, p.output())
	case <-t.C:
		p.kill()
		return nil, fmt.Errorf("%s did not listen within %s:\n%s", name, timeout, p.output())
	}
}

func (p *proc) keep(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.tail) == 40 {
		p.tail = p.tail[1:]
	}
	p.tail = append(p.tail, line)
}

// output returns the last lines the process printed.
func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.tail, "\n")
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// kill sends SIGKILL and waits (up to 10 s) for the process to be gone.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// stop sends SIGTERM and waits up to timeout for a clean exit, then kills.
func (p *proc) stop(timeout time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if !p.cmd.ProcessState.Success() {
			return fmt.Errorf("%s exited with %v:\n%s", p.name, p.cmd.ProcessState, p.output())
		}
		return nil
	case <-time.After(timeout):
		p.kill()
		return fmt.Errorf("%s did not stop within %s of SIGTERM; killed it", p.name, timeout)
	}
}

// childEnv is this process's environment without any PATCHBAY_* setting,
// plus extra: children are configured by the flags and values given here
// only.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PATCHBAY_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// server is a Patchbay (patchbay serve) that the load tools start, kill
// and restart on one data directory and database.
type server struct {
	exe      string
	dataDir  string
	database string   // "" for SQLite in dataDir
	addr     string   // host:port; port 0 picks one at each start
	flags    []string // more serve flags
	proc     *proc
	url      string
}

func (s *server) env() []string {
	return childEnv("PATCHBAY_LOG_LEVEL=warn", "PATCHBAY_ENCRYPTION_KEYS=")
}

func (s *server) common() []string {
	args := []string{"--data-dir", s.dataDir, "--addr", s.addr}
	if s.database != "" {
		args = append(args, "--database", s.database)
	}
	return args
}

// initialise runs `patchbay init --json` and returns the admin API key.
func (s *server) initialise(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.exe, append([]string{"init", "--json"}, s.common()...)...) //nolint:gosec // exe is this program's own executable
	cmd.Env = s.env()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("patchbay init: %w\n%s", err, errb.String())
	}
	var creds struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal(out.Bytes(), &creds); err != nil {
		return "", fmt.Errorf("patchbay init --json printed no JSON: %w", err)
	} else if creds.APIKey == "" {
		return "", errors.New("patchbay init --json printed no api_key")
	}
	return creds.APIKey, nil
}

// start starts serve and waits until it listens.
func (s *server) start() error {
	args := append(append([]string{"serve"}, s.common()...), "--allow-networks", "127.0.0.0/8")
	p, err := startProc("patchbay serve", s.exe, append(args, s.flags...), s.env(), 60*time.Second)
	if err != nil {
		return err
	}
	s.proc, s.url = p, p.url
	return nil
}

// startReceiver starts `patchbay bench receiver` on a free port of
// 127.0.0.1.
func startReceiver(exe string, failRate float64) (*proc, error) {
	return startProc("bench receiver", exe, []string{"bench", "receiver", "--addr", "127.0.0.1:0",
		"--fail-rate", fmt.Sprint(failRate)}, childEnv(), 30*time.Second)
}

// receiverClient talks to a receiver's control routes.
type receiverClient struct {
	url  string
	http *http.Client
}

func (rc receiverClient) post(ctx context.Context, path string, in any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rc.url+path, body)
	if err != nil {
		return err
	}
	resp, err := rc.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("receiver %s: %s: %s", path, resp.Status, b)
	}
	return nil
}

func (rc receiverClient) setSecrets(ctx context.Context, secrets map[string]string) error {
	return rc.post(ctx, "/secret", SecretRequest{Secrets: secrets})
}

func (rc receiverClient) stats(ctx context.Context, ids bool) (*Stats, error) {
	u := rc.url + "/stats"
	if ids {
		u += "?ids=1"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := rc.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var s Stats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return nil, fmt.Errorf("receiver stats: %w", err)
	}
	return &s, nil
}

// errTimeout is returned by waitFor when the condition never held.
var errTimeout = errors.New("timed out")

// waitFor polls the receiver's counters every interval until done says so,
// or timeout passes (errTimeout, with the last counters).
func (rc receiverClient) waitFor(ctx context.Context, timeout, interval time.Duration, done func(*Stats) bool) (*Stats, error) {
	deadline := time.Now().Add(timeout)
	for {
		s, err := rc.stats(ctx, false)
		if err != nil {
			return nil, err
		}
		if done(s) {
			return s, nil
		}
		if time.Now().After(deadline) {
			return s, errTimeout
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-time.After(interval):
		}
	}
}
