package delivery

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/connection"
	"github.com/patchbay/patchbay/internal/secret"
)

// EngineConfig configures an Engine.
type EngineConfig struct {
	Store       patchbay.Store
	Ring        *secret.Ring
	Client      *http.Client        // the outbound-safe client (NewClient)
	Connections *connection.Service // for vendor API calls
	Policy      Policy              // the default retry policy
	Workers     int                 // concurrent attempts; 32 when zero
	Batch       int                 // deliveries claimed per query; 64 when zero
	Lease       time.Duration       // how long a claim holds; 2 minutes when zero
	Logger      *slog.Logger
	Now         func() time.Time
	Rand        func() float64 // jitter source; math/rand when nil
	// Disable is called for endpoints the circuit breaker trips.
	Disable func(ctx context.Context, e *patchbay.Endpoint)
}

// Engine sends deliveries: it claims due ones from the queue in the
// database with a lease, attempts them on a bounded pool of workers, and
// records outcomes in batches. Several engines (replicas) may share one
// database; a delivery whose worker died is claimed again once its lease
// expires.
//
// Deliveries published in this process skip the queue when there is room:
// the publish stores them already leased to this engine (Reserve) and,
// once committed, hands them to the workers in memory (Dispatch), which
// saves a claim and a read of the event per delivery. They are durable and
// leased like claimed ones, so if the process dies they are claimed again.
type Engine struct {
	cfg      EngineConfig
	owner    string
	wake     chan struct{}
	results  chan patchbay.AttemptResult
	limitsMu sync.Mutex
	limits   map[string]*rate.Limiter // by endpoint id
	stop     context.CancelFunc
	done     sync.WaitGroup

	handoff chan *job    // deliveries handed over by publishes
	free    atomic.Int64 // room left in handoff that Reserve may promise
	running atomic.Bool

	settingsMu sync.Mutex
	settings   map[string]cachedSettings // by org id

	keysMu  sync.Mutex
	signing map[string]signingKeys // by endpoint id
}

// cachedSettings is an org's settings as read at a time.
type cachedSettings struct {
	s    *patchbay.Settings
	read time.Time
}

// settingsTTL is how long the engine reuses an org's settings: a change
// applies to attempts made after at most this long.
const settingsTTL = time.Second

// NewEngine returns an engine; Start runs it.
func NewEngine(cfg EngineConfig) *Engine {
	if cfg.Workers <= 0 {
		cfg.Workers = 32
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 64
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = patchbay.Now
	}
	e := &Engine{cfg: cfg, owner: patchbay.NewID("eng"), wake: make(chan struct{}, 1), limits: map[string]*rate.Limiter{},
		results: make(chan patchbay.AttemptResult, 4*cfg.Workers), handoff: make(chan *job, 64*cfg.Workers),
		settings: map[string]cachedSettings{}, signing: map[string]signingKeys{}}
	e.free.Store(int64(cap(e.handoff)))
	return e
}

// Reserve promises room for up to n deliveries that a publish is about to
// store leased to this engine, and returns the lease to store with them
// and how many it granted (0 when the engine is not running or full).
// The caller passes the granted deliveries to Dispatch once they are
// committed, or gives the room back with Release.
func (e *Engine) Reserve(n int) (owner string, until time.Time, granted int) {
	if !e.running.Load() || n <= 0 {
		return "", time.Time{}, 0
	}
	for {
		free := e.free.Load()
		take := min(int64(n), free)
		if take <= 0 {
			return "", time.Time{}, 0
		}
		if e.free.CompareAndSwap(free, free-take) {
			return e.owner, e.cfg.Now().Add(e.cfg.Lease), int(take)
		}
	}
}

// Release gives back room that Reserve granted and no Dispatch used.
func (e *Engine) Release(n int) { e.free.Add(int64(n)) }

