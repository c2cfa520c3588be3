package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/patchbay/patchbay/client"
)

// CrashConfig configures RunCrash. Zero fields take the defaults noted.
type CrashConfig struct {
	Exe         string        // the patchbay executable (required)
	Engine      string        // "sqlite" (default) or "postgres"
	Kills       int           // SIGKILLs during the run; 5
	Events      int           // events published; 5000
	Rate        float64       // events per second; 250
	Seed        int64         // chooses the kill moments; from the clock when 0
	Lease       time.Duration // serve --delivery-lease; 15s
	Wait        time.Duration // bound on the wait for deliveries after publishing; 3m
	FailRate    float64       // share of webhooks the receiver answers 500
	PostgresURL string        // base URL of the Postgres server; DefaultPostgresURL
	Log         io.Writer     // progress lines; os.Stderr
}

// CrashResult is what RunCrash found.
type CrashResult struct {
	Engine         string  `json:"engine"`
	Seed           int64   `json:"seed"`
	Kills          int     `json:"kills"`
	Events         int     `json:"events"`
	Accepted       int     `json:"accepted"`        // events the API answered 202 for
	NotAccepted    int     `json:"not_accepted"`    // gave up on, or refused with a 4xx
	PublishRetries int     `json:"publish_retries"` // requests repeated with the same idempotency key
	Delivered      int     `json:"delivered"`       // accepted events the receiver got, verified
	Lost           int     `json:"lost"`            // accepted and never received: must be 0
	Duplicated     int     `json:"duplicated"`      // events received more than once
	ExtraReceipts  int64   `json:"extra_receipts"`  // receipts beyond the first, in all
	Unacknowledged int     `json:"unacknowledged"`  // received, but their publish never got an answer
	Invalid        int64   `json:"invalid"`         // receipts whose signature failed
	RecoverySecs   float64 `json:"recovery_seconds"`
}

func (c *CrashConfig) defaults() {
	if c.Engine == "" {
		c.Engine = "sqlite"
	}
	if c.Kills < 0 {
		c.Kills = 0
	}
	if c.Events <= 0 {
		c.Events = 5000
	}
	if c.Rate <= 0 {
		c.Rate = 250
	}
	if c.Seed == 0 {
		c.Seed = time.Now().UnixNano()
	}
	if c.Lease <= 0 {
		c.Lease = 15 * time.Second
	}
	if c.Wait <= 0 {
		c.Wait = 3 * time.Minute
	}
	if c.PostgresURL == "" {
		c.PostgresURL = DefaultPostgresURL
	}
	if c.Log == nil {
		c.Log = os.Stderr
	}
}

