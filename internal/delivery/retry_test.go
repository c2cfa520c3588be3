package delivery_test

import (
	"math"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/delivery"
)

func fixed(r float64) func() float64 { return func() float64 { return r } }

func TestDefaultPolicy(t *testing.T) {
	p := delivery.DefaultPolicy()
	want := []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 4 * time.Hour, 24 * time.Hour}
	if !reflect.DeepEqual(p.Schedule, want) || p.MaxAttempts != 6 || p.Jitter != 0.2 {
		t.Fatalf("DefaultPolicy() = %+v", p)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("DefaultPolicy().Validate() = %v", err)
	}
}

// TestPolicy_DefaultSequence walks a delivery that always fails through the
// default policy: five retries, then the sixth failure dead-letters.
func TestPolicy_DefaultSequence(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		name string
		rnd  float64
		want []time.Duration // waits after failures 1..5
	}{
		{name: "no jitter (0.5)", rnd: 0.5, want: []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 4 * time.Hour}},
		{name: "low edge (0)", rnd: 0, want: []time.Duration{48 * time.Second, 4 * time.Minute, 12 * time.Minute, 48 * time.Minute, 3*time.Hour + 12*time.Minute}},
		{name: "high edge (0.999)", rnd: 0.999, want: []time.Duration{71976 * ms, 359880 * ms, 1079640 * ms, 4318560 * ms, 17274240 * ms}},
	}
	p := delivery.DefaultPolicy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for n := 1; n <= 5; n++ {
				d, dead := p.Next(n, fixed(tt.rnd))
				if dead || d != tt.want[n-1] {
					t.Errorf("Next(%d) = %v, dead %v; want %v, false", n, d, dead, tt.want[n-1])
				}
			}
			if d, dead := p.Next(6, fixed(tt.rnd)); !dead || d != 0 {
				t.Errorf("Next(6) = %v, dead %v; want dead letter", d, dead)
			}
		})
	}
}

func TestPolicy_Next(t *testing.T) {
	sched := delivery.DefaultPolicy().Schedule
	tests := []struct {
		name     string
		policy   delivery.Policy
		failed   int
		rnd      float64
		want     time.Duration
		wantDead bool
	}{
		{name: "24h step with 7 attempts", policy: delivery.Policy{Schedule: sched, MaxAttempts: 7, Jitter: 0.2}, failed: 6, rnd: 0.5, want: 24 * time.Hour},
		{name: "7th failure of 7 dead", policy: delivery.Policy{Schedule: sched, MaxAttempts: 7, Jitter: 0.2}, failed: 7, rnd: 0.5, wantDead: true},
		{name: "last step repeats", policy: delivery.Policy{Schedule: sched, MaxAttempts: 10, Jitter: 0.2}, failed: 9, rnd: 0.5, want: 24 * time.Hour},
		{name: "short schedule repeats", policy: delivery.Policy{Schedule: []time.Duration{time.Minute}, MaxAttempts: 4}, failed: 3, want: time.Minute},
		{name: "short schedule dead", policy: delivery.Policy{Schedule: []time.Duration{time.Minute}, MaxAttempts: 4}, failed: 4, wantDead: true},
		{name: "one attempt only", policy: delivery.Policy{Schedule: sched, MaxAttempts: 1}, failed: 1, wantDead: true},
		{name: "beyond max dead", policy: delivery.DefaultPolicy(), failed: 40, wantDead: true},
		{name: "zero jitter ignores rnd", policy: delivery.Policy{Schedule: sched, MaxAttempts: 6}, failed: 2, rnd: 0, want: 5 * time.Minute},
		{name: "full jitter low edge", policy: delivery.Policy{Schedule: sched, MaxAttempts: 6, Jitter: 1}, failed: 1, rnd: 0, want: 0},
		{name: "failed 0 counts as 1", policy: delivery.DefaultPolicy(), failed: 0, rnd: 0.5, want: time.Minute},
		{name: "rnd above 1 clamped", policy: delivery.DefaultPolicy(), failed: 1, rnd: 7, want: 72 * time.Second},
		{name: "rnd below 0 clamped", policy: delivery.DefaultPolicy(), failed: 1, rnd: -3, want: 48 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, dead := tt.policy.Next(tt.failed, fixed(tt.rnd))
			if d != tt.want || dead != tt.wantDead {
				t.Fatalf("Next(%d) = %v, %v; want %v, %v", tt.failed, d, dead, tt.want, tt.wantDead)
			}
		})
	}
}