// Dispatch hands committed deliveries, leased with Reserve's lease, to
// the workers, with their events and endpoints (by id).
func (e *Engine) Dispatch(ds []*patchbay.Delivery, events map[string]*patchbay.Event, endpoints map[string]*patchbay.Endpoint) {
	for _, d := range ds {
		e.handoff <- &job{d: d, event: events[d.EventID], endpoint: endpoints[d.EndpointID], until: d.LeaseUntil}
	}
}

// Wake makes the engine look at the queue now (after a publish, a retry,
// or a notification from another replica).
func (e *Engine) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Start runs the engine until Stop.
func (e *Engine) Start(ctx context.Context) {
	ctx, e.stop = context.WithCancel(ctx)
	jobs := make(chan *job, e.cfg.Batch) // room for one batch, so the next claim overlaps the sends
	var workers sync.WaitGroup
	for i := 0; i < e.cfg.Workers; i++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for {
				var j *job
				select {
				case j = <-e.handoff:
					e.free.Add(1)
					if j.until != nil && !e.cfg.Now().Before(*j.until) {
						continue // its lease ran out while it waited: a claim takes it again
					}
				case claimed, ok := <-jobs:
					if !ok {
						return
					}
					j = claimed
				}
				e.results <- e.attempt(ctx, j)
			}
		}()
	}
	e.running.Store(true)
	// Two recorders: one gathers outcomes while the other's write is in
	// the database (on PostgreSQL both write at once).
	const recorders = 2
	e.done.Add(recorders + 1)
	for range recorders {
		go func() {
			defer e.done.Done()
			e.record(ctx)
		}()
	}
	go func() {
		defer e.done.Done()
		e.claim(ctx, jobs)
		close(jobs)
		workers.Wait()
		close(e.results)
	}()
}

// Stop stops claiming, lets attempts in flight finish and records them.
//
// Deliveries handed over but not yet attempted keep their lease and are
// claimed again when it ends.
func (e *Engine) Stop() {
	e.running.Store(false)
	if e.stop != nil {
		e.stop()
		e.done.Wait()
		e.stop = nil
	}
}

// job is a claimed delivery with what its attempt needs.
type job struct {
	d        *patchbay.Delivery
	endpoint *patchbay.Endpoint
	event    *patchbay.Event
	until    *time.Time // the lease of a handed-over delivery
}

// claim feeds due deliveries to the workers, never holding more claimed
// deliveries than the workers can start soon, and sleeps until the next
// due time, a wake-up, or a poll interval.
func (e *Engine) claim(ctx context.Context, jobs chan<- *job) {
	const poll = time.Second
	for ctx.Err() == nil {
		now := e.cfg.Now()
		ds, err := e.cfg.Store.ClaimDeliveries(ctx, e.owner, now, now.Add(e.cfg.Lease), e.cfg.Batch)
		if err != nil {
			if ctx.Err() == nil {
				e.cfg.Logger.Error("claim deliveries", "error", err.Error())
			}
			sleep(ctx, e.wake, poll)
			continue
		}
		if len(ds) == 0 {
			wait := poll
			if next, err := e.cfg.Store.NextDue(ctx); err == nil && next != nil {
				wait = min(max(next.Sub(e.cfg.Now()), time.Millisecond), poll)
			}
			sleep(ctx, e.wake, wait)
			continue
		}
		endpoints := map[string]*patchbay.Endpoint{}
		var eventIDs []string
		for _, d := range ds {
			if d.EventID != "" {
				eventIDs = append(eventIDs, d.EventID)
			}
		}
		events, err := e.cfg.Store.FindEvents(ctx, eventIDs)
		if err != nil {
			// Not dispatched: the batch is claimed again when its lease
			// ends, rather than dead-lettered for a passing fault.
			e.cfg.Logger.Error("load events", "error", err.Error())
			sleep(ctx, e.wake, poll)
			continue
		}
		for _, d := range ds {
			j := &job{d: d}
			if d.EndpointID != "" {
				var ok bool
				if j.endpoint, ok = e.lookupEndpoint(ctx, endpoints, d); !ok {
					continue // a passing fault: the lease brings it back
				}
			}
			if ev := events[d.EventID]; ev != nil && ev.OrgID == d.OrgID {
				j.event = ev
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return // unsent claims are taken again when their lease ends
			}
		}
	}
}