// RunCrash publishes events at a steady rate while killing the server
// with SIGKILL at random (seeded) moments and restarting it on the same
// data and port, then waits until every event the API accepted reached the
// receiver, or cfg.Wait passes. Requests that failed while the server was
// down are repeated with the same idempotency key. It returns an error if
// the run could not be made; a lost event is reported in the result.
func RunCrash(ctx context.Context, cfg CrashConfig) (*CrashResult, error) {
	cfg.defaults()
	if cfg.Engine != "sqlite" && cfg.Engine != "postgres" {
		return nil, fmt.Errorf("unknown engine %q: sqlite or postgres", cfg.Engine)
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(cfg.Log, "[crash %s] "+format+"\n", append([]any{cfg.Engine}, args...)...)
	}
	res := &CrashResult{Engine: cfg.Engine, Seed: cfg.Seed, Events: cfg.Events}
	dir, err := os.MkdirTemp("", "patchbay-crash-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	srv := &server{exe: cfg.Exe, dataDir: dir, addr: "127.0.0.1:" + strconv.Itoa(port), flags: []string{
		"--delivery-lease", cfg.Lease.String(), "--retry-schedule", "1s,2s,4s", "--max-attempts", "50"}}
	if cfg.Engine == "postgres" {
		u, drop, err := NewSchema(ctx, cfg.PostgresURL)
		if err != nil {
			return nil, err
		}
		defer drop()
		srv.database = u
	}
	adminKey, err := srv.initialise(ctx)
	if err != nil {
		return nil, err
	}
	if err := srv.start(); err != nil {
		return nil, err
	}
	defer func() { _ = srv.proc.stop(20 * time.Second) }()
	recv, err := startReceiver(cfg.Exe, cfg.FailRate)
	if err != nil {
		return nil, err
	}
	defer func() { _ = recv.stop(10 * time.Second) }()
	rc := receiverClient{url: recv.url, http: httpClient(2, 30*time.Second)}

	key, err := client.New(srv.url, adminKey).CreateAPIKey(ctx, client.CreateAPIKeyRequest{Name: "crash test", RateLimit: 1_000_000})
	if err != nil {
		return nil, fmt.Errorf("create the API key: %w", err)
	}
	api := apiClient(srv.url, key.Key, 32)
	api.HTTPClient.Timeout = 10 * time.Second
	hook, timeout := recv.url+"/hook", 5
	var ep client.EndpointSecret
	if err := api.Do(ctx, http.MethodPost, "/v1/endpoints", nil,
		client.EndpointRequest{URL: &hook, EventTypes: []string{"crash.event"}, TimeoutSeconds: &timeout}, &ep); err != nil {
		return nil, fmt.Errorf("create the endpoint: %w", err)
	}
	if err := rc.setSecrets(ctx, map[string]string{"": ep.Secret}); err != nil {
		return nil, err
	}
	logf("patchbay at %s (lease %s), receiver at %s; seed %d; %d events at %.0f/s, %d kills",
		srv.url, cfg.Lease, recv.url, cfg.Seed, cfg.Events, cfg.Rate, cfg.Kills)

	pub := &crashPublisher{api: api, deadline: time.Now().Add(time.Duration(float64(cfg.Events)/cfg.Rate*float64(time.Second)) + 2*time.Minute)}
	pubCtx, stopPublishing := context.WithCancel(ctx)
	defer stopPublishing()
	pubDone := make(chan struct{})
	go func() {
		pub.run(pubCtx, cfg.Events, cfg.Rate)
		close(pubDone)
	}()
	if err := killLoop(ctx, srv, cfg, logf); err != nil {
		stopPublishing() // the server is down for good: do not retry into it
		<-pubDone
		return nil, err
	}
	<-pubDone
	res.Kills = cfg.Kills
	res.Accepted, res.NotAccepted, res.PublishRetries = len(pub.accepted), pub.refused, pub.retries
	logf("publishing done: %d accepted, %d not accepted, %d requests repeated", res.Accepted, res.NotAccepted, res.PublishRetries)

	// Wait until every accepted event arrived, or the bound passes.
	start := time.Now()
	var stats *Stats
	for {
		if stats, err = rc.stats(ctx, true); err != nil {
			return nil, err
		}
		if lost := countLost(pub.accepted, stats.IDs); lost == 0 || time.Since(start) > cfg.Wait || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Second)
	}
	res.RecoverySecs = time.Since(start).Seconds()
	res.Invalid, res.ExtraReceipts = stats.Invalid, stats.Duplicates
	res.Lost = countLost(pub.accepted, stats.IDs)
	res.Delivered = res.Accepted - res.Lost
	accepted := make(map[string]bool, len(pub.accepted))
	for _, id := range pub.accepted {
		accepted[id] = true
	}
	for id, r := range stats.IDs {
		if r.Count > 1 {
			res.Duplicated++
		}
		if !accepted[id] {
			res.Unacknowledged++
		}
	}
	return res, nil
}

func countLost(accepted map[string]string, ids map[string]Receipt) int {
	lost := 0
	for _, id := range accepted {
		if _, ok := ids[id]; !ok {
			lost++
		}
	}
	return lost
}

