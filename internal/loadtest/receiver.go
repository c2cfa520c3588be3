package loadtest

import (
	"crypto/hmac"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/patchbay/patchbay/internal/delivery"
)

// Tolerance is how far a webhook's timestamp may be from the receiver's
// clock, either way, as the Standard Webhooks libraries allow by default.
const Tolerance = 5 * time.Minute

// Reasons Verify gives for refusing a webhook.
var (
	ErrMissingHeaders = errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	ErrBadTimestamp   = errors.New("webhook-timestamp is not a unix time or is outside the tolerance")
	ErrNoSecret       = errors.New("no signing secret for this endpoint")
	ErrBadSignature   = errors.New("no v1 signature matches")
)

// Verify checks a webhook's Standard Webhooks signature as a receiver must:
// it recomputes the v1 signature with secret (delivery.Sign) and compares it
// in constant time with each space-separated v1 signature of the header, and
// refuses timestamps more than tolerance away from now. It returns the
// webhook-id when one signature matches, or one of the Err* reasons.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) (string, error) {
	id, ts, sigs := h.Get(delivery.HeaderID), h.Get(delivery.HeaderTimestamp), h.Get(delivery.HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return "", ErrMissingHeaders
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return id, ErrBadTimestamp
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return id, ErrBadTimestamp
	}
	if secret == "" {
		return id, ErrNoSecret
	}
	want, err := delivery.Sign(secret, id, time.Unix(unix, 0), body)
	if err != nil {
		return id, err
	}
	for sig := range strings.SplitSeq(sigs, " ") {
		if strings.HasPrefix(sig, "v1,") && hmac.Equal([]byte(sig), []byte(want)) {
			return id, nil
		}
	}
	return id, ErrBadSignature
}

// Receipt is what the receiver knows of one webhook-id (per endpoint key).
type Receipt struct {
	First int64 `json:"first"` // unix nanoseconds of the first verified receipt
	Count int   `json:"count"` // verified receipts, the first included
}

// Stats are the receiver's counters. IDs is filled on GET /stats?ids=1.
type Stats struct {
	Received   int64              `json:"received"`   // every webhook request
	Verified   int64              `json:"verified"`   // signature valid, accepted or not
	Invalid    int64              `json:"invalid"`    // signature or timestamp refused
	Rejected   int64              `json:"rejected"`   // verified, but answered 500 (--fail-rate)
	Duplicates int64              `json:"duplicates"` // accepted receipts after the first of their key
	Unique     int64              `json:"unique"`     // keys accepted at least once
	IDs        map[string]Receipt `json:"ids,omitempty"`
}

// SecretRequest is the body of POST /secret: one endpoint's secret (an empty
// endpoint_id sets the default secret, used when a webhook's URL has no ep
// parameter), or several at once in Secrets.
type SecretRequest struct {
	EndpointID string            `json:"endpoint_id,omitempty"`
	Secret     string            `json:"secret,omitempty"`
	Secrets    map[string]string `json:"secrets,omitempty"`
}

// Receiver is a webhook receiver that verifies every signature and counts
// receipts per webhook-id. A webhook posted to /hook?ep=K is verified with
// K's secret and counted under "K/<webhook-id>", so one event fanned out to
// many endpoints counts once per endpoint; without ep it is verified with
// the default secret and counted under its webhook-id.
//
//	POST /hook[?ep=K]  a webhook: 204, 401 when unverified, 500 when --fail-rate says so
//	POST /secret       set secrets (SecretRequest)
//	POST /reset        forget receipts and zero the counters (secrets stay)
//	GET  /stats[?ids=1] the counters as JSON, with per-key receipts on ids=1
type Receiver struct {
	// FailRate is the share of verified webhooks answered 500, so that
	// the sender retries them; 0 accepts all.
	FailRate float64
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu      sync.Mutex
	secret  string
	secrets map[string]string
	seen    map[string]*Receipt
	stats   Stats
}

// NewReceiver returns a receiver verifying webhooks without ep with secret
// (which may be empty, to be set by POST /secret).
func NewReceiver(secret string, failRate float64) *Receiver {
	return &Receiver{FailRate: failRate, secret: secret, secrets: map[string]string{}, seen: map[string]*Receipt{}}
}

// Handler returns the receiver's HTTP routes.
func (r *Receiver) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hook", r.hook)
	mux.HandleFunc("POST /secret", r.setSecret)
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, _ *http.Request) {
		r.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(r.Snapshot(req.URL.Query().Get("ids") == "1"))
	})
	return mux
}

// SetSecret sets the secret of endpoint key ep ("" for the default).
func (r *Receiver) SetSecret(ep, secret string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ep == "" {
		r.secret = secret
	} else {
		r.secrets[ep] = secret
	}
}

// Reset forgets every receipt and zeroes the counters; secrets stay.
func (r *Receiver) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = map[string]*Receipt{}
	r.stats = Stats{}
}

// Snapshot returns the counters, with a copy of every receipt when ids.
func (r *Receiver) Snapshot(ids bool) Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	if ids {
		s.IDs = make(map[string]Receipt, len(r.seen))
		for k, v := range r.seen {
			s.IDs[k] = *v
		}
	}
	return s
}

func (r *Receiver) setSecret(w http.ResponseWriter, req *http.Request) {
	var in SecretRequest
	if err := json.NewDecoder(io.LimitReader(req.Body, 8<<20)).Decode(&in); err != nil {
		http.Error(w, "body must be a SecretRequest: "+err.Error(), http.StatusBadRequest)
		return
	}
	if in.Secret != "" {
		in.Secrets = map[string]string{in.EndpointID: in.Secret}
	}
	for ep, s := range in.Secrets {
		if err := delivery.ValidateSecret(s); err != nil {
			http.Error(w, "invalid secret for "+strconv.Quote(ep), http.StatusBadRequest)
			return
		}
	}
	for ep, s := range in.Secrets {
		r.SetSecret(ep, s)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *Receiver) hook(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	ep := req.URL.Query().Get("ep")
	r.mu.Lock()
	secret := r.secret
	if ep != "" {
		secret = r.secrets[ep]
	}
	r.mu.Unlock()
	id, verr := Verify(secret, req.Header, body, now, Tolerance)
	fail := verr == nil && r.FailRate > 0 && rand.Float64() < r.FailRate //nolint:gosec // a test failure rate, not a secret
	key := id
	if ep != "" {
		key = ep + "/" + id
	}

	r.mu.Lock()
	r.stats.Received++
	switch {
	case verr != nil:
		r.stats.Invalid++
	case fail:
		r.stats.Verified++
		r.stats.Rejected++
	default:
		r.stats.Verified++
		if rc, ok := r.seen[key]; ok {
			rc.Count++
			r.stats.Duplicates++
		} else {
			r.seen[key] = &Receipt{First: now.UnixNano(), Count: 1}
			r.stats.Unique++
		}
	}
	r.mu.Unlock()

	switch {
	case verr != nil:
		http.Error(w, verr.Error(), http.StatusUnauthorized)
	case fail:
		http.Error(w, "failing on purpose (--fail-rate)", http.StatusInternalServerError)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
