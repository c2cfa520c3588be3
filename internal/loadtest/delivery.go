package loadtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/patchbay/patchbay/client"
)

// DeliveryConfig configures RunDelivery. Zero fields take the defaults
// noted.
type DeliveryConfig struct {
	Exe          string        // the patchbay executable (required)
	Engines      []string      // "sqlite" and/or "postgres"
	Events       int           // events of each throughput phase; 20000
	Rounds       int           // throughput phases, each between two baselines; 3
	Rate         float64       // events per second of the latency phase; 20
	Duration     time.Duration // length of the latency phase; 15s
	Fanout       int           // endpoints of the fan-out phase; 1000
	Concurrency  int           // raw-baseline workers; 64
	Publishers   int           // goroutines publishing batches; 4
	Batch        int           // events per batch; 100
	PayloadBytes int           // size of each event's payload; 256
	PostgresURL  string        // base URL of the Postgres server; DefaultPostgresURL
	ServeFlags   []string      // more flags for patchbay serve, such as --debug-addr
	Log          io.Writer     // progress lines; os.Stderr
}

func (c *DeliveryConfig) defaults() {
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	set(&c.Events, 20000)
	set(&c.Rounds, 3)
	set(&c.Fanout, 1000)
	set(&c.Concurrency, 64)
	set(&c.Publishers, 4)
	set(&c.Batch, 100)
	set(&c.PayloadBytes, 256)
	if c.Rate <= 0 {
		c.Rate = 20
	}
	if c.Duration <= 0 {
		c.Duration = 15 * time.Second
	}
	if c.PostgresURL == "" {
		c.PostgresURL = DefaultPostgresURL
	}
	if c.Log == nil {
		c.Log = os.Stderr
	}
	if len(c.Engines) == 0 {
		c.Engines = []string{"sqlite", "postgres"}
	}
}

// Targets of issue 4: our throughput as a share of the raw baseline, and
// the p99 publish → receive latency at 20 events/s.
var (
	RatioTargets = map[string]float64{"sqlite": 0.50, "postgres": 0.35}
	P99TargetMS  = 25.0
)

// Result is one engine's figures. The throughput and baseline figures are
// those of the round with the median ratio (see Round).
type Result struct {
	Engine                string   `json:"engine"`
	Events                int      `json:"events"`
	RawPerSec             float64  `json:"raw_baseline_per_sec"` // mean of before and after
	RawBeforePerSec       float64  `json:"raw_baseline_before_per_sec"`
	RawAfterPerSec        float64  `json:"raw_baseline_after_per_sec"`
	RawFailed             int      `json:"raw_baseline_failed"`
	ThroughputPerSec      float64  `json:"throughput_per_sec"` // delivered events/s, first publish → last receipt
	Ratio                 float64  `json:"ratio"`              // ThroughputPerSec / RawPerSec
	RatioTarget           float64  `json:"ratio_target"`
	BatchPublishPerSec    float64  `json:"batch_publish_per_sec"` // events the API accepted per second
	Rounds                []Round  `json:"rounds"`
	SingleEvents          int      `json:"single_events"`
	SinglePublishPerSec   float64  `json:"single_publish_per_sec"`
	SingleDeliveredPerSec float64  `json:"single_delivered_per_sec"`
	LatencyRate           float64  `json:"latency_rate_per_sec"`
	Latency               Latency  `json:"latency"`
	P99TargetMS           float64  `json:"p99_target_ms"`
	FanoutEndpoints       int      `json:"fanout_endpoints"`
	FanoutMS              float64  `json:"fanout_ms"` // publish start → last endpoint's receipt
	PeakRSSMiB            float64  `json:"peak_rss_mib"`
	Verified              int64    `json:"verified"`
	Invalid               int64    `json:"invalid"`
	Missing               int      `json:"missing"`
	Duplicates            int64    `json:"duplicates"`
	Errors                []string `json:"errors,omitempty"`
}

// Round is one throughput phase with the raw baselines measured right
// before and right after it. The baselines alternate with the phases (raw,
// Patchbay, raw, Patchbay, …, raw), so each baseline but the first and
// last serves two rounds.
type Round struct {
	RawBeforePerSec    float64 `json:"raw_baseline_before_per_sec"`
	RawAfterPerSec     float64 `json:"raw_baseline_after_per_sec"`
	ThroughputPerSec   float64 `json:"throughput_per_sec"`
	BatchPublishPerSec float64 `json:"batch_publish_per_sec"`
	Ratio              float64 `json:"ratio"` // against the mean of the two baselines
}

