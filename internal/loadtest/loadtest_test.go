package loadtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/patchbay/patchbay/internal/delivery"
)

func TestMedianRound(t *testing.T) {
	t.Parallel()
	r := func(ratio float64) Round { return Round{Ratio: ratio, ThroughputPerSec: 1000 * ratio} }
	for _, tt := range []struct {
		name   string
		rounds []Round
		want   float64
	}{
		{"one", []Round{r(0.4)}, 0.4},
		{"three, unsorted", []Round{r(0.6), r(0.3), r(0.5)}, 0.5},
		{"two: the lower", []Round{r(0.7), r(0.5)}, 0.5},
		{"five with an outlier", []Round{r(0.52), r(0.1), r(0.55), r(0.51), r(0.9)}, 0.52},
	} {
		in := slices.Clone(tt.rounds)
		got := medianRound(tt.rounds)
		if got.Ratio != tt.want || got.ThroughputPerSec != 1000*tt.want {
			t.Errorf("%s: medianRound = %+v, want the round with ratio %v", tt.name, got, tt.want)
		}
		if !slices.Equal(in, tt.rounds) {
			t.Errorf("%s: medianRound reordered its input", tt.name)
		}
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(100 - i) // 100 … 1, unsorted
	}
	for _, tt := range []struct {
		name   string
		values []float64
		p      float64
		want   float64
	}{
		{"none", nil, 50, 0},
		{"one", []float64{7}, 99, 7},
		{"p50 of 1..100", hundred, 50, 50},
		{"p95 of 1..100", hundred, 95, 95},
		{"p99 of 1..100", hundred, 99, 99},
		{"p100 is the max", hundred, 100, 100},
		{"p99 of four rounds up to the max", []float64{1, 2, 3, 40}, 99, 40},
		{"p50 of four", []float64{4, 1, 3, 2}, 50, 2},
		{"tiny p is the min", []float64{5, 3, 9}, 0.1, 3},
	} {
		if got := Percentile(tt.values, tt.p); got != tt.want {
			t.Errorf("%s: Percentile(p%v) = %v, want %v", tt.name, tt.p, got, tt.want)
		}
	}
	if hundred[0] != 100 {
		t.Fatal("Percentile sorted its input in place")
	}
	l := Summarise([]float64{1, 2, 3, 10})
	if l.Count != 4 || l.Max != 10 || l.Mean != 4 || l.P50 != 2 || l.P99 != 10 {
		t.Fatalf("Summarise = %+v", l)
	}
}

const (
	secretA = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	secretB = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
)

