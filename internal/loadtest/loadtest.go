// Package loadtest measures a real Patchbay from the outside: it starts the
// patchbay executable (serve, and a webhook receiver in a process of its
// own), publishes events through the REST API, and checks at the receiver
// that every delivery arrived, signed. RunDelivery measures throughput
// against a raw HTTP baseline, latency, fan-out and memory; RunCrash kills
// the server with SIGKILL under load and checks that no accepted event is
// lost. Everything it dials or listens on is on 127.0.0.1.
package loadtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultPostgresURL is the server the benchmarks use on Postgres unless
// told otherwise (the test server of internal/postgres/pgtest).
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Percentile returns the p-th percentile (0 < p <= 100) of values by the
// nearest-rank method: the smallest value at least p% of the values are
// less than or equal to. It returns 0 for no values. values is not changed.
func Percentile(values []float64, p float64) float64 {
	if len(values) == 0 {
		return 0
	}
	s := slices.Clone(values)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// Latency summarises latencies in milliseconds.
type Latency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
	Mean  float64 `json:"mean_ms"`
}

// Summarise returns the percentiles, maximum and mean of ms.
func Summarise(ms []float64) Latency {
	l := Latency{Count: len(ms), P50: Percentile(ms, 50), P95: Percentile(ms, 95), P99: Percentile(ms, 99)}
	for _, v := range ms {
		l.Max = max(l.Max, v)
		l.Mean += v
	}
	if len(ms) > 0 {
		l.Mean /= float64(len(ms))
	}
	return l
}

// PeakRSS returns a process's peak resident set size in bytes (VmHWM in
// /proc/<pid>/status; Linux only).
func PeakRSS(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// FreePort returns a port free on 127.0.0.1 now, for a server that must
// come back on the same port after a restart.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("listener address %v is not TCP", l.Addr())
	}
	return addr.Port, nil
}

// RequireLoopback returns an error unless addr (host:port) names 127.0.0.1
// (or localhost): the load tools send traffic nowhere else.
func RequireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if host != "127.0.0.1" && host != "localhost" {
		return fmt.Errorf("address %q: the load tools only use 127.0.0.1", addr)
	}
	return nil
}

// NewSchema creates a fresh schema on the Postgres server at base (a
// postgres:// URL on 127.0.0.1) and returns a URL whose search_path is that
// schema, and a function that drops it.
func NewSchema(ctx context.Context, base string) (string, func(), error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, fmt.Errorf("the Postgres URL must be postgres://…")
	}
	if err := RequireLoopback(net.JoinHostPort(u.Hostname(), "0")); err != nil {
		return "", nil, fmt.Errorf("the Postgres server must be on 127.0.0.1")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "pbbench_" + hex.EncodeToString(b)
	ident := pgx.Identifier{schema}.Sanitize()
	if err := execSQL(ctx, base, "CREATE SCHEMA "+ident); err != nil {
		return "", nil, fmt.Errorf("postgres at %s: %w", u.Redacted(), err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := execSQL(ctx, base, "DROP SCHEMA IF EXISTS "+ident+" CASCADE"); err != nil {
			fmt.Fprintf(os.Stderr, "drop schema %s: %v\n", schema, err)
		}
	}
	return u.String(), drop, nil
}

func execSQL(ctx context.Context, base, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}