// killLoop kills the server cfg.Kills times at seeded random moments
// spread over the publishing time, restarting it each time on the same
// data directory and port.
func killLoop(ctx context.Context, srv *server, cfg CrashConfig, logf func(string, ...any)) error {
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15)) //nolint:gosec // seeded on purpose: a run is repeatable
	span := time.Duration(float64(cfg.Events) / cfg.Rate * float64(time.Second))
	begin := time.Now()
	for i := 1; i <= cfg.Kills && ctx.Err() == nil; i++ {
		wait := time.Duration(float64(span) / float64(cfg.Kills+1) * (0.5 + rng.Float64()))
		time.Sleep(wait)
		pid := srv.proc.pid()
		srv.proc.kill()
		killedAt := time.Now()
		var err error
		for try := 0; try < 5; try++ { // the port may take a moment to be free again
			if err = srv.start(); err == nil {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		if err != nil {
			return fmt.Errorf("restart after kill %d: %w", i, err)
		}
		logf("kill %d/%d at +%.1fs (pid %d, SIGKILL); back in %.2fs as pid %d", i, cfg.Kills,
			killedAt.Sub(begin).Seconds(), pid, time.Since(killedAt).Seconds(), srv.proc.pid())
	}
	return nil
}

// crashPublisher publishes events with idempotency keys, repeating a
// request that failed (server down, or killed mid-request) with the same
// key until the API accepts it or the deadline passes.
type crashPublisher struct {
	api      *client.Client
	deadline time.Time

	mu       sync.Mutex
	accepted map[string]string // idempotency key → event id
	refused  int
	retries  int
}

func (p *crashPublisher) run(ctx context.Context, n int, rate float64) {
	p.accepted = make(map[string]string, n)
	todo := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range todo {
				p.publish(ctx, i)
			}
		})
	}
	interval := time.Duration(float64(time.Second) / rate)
	begin := time.Now()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		if wait := time.Until(begin.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		todo <- i // blocks while every worker retries: the pace resumes after
	}
	close(todo)
	wg.Wait()
}

func (p *crashPublisher) publish(ctx context.Context, i int) {
	key := "crash-" + strconv.Itoa(i)
	req := client.EventRequest{Type: "crash.event", Payload: payload(i, 128), IdempotencyKey: key}
	for try := 0; ; try++ {
		id, err := publishOne(ctx, p.api, req)
		p.mu.Lock()
		switch {
		case err == nil:
			p.accepted[key] = id
		case permanent(err) || time.Now().After(p.deadline) || ctx.Err() != nil:
			p.refused++
		default:
			p.retries++
		}
		p.mu.Unlock()
		if err == nil || permanent(err) || time.Now().After(p.deadline) || ctx.Err() != nil {
			return
		}
		time.Sleep(time.Duration(min(50*(try+1), 500)) * time.Millisecond)
	}
}

// permanent reports whether a publish error will not go away by trying
// again: a 4xx other than 408 and 429.
func permanent(err error) bool {
	var ce *client.Error
	return errors.As(err, &ce) && ce.Status >= 400 && ce.Status < 500 &&
		ce.Status != http.StatusRequestTimeout && ce.Status != http.StatusTooManyRequests
}

// PrintCrash prints a crash test's figures.
func PrintCrash(w io.Writer, r *CrashResult) {
	fmt.Fprintf(w, "\n== crash test, %s: seed %d, %d kills, %d events ==\n", r.Engine, r.Seed, r.Kills, r.Events)
	fmt.Fprintf(w, "accepted        %d\n", r.Accepted)
	fmt.Fprintf(w, "not accepted    %d (gave up or refused; %d requests repeated with the same key)\n", r.NotAccepted, r.PublishRetries)
	fmt.Fprintf(w, "delivered       %d\n", r.Delivered)
	fmt.Fprintf(w, "lost            %d   must be 0: %s\n", r.Lost, met(r.Lost == 0))
	fmt.Fprintf(w, "duplicated      %d events (%d extra receipts)\n", r.Duplicated, r.ExtraReceipts)
	fmt.Fprintf(w, "unacknowledged  %d (delivered, but their publish got no answer)\n", r.Unacknowledged)
	fmt.Fprintf(w, "invalid         %d   must be 0: %s\n", r.Invalid, met(r.Invalid == 0))
	fmt.Fprintf(w, "waited          %.1f s after publishing for the last deliveries\n", r.RecoverySecs)
}