func signed(t *testing.T, id string, ts time.Time, body []byte, secrets ...string) http.Header {
	t.Helper()
	h, err := delivery.Headers(id, ts, body, secrets...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"evt_1","data":{"n":1}}`)
	valid := signed(t, "evt_1", now, body, secretA)
	rotating := signed(t, "evt_1", now, body, secretB, secretA) // the old secret signs too
	notV1 := valid.Clone()
	notV1.Set(delivery.HeaderSignature, "v1a,"+valid.Get(delivery.HeaderSignature)[3:])
	noID := valid.Clone()
	noID.Del(delivery.HeaderID)
	for _, tt := range []struct {
		name    string
		secret  string
		h       http.Header
		body    []byte
		now     time.Time
		wantErr error
	}{
		{"valid", secretA, valid, body, now, nil},
		{"valid within the tolerance", secretA, valid, body, now.Add(4 * time.Minute), nil},
		{"one of two signatures", secretA, rotating, body, now, nil},
		{"tampered body", secretA, valid, []byte(`{"id":"evt_1","data":{"n":2}}`), now, ErrBadSignature},
		{"wrong secret", secretB, valid, body, now, ErrBadSignature},
		{"other scheme only", secretA, notV1, body, now, ErrBadSignature},
		{"too old", secretA, valid, body, now.Add(6 * time.Minute), ErrBadTimestamp},
		{"from the future", secretA, valid, body, now.Add(-6 * time.Minute), ErrBadTimestamp},
		{"no webhook-id", secretA, noID, body, now, ErrMissingHeaders},
		{"no secret known", "", valid, body, now, ErrNoSecret},
	} {
		id, err := Verify(tt.secret, tt.h, tt.body, tt.now, Tolerance)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.wantErr)
		}
		if err == nil && id != "evt_1" {
			t.Errorf("%s: id = %q", tt.name, id)
		}
	}
	// A tampered id is caught too: the id is part of what is signed.
	h := valid.Clone()
	h.Set(delivery.HeaderID, "evt_2")
	if _, err := Verify(secretA, h, body, now, Tolerance); !errors.Is(err, ErrBadSignature) {
		t.Errorf("tampered id: %v", err)
	}
}

func TestReceiverCounts(t *testing.T) {
	t.Parallel()
	r := NewReceiver(secretA, 0)
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	post := func(path string, h http.Header, body []byte) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(body))
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	stats := func() Stats {
		t.Helper()
		resp, err := http.Get(srv.URL + "/stats?ids=1")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var s Stats
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}

	body := []byte(`{"n":1}`)
	now := time.Now()
	for i, want := range []int{204, 204, 204} { // evt_1 twice, evt_2 once
		id := []string{"evt_1", "evt_1", "evt_2"}[i]
		if got := post("/hook", signed(t, id, now, body, secretA), body); got != want {
			t.Fatalf("webhook %d: %d, want %d", i, got, want)
		}
	}
	if got := post("/hook", signed(t, "evt_3", now, body, secretB), body); got != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", got)
	}
	// Per endpoint: its own secret, and its own key for the same event id.
	b, _ := json.Marshal(SecretRequest{Secrets: map[string]string{"f1": secretB}}) //nolint:gosec // a test secret, sent to the test receiver
	if got := post("/secret", http.Header{}, b); got != http.StatusNoContent {
		t.Fatalf("set secret: %d", got)
	}
	if got := post("/hook?ep=f1", signed(t, "evt_1", now, body, secretB), body); got != 204 {
		t.Fatalf("endpoint f1: %d", got)
	}
	if got := post("/hook?ep=f1", signed(t, "evt_4", now, body, secretA), body); got != http.StatusUnauthorized {
		t.Fatalf("endpoint f1 with the default secret: %d", got)
	}

	s := stats()
	if s.Received != 6 || s.Verified != 4 || s.Invalid != 2 || s.Duplicates != 1 || s.Unique != 3 {
		t.Fatalf("stats = %+v", s)
	}
	keys := make([]string, 0, len(s.IDs))
	for k := range s.IDs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"evt_1", "evt_2", "f1/evt_1"}) || s.IDs["evt_1"].Count != 2 ||
		s.IDs["evt_1"].First < now.Add(-time.Second).UnixNano() || s.IDs["evt_1"].First > time.Now().UnixNano() {
		t.Fatalf("ids = %+v", s.IDs)
	}

	if got := post("/reset", http.Header{}, nil); got != http.StatusNoContent {
		t.Fatalf("reset: %d", got)
	}
	if s := stats(); s.Received != 0 || len(s.IDs) != 0 {
		t.Fatalf("after reset: %+v", s)
	}
	if got := post("/hook?ep=f1", signed(t, "evt_5", now, body, secretB), body); got != 204 {
		t.Fatalf("secrets forgotten on reset: %d", got)
	}
}

func TestReceiverFailRate(t *testing.T) {
	t.Parallel()
	r := NewReceiver(secretA, 1)
	body := []byte(`{}`)
	req := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
	req.Header = signed(t, "evt_1", time.Now(), body, secretA)
	w := httptest.NewRecorder()
	r.Handler().ServeHTTP(w, req)
	if s := r.Snapshot(false); w.Code != http.StatusInternalServerError || s.Rejected != 1 || s.Unique != 0 {
		t.Fatalf("fail rate 1: %d, %+v", w.Code, s)
	}
}

func TestArrivals(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(100, 0)
	p := &published{}
	p.add([]string{"a", "b"}, t0)
	p.add([]string{"c"}, t0.Add(time.Second))
	receipts := map[string]Receipt{
		"a": {First: t0.Add(5 * time.Millisecond).UnixNano(), Count: 1},
		"c": {First: t0.Add(1010 * time.Millisecond).UnixNano(), Count: 2},
	}
	missing, last, ms := arrivals(p, receipts, "")
	if missing != 1 || !last.Equal(t0.Add(1010*time.Millisecond)) || !slices.Equal(ms, []float64{5, 10}) {
		t.Fatalf("arrivals = %d, %v, %v", missing, last, ms)
	}
}

func TestPayloadSize(t *testing.T) {
	t.Parallel()
	for _, size := range []int{64, 256, 1000} {
		p := payload(12345, size)
		if len(p) != size || !json.Valid(p) {
			t.Errorf("payload(%d) is %d bytes: %s", size, len(p), p)
		}
	}
}

func TestRequireLoopback(t *testing.T) {
	t.Parallel()
	for addr, ok := range map[string]bool{"127.0.0.1:0": true, "localhost:80": true, "0.0.0.0:80": false,
		"10.0.0.1:80": false, ":8080": false, "nope": false} {
		if err := RequireLoopback(addr); (err == nil) != ok {
			t.Errorf("RequireLoopback(%q) = %v", addr, err)
		}
	}
}
