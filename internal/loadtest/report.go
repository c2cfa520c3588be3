package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the JSON document of a delivery benchmark run.
type Report struct {
	StartedAt time.Time      `json:"started_at"`
	GoVersion string         `json:"go_version"`
	OS        string         `json:"os"`
	CPUs      int            `json:"cpus"`
	Config    map[string]any `json:"config"`
	Results   []*Result      `json:"results"`
}

// NewReport describes this machine and cfg (after defaults).
func NewReport(cfg DeliveryConfig, started time.Time, results []*Result) *Report {
	cfg.defaults()
	return &Report{StartedAt: started.UTC(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		CPUs: runtime.NumCPU(), Results: results, Config: map[string]any{
			"events": cfg.Events, "latency_rate_per_sec": cfg.Rate, "latency_duration": cfg.Duration.String(),
			"fanout": cfg.Fanout, "raw_workers": cfg.Concurrency, "publishers": cfg.Publishers,
			"batch": cfg.Batch, "payload_bytes": cfg.PayloadBytes, "engines": cfg.Engines,
		}}
}

// WriteFile writes the report as indented JSON.
func (r *Report) WriteFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

// met says whether a target was met, for the table.
func met(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// PrintResult prints one engine's figures as a table, with the targets.
func PrintResult(w io.Writer, r *Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\n== %s: %d events, %d CPUs ==\n", r.Engine, r.Events, runtime.NumCPU())
	fmt.Fprintf(tw, "throughput (batch publish → receipt)\t%.0f events/s\tthe round with the median ratio\n", r.ThroughputPerSec)
	fmt.Fprintf(tw, "raw baseline (plain signed POSTs)\t%.0f requests/s\tmean of %.0f before and %.0f after that round\n",
		r.RawPerSec, r.RawBeforePerSec, r.RawAfterPerSec)
	fmt.Fprintf(tw, "ratio\t%.1f%%\ttarget ≥ %.0f%%: %s\n", 100*r.Ratio, 100*r.RatioTarget, met(r.Ratio >= r.RatioTarget))
	ratios := make([]string, len(r.Rounds))
	for i, rd := range r.Rounds {
		ratios[i] = fmt.Sprintf("%.1f%%", 100*rd.Ratio)
	}
	fmt.Fprintf(tw, "ratio of each round\t%s\t\n", strings.Join(ratios, ", "))
	fmt.Fprintf(tw, "API accepted, batches of 100\t%.0f events/s\t\n", r.BatchPublishPerSec)
	fmt.Fprintf(tw, "single publishes (%d events)\t%.0f accepted/s, %.0f delivered/s\t\n",
		r.SingleEvents, r.SinglePublishPerSec, r.SingleDeliveredPerSec)
	fmt.Fprintf(tw, "latency at %.0f/s, p50 / p95 / p99\t%.1f / %.1f / %.1f ms\ttarget p99 ≤ %.0f ms: %s\n",
		r.LatencyRate, r.Latency.P50, r.Latency.P95, r.Latency.P99, r.P99TargetMS, met(r.Latency.P99 <= r.P99TargetMS && r.Latency.Count > 0))
	fmt.Fprintf(tw, "latency max / mean (%d events)\t%.1f / %.1f ms\t\n", r.Latency.Count, r.Latency.Max, r.Latency.Mean)
	fmt.Fprintf(tw, "fan-out, 1 event → %d endpoints\t%.0f ms\t\n", r.FanoutEndpoints, r.FanoutMS)
	fmt.Fprintf(tw, "peak RSS of patchbay serve\t%.1f MiB\t\n", r.PeakRSSMiB)
	fmt.Fprintf(tw, "verified receipts\t%d\t\n", r.Verified)
	fmt.Fprintf(tw, "invalid signatures\t%d\tmust be 0: %s\n", r.Invalid, met(r.Invalid == 0))
	fmt.Fprintf(tw, "missing deliveries\t%d\tmust be 0: %s\n", r.Missing, met(r.Missing == 0))
	fmt.Fprintf(tw, "duplicate receipts\t%d\t\n", r.Duplicates)
	tw.Flush()
	for _, e := range r.Errors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
}