// lookupEndpoint returns a delivery's endpoint, nil when it was deleted
// (the attempt dead-letters the delivery), and false when it could not be
// read now.
func (e *Engine) lookupEndpoint(ctx context.Context, cache map[string]*patchbay.Endpoint, d *patchbay.Delivery) (*patchbay.Endpoint, bool) {
	if ep, ok := cache[d.EndpointID]; ok {
		return ep, true
	}
	ep, err := e.cfg.Store.FindEndpoint(ctx, d.OrgID, d.EndpointID)
	if patchbay.ErrorCode(err) == patchbay.ENOTFOUND {
		ep = nil
	} else if err != nil {
		e.cfg.Logger.Error("load endpoint", "endpoint", d.EndpointID, "error", err.Error())
		return nil, false
	}
	cache[d.EndpointID] = ep
	return ep, true
}

// orgSettings returns an org's settings, read at most settingsTTL ago;
// defaults when they cannot be read.
func (e *Engine) orgSettings(ctx context.Context, orgID string) *patchbay.Settings {
	e.settingsMu.Lock()
	c, ok := e.settings[orgID]
	e.settingsMu.Unlock()
	if ok && time.Since(c.read) < settingsTTL {
		return c.s
	}
	s, err := e.cfg.Store.FindSettings(ctx, orgID)
	if err != nil {
		return &patchbay.Settings{OrgID: orgID} // not cached: read again next time
	}
	e.settingsMu.Lock()
	e.settings[orgID] = cachedSettings{s: s, read: time.Now()}
	e.settingsMu.Unlock()
	return s
}

func sleep(ctx context.Context, wake <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-wake:
	case <-t.C:
	}
}

// record stores results in batches: whatever has arrived is written in one
// transaction, so a busy engine commits many attempts per write.
func (e *Engine) record(ctx context.Context) {
	batch := make([]patchbay.AttemptResult, 0, 256)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		wctx := context.WithoutCancel(ctx)
		tripped, err := e.cfg.Store.FinishAttempts(wctx, e.owner, batch)
		if err != nil {
			e.cfg.Logger.Error("record attempts", "error", err.Error(), "count", len(batch))
		}
		for _, ep := range tripped {
			if e.cfg.Disable != nil {
				e.cfg.Disable(wctx, ep)
			}
		}
		if len(tripped) > 0 {
			e.Wake()
		}
		batch = batch[:0]
	}
	// Each commit waits for the disk, so results gather for up to gather
	// after the first one arrives (or until the batch is full): many
	// attempts per commit when busy, a few milliseconds of delay when not.
	const gather = 5 * time.Millisecond
	for r := range e.results {
		batch = append(batch, r)
		deadline := time.NewTimer(gather)
	collect:
		for len(batch) < cap(batch) {
			select {
			case r, ok := <-e.results:
				if !ok {
					break collect
				}
				batch = append(batch, r)
			case <-deadline.C:
				break collect
			}
		}
		deadline.Stop()
		flush()
	}
	flush()
}

// responseExcerpt bounds what the log keeps of a response body.
const responseExcerpt = 1024