// medianRound returns the round with the median ratio (the lower middle
// one of an even number).
func medianRound(rounds []Round) Round {
	sorted := slices.Clone(rounds)
	slices.SortFunc(sorted, func(a, b Round) int { return cmp.Compare(a.Ratio, b.Ratio) })
	return sorted[(len(sorted)-1)/2]
}

// Failed reports whether a delivery was missing or unverified, or the
// run could not publish what it meant to.
func (r *Result) Failed() bool { return r.Invalid > 0 || r.Missing > 0 || len(r.Errors) > 0 }

// RunDelivery runs the delivery benchmark once per engine and returns the
// results; an engine that could not be run at all is an error (the results
// so far are returned with it).
func RunDelivery(ctx context.Context, cfg DeliveryConfig) ([]*Result, error) {
	cfg.defaults()
	var out []*Result
	for _, engine := range cfg.Engines {
		if engine != "sqlite" && engine != "postgres" {
			return out, fmt.Errorf("unknown engine %q: sqlite or postgres", engine)
		}
		r, err := runEngine(ctx, cfg, engine)
		if err != nil {
			return out, fmt.Errorf("%s: %w", engine, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// bench is one engine's run: its server, receiver and API client.
type bench struct {
	cfg    DeliveryConfig
	engine string
	srv    *server
	rc     receiverClient
	api    *client.Client
	secret string // the main endpoint's signing secret
	res    *Result
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.cfg.Log, "[%s] "+format+"\n", append([]any{b.engine}, args...)...)
}

func (b *bench) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	b.res.Errors = append(b.res.Errors, msg)
	b.logf("ERROR: %s", msg)
}

func runEngine(ctx context.Context, cfg DeliveryConfig, engine string) (*Result, error) {
	dir, err := os.MkdirTemp("", "patchbay-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	srv := &server{exe: cfg.Exe, dataDir: dir, addr: "127.0.0.1:0", flags: cfg.ServeFlags}
	if engine == "postgres" {
		u, drop, err := NewSchema(ctx, cfg.PostgresURL)
		if err != nil {
			return nil, err
		}
		defer drop()
		srv.database = u
	}
	b := &bench{cfg: cfg, engine: engine, srv: srv,
		res: &Result{Engine: engine, Events: cfg.Events, RatioTarget: RatioTargets[engine], P99TargetMS: P99TargetMS,
			LatencyRate: cfg.Rate}}

	adminKey, err := srv.initialise(ctx)
	if err != nil {
		return nil, err
	}
	if err := srv.start(); err != nil {
		return nil, err
	}
	defer func() {
		if err := srv.proc.stop(20 * time.Second); err != nil {
			b.logf("warning: %v", err)
		}
	}()
	recv, err := startReceiver(cfg.Exe, 0)
	if err != nil {
		return nil, err
	}
	defer func() { _ = recv.stop(10 * time.Second) }()
	b.rc = receiverClient{url: recv.url, http: httpClient(4, 30*time.Second)}
	b.logf("patchbay at %s (pid %d), receiver at %s", srv.url, srv.proc.pid(), recv.url)

	// The set-up key is limited to 1200 requests a minute; the bench uses a
	// key of its own with a high limit.
	key, err := client.New(srv.url, adminKey).CreateAPIKey(ctx, client.CreateAPIKeyRequest{Name: "bench", RateLimit: 1_000_000})
	if err != nil {
		return nil, fmt.Errorf("create the bench API key: %w", err)
	}
	b.api = apiClient(srv.url, key.Key, 64)
	desc := "bench receiver"
	hook := recv.url + "/hook"
	var ep client.EndpointSecret
	if err := b.api.Do(ctx, http.MethodPost, "/v1/endpoints", nil,
		client.EndpointRequest{URL: &hook, Description: &desc, EventTypes: []string{"bench.event"}}, &ep); err != nil {
		return nil, fmt.Errorf("create the endpoint: %w", err)
	}
	if err := b.rc.setSecrets(ctx, map[string]string{"": ep.Secret}); err != nil {
		return nil, err
	}
	b.secret = ep.Secret

	// Latency first: it measures a moderate, steady load, not the
	// aftermath of the throughput rounds' bursts (after them, PostgreSQL's
	// autovacuum of tens of thousands of updated rows put p99 at 40-55 ms).
	for _, step := range []func(context.Context) error{b.latency, b.rounds, b.singles, b.fanout} {
		if err := step(ctx); err != nil {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}

	if rss, err := PeakRSS(srv.proc.pid()); err != nil {
		b.logf("peak RSS unknown: %v", err)
	} else {
		b.res.PeakRSSMiB = float64(rss) / (1 << 20)
	}
	final, err := b.rc.stats(ctx, false)
	if err != nil {
		return nil, err
	}
	b.res.Verified, b.res.Invalid, b.res.Duplicates = final.Verified, final.Invalid, final.Duplicates
	return b.res, nil
}

// waitUnique waits until the receiver holds want more unique keys than
// base; it returns the receipts either way.
func (b *bench) waitUnique(ctx context.Context, base int64, want int, timeout time.Duration) (map[string]Receipt, error) {
	_, err := b.rc.waitFor(ctx, timeout, 10*time.Millisecond, func(s *Stats) bool { return s.Unique >= base+int64(want) })
	if err != nil && !errors.Is(err, errTimeout) {
		return nil, err
	}
	if err != nil {
		b.logf("waited %s: not every delivery arrived", timeout)
	}
	s, err := b.rc.stats(ctx, true)
	if err != nil {
		return nil, err
	}
	return s.IDs, nil
}

func (b *bench) unique(ctx context.Context) (int64, error) {
	s, err := b.rc.stats(ctx, false)
	if err != nil {
		return 0, err
	}
	return s.Unique, nil
}

// rounds measures throughput against the raw baseline, plain signed POSTs
// to the same receiver, in Rounds throughput phases that alternate with
// baselines. A shared machine's speed drifts within a run, so each phase is
// compared with the mean of the baselines right before and right after it,
// and the result is the round with the median ratio: one slow moment moves
// one round, not the figure.
func (b *bench) rounds(ctx context.Context) error {
	before, err := b.raw(ctx, "raw0_", "before round 1")
	if err != nil {
		return err
	}
	for i := range b.cfg.Rounds {
		delivered, accepted, err := b.throughput(ctx, i+1)
		if err != nil {
			return err
		}
		// Patchbay records the last attempts for a moment after their
		// receipts; that work must not slow the baseline down.
		time.Sleep(2 * time.Second)
		after, err := b.raw(ctx, fmt.Sprintf("raw%d_", i+1), fmt.Sprintf("after round %d", i+1))
		if err != nil {
			return err
		}
		r := Round{RawBeforePerSec: before, RawAfterPerSec: after, ThroughputPerSec: delivered, BatchPublishPerSec: accepted}
		if mean := (before + after) / 2; mean > 0 {
			r.Ratio = delivered / mean
		}
		b.res.Rounds = append(b.res.Rounds, r)
		b.logf("round %d: %.1f%% of the baseline (mean of %.0f before and %.0f after)",
			i+1, 100*r.Ratio, before, after)
		before = after
	}
	m := medianRound(b.res.Rounds)
	b.res.RawBeforePerSec, b.res.RawAfterPerSec = m.RawBeforePerSec, m.RawAfterPerSec
	b.res.RawPerSec = (m.RawBeforePerSec + m.RawAfterPerSec) / 2
	b.res.ThroughputPerSec, b.res.BatchPublishPerSec, b.res.Ratio = m.ThroughputPerSec, m.BatchPublishPerSec, m.Ratio
	b.logf("throughput: %.1f%% of the baseline (the median of %d rounds)", 100*b.res.Ratio, len(b.res.Rounds))
	return nil
}

// raw posts Events signed webhooks with ids prefix + index and returns
// POSTs per second.
func (b *bench) raw(ctx context.Context, prefix, when string) (float64, error) {
	n := b.cfg.Events
	b.logf("raw baseline (%s): %d signed POSTs from %d keep-alive workers", when, n, b.cfg.Concurrency)
	base, err := b.unique(ctx)
	if err != nil {
		return 0, err
	}
	perSec, failed, err := rawBaseline(ctx, b.rc.url+"/hook", b.secret, prefix, n, b.cfg.Concurrency, b.cfg.PayloadBytes)
	if err != nil {
		return 0, fmt.Errorf("raw baseline: %w", err)
	}
	b.res.RawFailed += failed
	if _, err := b.waitUnique(ctx, base, n-failed, 10*time.Second); err != nil {
		return 0, err
	}
	if failed > 0 {
		b.fail("raw baseline (%s): %d of %d POSTs failed", when, failed, n)
	}
	b.logf("raw baseline (%s): %.0f POSTs/s", when, perSec)
	return perSec, nil
}

// check records publish errors and missing deliveries of p.
func (b *bench) check(phase string, p *published, missing int) {
	for i, e := range p.errors {
		if i == 3 {
			b.fail("%s: %d more publish errors", phase, len(p.errors)-3)
			break
		}
		b.fail("%s: %s", phase, e)
	}
	if missing > 0 {
		b.res.Missing += missing
		b.fail("%s: %d of %d accepted events never reached the receiver", phase, missing, len(p.ids))
	}
}

// throughput publishes Events in batches as fast as the API takes them,
// times first publish → last receipt, and returns delivered and accepted
// events per second.
func (b *bench) throughput(ctx context.Context, round int) (delivered, accepted float64, err error) {
	n := b.cfg.Events
	b.logf("round %d: %d events in batches of %d from %d publishers", round, n, b.cfg.Batch, b.cfg.Publishers)
	base, err := b.unique(ctx)
	if err != nil {
		return 0, 0, err
	}
	p := publishBatches(ctx, b.api, "bench.event", n, b.cfg.Batch, b.cfg.Publishers, b.cfg.PayloadBytes)
	accepted = float64(len(p.ids)) / p.end.Sub(p.begin).Seconds()
	receipts, err := b.waitUnique(ctx, base, len(p.ids), 60*time.Second+time.Duration(n)*2*time.Millisecond)
	if err != nil {
		return 0, 0, err
	}
	missing, last, _ := arrivals(p, receipts, "")
	b.check(fmt.Sprintf("round %d", round), p, missing)
	if len(p.ids) > 0 && last.After(p.begin) {
		delivered = float64(len(p.ids)-missing) / last.Sub(p.begin).Seconds()
	}
	b.logf("round %d: %.0f delivered events/s (API accepted %.0f events/s)", round, delivered, accepted)
	return delivered, accepted, nil
}

// singles publishes a tenth of Events (at least 500) one request each.
func (b *bench) singles(ctx context.Context) error {
	n := min(b.cfg.Events, max(b.cfg.Events/10, 500))
	b.logf("single publishes: %d events, one request each, from 16 publishers", n)
	base, err := b.unique(ctx)
	if err != nil {
		return err
	}
	p := publishSingles(ctx, b.api, "bench.event", n, 16, b.cfg.PayloadBytes)
	receipts, err := b.waitUnique(ctx, base, len(p.ids), 60*time.Second+time.Duration(n)*5*time.Millisecond)
	if err != nil {
		return err
	}
	missing, last, _ := arrivals(p, receipts, "")
	b.check("single publishes", p, missing)
	b.res.SingleEvents = len(p.ids)
	b.res.SinglePublishPerSec = float64(len(p.ids)) / p.end.Sub(p.begin).Seconds()
	if last.After(p.begin) {
		b.res.SingleDeliveredPerSec = float64(len(p.ids)-missing) / last.Sub(p.begin).Seconds()
	}
	b.logf("single publishes: API accepted %.0f events/s, delivered %.0f events/s",
		b.res.SinglePublishPerSec, b.res.SingleDeliveredPerSec)
	return nil
}

// latency publishes at a fixed moderate rate and measures, per event, the
// receiver's first receipt minus the start of its publish request.
func (b *bench) latency(ctx context.Context) error {
	b.logf("latency: %.0f events/s for %s", b.cfg.Rate, b.cfg.Duration)
	base, err := b.unique(ctx)
	if err != nil {
		return err
	}
	p := publishPaced(ctx, b.api, "bench.event", b.cfg.Rate, b.cfg.Duration, b.cfg.PayloadBytes)
	receipts, err := b.waitUnique(ctx, base, len(p.ids), 30*time.Second)
	if err != nil {
		return err
	}
	missing, _, ms := arrivals(p, receipts, "")
	b.check("latency", p, missing)
	b.res.Latency = Summarise(ms)
	l := b.res.Latency
	b.logf("latency: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms (max %.1f ms, %d events)", l.P50, l.P95, l.P99, l.Max, l.Count)
	return nil
}
