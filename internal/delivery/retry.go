package delivery

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/patchbay/patchbay"
)

// Policy says when a failed delivery is retried and when it is given up.
//
// The first attempt is immediate; after the n-th failed attempt, if
// n >= MaxAttempts the delivery is dead-lettered, otherwise it is retried
// after Schedule[n-1] (the last entry repeats if the schedule is shorter than
// MaxAttempts-1), multiplied by a random factor in [1-Jitter, 1+Jitter]. With
// the defaults the retries wait 1m, 5m, 15m, 1h and 4h and the sixth failure
// dead-letters; the 24h step applies when MaxAttempts is raised to 7 or more.
type Policy struct {
	Schedule    []time.Duration // waits before the 2nd, 3rd, … attempt
	MaxAttempts int             // attempts in all, the first included
	Jitter      float64         // 0.2 spreads each wait over ±20%
}

// Bounds that Validate enforces.
const (
	MinRetryStep       = time.Second
	MaxRetryStep       = 7 * 24 * time.Hour
	MaxAttemptsLimit   = 50
	MaxRetryAfter      = 24 * time.Hour // RetryAfter's cap on a server's requested wait
	defaultMaxAttempts = 6
)

// DefaultPolicy returns the schedule 1m, 5m, 15m, 1h, 4h, 24h with ±20%
// jitter and 6 attempts in all.
func DefaultPolicy() Policy {
	return Policy{
		Schedule:    []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 4 * time.Hour, 24 * time.Hour},
		MaxAttempts: defaultMaxAttempts,
		Jitter:      0.2,
	}
}

// Next returns what follows the failed-th failed attempt (failed counts from
// 1; smaller values count as 1): the delay before the next attempt, or
// dead == true when the delivery is to be dead-lettered. rnd returns a number
// in [0, 1) and chooses the jitter factor (0 gives 1-Jitter, 0.5 gives exactly
// the scheduled wait); nil uses math/rand/v2. The delay is rounded to the
// millisecond. Next expects a policy that passes Validate; with an empty
// Schedule it retries at once.
func (p Policy) Next(failed int, rnd func() float64) (delay time.Duration, dead bool) {
	failed = max(failed, 1)
	if failed >= p.MaxAttempts {
		return 0, true
	}
	if len(p.Schedule) == 0 {
		return 0, false
	}
	base := p.Schedule[min(failed-1, len(p.Schedule)-1)]
	if p.Jitter <= 0 {
		return base, false
	}
	if rnd == nil {
		rnd = rand.Float64
	}
	r := min(max(rnd(), 0), 1) // a misbehaving rnd cannot leave the jitter band
	factor := 1 - p.Jitter + 2*p.Jitter*r
	return time.Duration(float64(base) * factor).Round(time.Millisecond), false
}

// Validate returns EINVALID unless the schedule is not empty, each step is
// between 1s and 7 days, MaxAttempts is between 1 and 50 and Jitter is
// between 0 and 1.
func (p Policy) Validate() error {
	if len(p.Schedule) == 0 {
		return patchbay.Errorf(patchbay.EINVALID, "Retry schedule must have at least one step.")
	}
	for _, d := range p.Schedule {
		if d < MinRetryStep || d > MaxRetryStep {
			return patchbay.Errorf(patchbay.EINVALID, "Retry step %s must be between %s and %s.", d, MinRetryStep, MaxRetryStep)
		}
	}
	if p.MaxAttempts < 1 || p.MaxAttempts > MaxAttemptsLimit {
		return patchbay.Errorf(patchbay.EINVALID, "Maximum attempts must be between 1 and %d.", MaxAttemptsLimit)
	}
	if !(p.Jitter >= 0 && p.Jitter <= 1) { // also refuses NaN
		return patchbay.Errorf(patchbay.EINVALID, "Retry jitter must be between 0 and 1.")
	}
	return nil
}

// ParseSchedule parses a comma-separated list of Go durations such as
// "1m,5m,15m" (spaces around entries are ignored). It returns EINVALID for an
// empty list, an empty entry, an unparsable entry or one that is not
// positive; bounds are Validate's business.
func ParseSchedule(s string) ([]time.Duration, error) {
	if strings.TrimSpace(s) == "" {
		return nil, patchbay.Errorf(patchbay.EINVALID, "Retry schedule must have at least one step.")
	}
	parts := strings.Split(s, ",")
	out := make([]time.Duration, 0, len(parts))
	for _, part := range parts {
		part = strings.TrimSpace(part)
		d, err := time.ParseDuration(part)
		if err != nil || d <= 0 {
			return nil, patchbay.Errorf(patchbay.EINVALID, "Retry step %q is not a positive duration such as 5m or 1h.", part)
		}
		out = append(out, d)
	}
	return out, nil
}

// RetryAfter reads a Retry-After header (RFC 9110 §10.2.3), given as
// delta-seconds or as an HTTP-date relative to now, and reports whether it
// held a usable wait. Missing, malformed and negative values (including dates
// in the past) are ignored; waits longer than MaxRetryAfter are capped to it.
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return MaxRetryAfter, true // all digits, just huge
			}
			return 0, false
		}
		if secs > uint64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	switch {
	case d < 0:
		return 0, false
	case d > MaxRetryAfter:
		return MaxRetryAfter, true
	}
	return d, true
}