// attempt makes one attempt of a delivery and returns its outcome.
func (e *Engine) attempt(ctx context.Context, j *job) patchbay.AttemptResult {
	d := j.d
	started := e.cfg.Now()
	a := &patchbay.Attempt{OrgID: d.OrgID, DeliveryID: d.ID, Number: d.Attempts + 1, StartedAt: started,
		Manual: d.RoundAttempts == 0 && d.Attempts > 0}
	policy := e.cfg.Policy
	settings := e.orgSettings(ctx, d.OrgID)
	if len(settings.RetrySchedule) > 0 {
		policy.Schedule = settings.RetrySchedule
	}
	if settings.MaxAttempts > 0 {
		policy.MaxAttempts = settings.MaxAttempts
	}
	var resp *http.Response
	var err error
	clock := time.Now()
	switch {
	case d.EndpointID != "":
		if j.endpoint == nil {
			return e.dead(d, a, "The endpoint was deleted.")
		}
		if !j.endpoint.Accepting() {
			return e.hold(d)
		}
		if len(j.endpoint.Schedule) > 0 {
			policy.Schedule = j.endpoint.Schedule
		}
		if j.endpoint.MaxAttempts > 0 {
			policy.MaxAttempts = j.endpoint.MaxAttempts
		}
		if j.event == nil {
			return e.dead(d, a, "The event is gone (pruned by retention).")
		}
		resp, err = e.sendWebhook(ctx, j)
	default:
		resp, err = e.cfg.Connections.Do(ctx, d.OrgID, d.ConnectionID, d.Method, d.Path, d.Body)
		if errors.Is(err, connection.ErrPaused) {
			return e.hold(d)
		}
	}
	a.Latency = time.Since(clock)
	d.Attempts++
	d.RoundAttempts++
	d.LastAttemptAt = &started
	var retryAfter time.Duration
	if err != nil {
		a.Error = describe(err)
	} else {
		a.StatusCode = resp.StatusCode
		excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, responseExcerpt))
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		a.Response = string(bytes.ToValidUTF8(excerpt, []byte("?")))
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			retryAfter, _ = RetryAfter(resp.Header, e.cfg.Now())
		}
		if resp.StatusCode < 200 || resp.StatusCode >= 300 {
			a.Error = "The receiver answered " + strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode) + "."
		}
	}
	d.LastStatusCode, d.LastError = a.StatusCode, a.Error
	if a.Error == "" {
		d.Status, d.DeliveredAt = patchbay.DeliveryDelivered, &started
		return patchbay.AttemptResult{Delivery: d, Attempt: a}
	}
	delay, dead := policy.Next(d.RoundAttempts, e.cfg.Rand)
	if dead {
		d.Status = patchbay.DeliveryDeadLetter
	} else {
		d.Status, d.NextAttemptAt = patchbay.DeliveryRetrying, e.cfg.Now().Add(max(delay, retryAfter))
	}
	return patchbay.AttemptResult{Delivery: d, Attempt: a}
}

func (e *Engine) dead(d *patchbay.Delivery, a *patchbay.Attempt, why string) patchbay.AttemptResult {
	d.Attempts++
	d.RoundAttempts++
	d.Status, d.LastError, a.Error = patchbay.DeliveryDeadLetter, why, why
	return patchbay.AttemptResult{Delivery: d, Attempt: a}
}

// hold parks a delivery whose endpoint or connection does not accept
// deliveries now; no attempt is made or recorded.
func (e *Engine) hold(d *patchbay.Delivery) patchbay.AttemptResult {
	d.Status = patchbay.DeliveryHeld
	return patchbay.AttemptResult{Delivery: d}
}

// describe turns a transport error into a log line without the URL or
// address (a URL may carry a token in its query).
func describe(err error) string {
	var pe *patchbay.Error
	if errors.As(err, &pe) {
		return pe.Message
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		err = oe.Err
	}
	switch {
	case errors.Is(err, ErrForbiddenAddress), errors.Is(err, ErrForbiddenScheme):
		return "Refused by the outbound policy: " + err.Error() + "."
	case errors.Is(err, ErrTooManyRedirects):
		return "Too many redirects."
	case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
		return "The receiver did not answer in time."
	}
	return "Network error: " + err.Error() + "."
}