func TestPolicy_NextNilRand(t *testing.T) {
	p := delivery.DefaultPolicy()
	for range 1000 {
		d, dead := p.Next(4, nil) // 1h ± 20%
		if dead || d < 48*time.Minute || d > 72*time.Minute {
			t.Fatalf("Next(4, nil) = %v, %v; want within [48m, 72m]", d, dead)
		}
	}
}

func TestPolicy_Validate(t *testing.T) {
	sched := delivery.DefaultPolicy().Schedule
	tests := []struct {
		name   string
		policy delivery.Policy
		ok     bool
	}{
		{name: "default", policy: delivery.DefaultPolicy(), ok: true},
		{name: "bounds", policy: delivery.Policy{Schedule: []time.Duration{time.Second, 7 * 24 * time.Hour}, MaxAttempts: 50, Jitter: 1}, ok: true},
		{name: "one attempt, no jitter", policy: delivery.Policy{Schedule: sched, MaxAttempts: 1}, ok: true},
		{name: "empty schedule", policy: delivery.Policy{MaxAttempts: 6}},
		{name: "step too short", policy: delivery.Policy{Schedule: []time.Duration{999 * time.Millisecond}, MaxAttempts: 6}},
		{name: "step too long", policy: delivery.Policy{Schedule: []time.Duration{7*24*time.Hour + time.Second}, MaxAttempts: 6}},
		{name: "zero attempts", policy: delivery.Policy{Schedule: sched, MaxAttempts: 0}},
		{name: "51 attempts", policy: delivery.Policy{Schedule: sched, MaxAttempts: 51}},
		{name: "negative jitter", policy: delivery.Policy{Schedule: sched, MaxAttempts: 6, Jitter: -0.1}},
		{name: "jitter above 1", policy: delivery.Policy{Schedule: sched, MaxAttempts: 6, Jitter: 1.1}},
		{name: "NaN jitter", policy: delivery.Policy{Schedule: sched, MaxAttempts: 6, Jitter: math.NaN()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if !tt.ok && patchbay.ErrorCode(err) != patchbay.EINVALID {
				t.Fatalf("Validate() = %v, want EINVALID", err)
			}
		})
	}
}

func TestParseSchedule(t *testing.T) {
	tests := []struct {
		in   string
		want []time.Duration
		ok   bool
	}{
		{in: "1m,5m,15m", want: []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute}, ok: true},
		{in: " 30s , 1h30m ", want: []time.Duration{30 * time.Second, 90 * time.Minute}, ok: true},
		{in: "24h", want: []time.Duration{24 * time.Hour}, ok: true},
		{in: ""},
		{in: "  "},
		{in: "1m,,5m"},
		{in: "1m,"},
		{in: "5"},
		{in: "soon"},
		{in: "0s"},
		{in: "-1m"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := delivery.ParseSchedule(tt.in)
			if tt.ok {
				if err != nil || !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("ParseSchedule(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
				}
				return
			}
			if patchbay.ErrorCode(err) != patchbay.EINVALID {
				t.Fatalf("ParseSchedule(%q) = %v, %v; want EINVALID", tt.in, got, err)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	date := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	tests := []struct {
		name   string
		header string // "" means absent
		want   time.Duration
		ok     bool
	}{
		{name: "absent"},
		{name: "seconds", header: "120", want: 2 * time.Minute, ok: true},
		{name: "zero seconds", header: "0", want: 0, ok: true},
		{name: "padded", header: " 30 ", want: 30 * time.Second, ok: true},
		{name: "seconds capped", header: "86401", want: 24 * time.Hour, ok: true},
		{name: "huge seconds capped", header: "99999999999999999999999", want: 24 * time.Hour, ok: true},
		{name: "negative", header: "-5"},
		{name: "fraction", header: "1.5"},
		{name: "garbage", header: "soon"},
		{name: "digits then garbage", header: "10s"},
		{name: "date", header: date(90 * time.Second), want: 90 * time.Second, ok: true},
		{name: "RFC 850 date", header: now.Add(time.Hour).Format(time.RFC850), want: time.Hour, ok: true},
		{name: "asctime date", header: now.Add(time.Hour).Format(time.ANSIC), want: time.Hour, ok: true},
		{name: "date now", header: date(0), want: 0, ok: true},
		{name: "date in past", header: date(-time.Minute)},
		{name: "date capped", header: date(48 * time.Hour), want: 24 * time.Hour, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.header != "" {
				h.Set("Retry-After", tt.header)
			}
			got, ok := delivery.RetryAfter(h, now)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("RetryAfter(%q) = %v, %v; want %v, %v", tt.header, got, ok, tt.want, tt.ok)
			}
		})
	}
}
