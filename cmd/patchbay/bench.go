package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/patchbay/patchbay/internal/delivery"
	"github.com/patchbay/patchbay/internal/loadtest"
)

// benchCmd groups the load tools of issue 4. They run this same
// executable as the server and as the receiver, on 127.0.0.1 only.
type benchCmd struct {
	Receiver benchReceiverCmd `cmd:"" help:"Run a webhook receiver that verifies every signature and counts receipts (GET /stats)."`
	Delivery benchDeliveryCmd `cmd:"" help:"Measure delivery throughput against a raw HTTP baseline, latency, fan-out and memory."`
	Crash    benchCrashCmd    `cmd:"" help:"Kill -9 the server under load, restart it, and check no accepted event is lost."`
}

type benchReceiverCmd struct {
	Secret   string  `help:"Signing secret (whsec_…) for webhooks without ?ep=; more can be set with POST /secret."`
	FailRate float64 `name:"fail-rate" default:"0" help:"Share (0 to 1) of verified webhooks to answer 500, so they are retried."`
}

// Run serves the receiver on --addr (127.0.0.1 only) until interrupted.
func (c *benchReceiverCmd) Run(ctx context.Context, g *Globals) error {
	if err := loadtest.RequireLoopback(g.Addr); err != nil {
		return err
	}
	if c.Secret != "" {
		if err := delivery.ValidateSecret(c.Secret); err != nil {
			return err
		}
	}
	if c.FailRate < 0 || c.FailRate > 1 {
		return errors.New("--fail-rate must be between 0 and 1")
	}
	l, err := net.Listen("tcp", g.Addr)
	if err != nil {
		return err
	}
	r := loadtest.NewReceiver(c.Secret, c.FailRate)
	srv := &http.Server{
		Handler:           r.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute, // senders keep their connections
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(newLogger(g).Handler(), slog.LevelWarn),
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	fmt.Fprintf(g.stdout, "Receiver is listening on http://%s\n", l.Addr())
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type benchDeliveryCmd struct {
	Events      int           `default:"20000" help:"Events for each throughput phase (and POSTs for each raw baseline)."`
	Rounds      int           `default:"3" help:"Throughput phases, alternating with raw baselines; the round with the median ratio is reported."`
	RateEvents  float64       `name:"rate-events" default:"20" help:"Events per second in the latency phase."`
	Duration    time.Duration `default:"15s" help:"Length of the latency phase."`
	Engines     string        `default:"sqlite,postgres" help:"Engines to measure, comma-separated: sqlite, postgres."`
	Fanout      int           `default:"1000" help:"Endpoints that one event fans out to."`
	Publishers  int           `default:"4" help:"Clients publishing batches at once in the throughput phase."`
	Batch       int           `default:"100" help:"Events per publish request in the throughput phase."`
	Out         string        `name:"out" placeholder:"FILE" help:"Write every figure as JSON to FILE (--json prints it instead of the tables)."`
	PostgresURL string        `name:"postgres-url" env:"PATCHBAY_TEST_POSTGRES" default:"postgres://postgres@127.0.0.1:5432/test?sslmode=disable" help:"Postgres server (on 127.0.0.1) to make a fresh schema on."`
	ServeFlags  []string      `name:"serve-flag" placeholder:"FLAG" help:"A flag for the patchbay serve under test, such as --serve-flag=--debug-addr=127.0.0.1:6060 to profile it; repeatable."`
}

// Run runs the delivery benchmark. It fails if a delivery was missing or
// unverified; missed performance targets are only printed.
func (c *benchDeliveryCmd) Run(ctx context.Context, g *Globals) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cfg := loadtest.DeliveryConfig{Exe: exe, Events: c.Events, Rounds: c.Rounds, Rate: c.RateEvents, Duration: c.Duration,
		Fanout: c.Fanout, Publishers: c.Publishers, Batch: c.Batch, PostgresURL: c.PostgresURL, ServeFlags: c.ServeFlags, Log: g.stderr}
	for e := range strings.SplitSeq(c.Engines, ",") {
		if e = strings.TrimSpace(e); e != "" {
			cfg.Engines = append(cfg.Engines, e)
		}
	}
	started := time.Now()
	results, runErr := loadtest.RunDelivery(ctx, cfg)
	report := loadtest.NewReport(cfg, started, results)
	if g.JSON {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			loadtest.PrintResult(g.stdout, r)
		}
		fmt.Fprintf(g.stdout, "\nTargets (issue 4): throughput ≥ 50%% of the raw baseline on SQLite, ≥ 35%% on Postgres; "+
			"publish → receive p99 ≤ 25 ms at 20 events/s; no delivery missing or unsigned.\n")
	}
	if c.Out != "" {
		if err := report.WriteFile(c.Out); err != nil {
			return err
		}
		fmt.Fprintf(g.stderr, "wrote %s\n", c.Out)
	}
	if runErr != nil {
		return runErr
	}
	for _, r := range results {
		if r.Failed() {
			return fmt.Errorf("%s: %d deliveries missing, %d invalid signatures, %d errors", r.Engine, r.Missing, r.Invalid, len(r.Errors))
		}
	}
	return nil
}

type benchCrashCmd struct {
	Engine      string        `default:"sqlite" enum:"sqlite,postgres" help:"Engine: sqlite or postgres."`
	Kills       int           `default:"5" help:"Times the server is killed with SIGKILL and restarted."`
	Events      int           `default:"5000" help:"Events published."`
	Rate        float64       `default:"250" help:"Events per second published."`
	Seed        int64         `help:"Seed of the kill moments; from the clock when 0 (printed either way)."`
	Lease       time.Duration `default:"15s" help:"serve --delivery-lease: how soon a delivery in flight at a kill is taken up again."`
	Wait        time.Duration `default:"3m" help:"Longest wait, after publishing, for the last deliveries."`
	FailRate    float64       `name:"fail-rate" default:"0" help:"Share of webhooks the receiver answers 500, to mix retries in."`
	PostgresURL string        `name:"postgres-url" env:"PATCHBAY_TEST_POSTGRES" default:"postgres://postgres@127.0.0.1:5432/test?sslmode=disable" help:"Postgres server (on 127.0.0.1) to make a fresh schema on."`
}

// Run runs the crash test; it fails if an accepted event was lost.
func (c *benchCrashCmd) Run(ctx context.Context, g *Globals) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	res, err := loadtest.RunCrash(ctx, loadtest.CrashConfig{Exe: exe, Engine: c.Engine, Kills: c.Kills, Events: c.Events,
		Rate: c.Rate, Seed: c.Seed, Lease: c.Lease, Wait: c.Wait, FailRate: c.FailRate, PostgresURL: c.PostgresURL,
		Log: g.stderr})
	if err != nil {
		return err
	}
	if g.JSON {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		loadtest.PrintCrash(g.stdout, res)
	}
	if res.Lost > 0 || res.Invalid > 0 {
		return fmt.Errorf("%d accepted events lost, %d invalid signatures", res.Lost, res.Invalid)
	}
	return nil
}
