package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

var queueTests = []testCase{
	{"ClaimDue", testClaimDue},
	{"ClaimLimit", testClaimLimit},
	{"ClaimConcurrent", testClaimConcurrent},
	{"ClaimLease", testClaimLease},
	{"CreateLeased", testCreateLeased},
	{"Finish", testFinish},
	{"FinishStaleLease", testFinishStaleLease},
	{"FinishOvertaken", testFinishOvertaken},
	{"FinishHeld", testFinishHeld},
	{"FinishFailureCount", testFinishFailureCount},
	{"FinishTrip", testFinishTrip},
	{"FinishConcurrent", testFinishConcurrent},
	{"NextDue", testNextDue},
	{"Retry", testRetryDeliveries},
	{"HoldRelease", testHoldRelease},
	{"Notify", testNotifyDeliveries},
}

// wantAttempt checks that got has every stored field of want.
func wantAttempt(t *testing.T, what string, got, want *patchbay.Attempt) {
	t.Helper()
	if got.ID != want.ID || got.OrgID != want.OrgID || got.DeliveryID != want.DeliveryID || got.Number != want.Number ||
		got.StatusCode != want.StatusCode || got.Latency != want.Latency || got.Error != want.Error ||
		got.Response != want.Response || got.Manual != want.Manual {
		t.Errorf("%s:\n\tgot  %+v\n\twant %+v", what, *got, *want)
	}
	wantTime(t, what+" StartedAt", got.StartedAt, want.StartedAt)
}

func attemptID(a *patchbay.Attempt) string { return a.ID }

// claim claims up to limit due deliveries for owner, leased for a minute
// from the clock's now.
func (e *env) claimDeliveries(t *testing.T, owner string, limit int) []*patchbay.Delivery {
	t.Helper()
	now := e.clock.Now()
	ds, err := e.s.ClaimDeliveries(e.ctx, owner, now, now.Add(time.Minute), limit)
	must(t, err, "ClaimDeliveries("+owner+")")
	return ds
}

// wantClaimed checks that got are exactly the deliveries want, in any order,
// and each is now sending.
func wantClaimed(t *testing.T, what string, got []*patchbay.Delivery, want ...*patchbay.Delivery) {
	t.Helper()
	g, w := ids(got, deliveryID), ids(want, deliveryID)
	slices.Sort(g)
	slices.Sort(w)
	wantIDs(t, what+" (sorted)", g, w)
	for _, d := range got {
		if d.Status != patchbay.DeliverySending {
			t.Errorf("%s: claimed %s has status %q, want sending", what, d.ID, d.Status)
		}
	}
}

// lease claims exactly ds (which must be due) for owner, for a minute, and
// returns them as claimed, in the order given.
func (e *env) lease(t *testing.T, owner string, ds ...*patchbay.Delivery) []*patchbay.Delivery {
	t.Helper()
	got := e.claimDeliveries(t, owner, len(ds)+10)
	wantClaimed(t, "lease for "+owner, got, ds...)
	if len(got) != len(ds) {
		t.FailNow()
	}
	byID := map[string]*patchbay.Delivery{}
	for _, d := range got {
		byID[d.ID] = d
	}
	out := make([]*patchbay.Delivery, len(ds))
	for i, d := range ds {
		out[i] = byID[d.ID]
	}
	return out
}

// deliveries creates n pending deliveries of the org due now, after
// applying edits, in one call.
func (e *env) deliveries(t *testing.T, n int, orgID string, edits ...func(*patchbay.Delivery)) []*patchbay.Delivery {
	t.Helper()
	ds := make([]*patchbay.Delivery, n)
	for i := range ds {
		ds[i] = &patchbay.Delivery{OrgID: orgID, EventType: "invoice.paid", Status: patchbay.DeliveryPending}
		for _, edit := range edits {
			edit(ds[i])
		}
	}
	must(t, e.s.CreateDeliveries(e.ctx, ds), "CreateDeliveries")
	return ds
}

// outcome returns the result of one attempt at a claimed delivery, made a
// second ago, that got HTTP code (0 for no response) and left the delivery
// in status.
func (e *env) outcome(d *patchbay.Delivery, status patchbay.DeliveryStatus, code int) patchbay.AttemptResult {
	now := e.clock.Now()
	started := now.Add(-time.Second)
	nd := *d
	nd.Status = status
	nd.Attempts++
	nd.RoundAttempts++
	nd.LastAttemptAt = ptr(started)
	nd.LastStatusCode = code
	nd.LastError = ""
	nd.NextAttemptAt = now
	switch status {
	case patchbay.DeliveryDelivered:
		nd.DeliveredAt = ptr(now)
	case patchbay.DeliveryRetrying:
		nd.NextAttemptAt = now.Add(time.Minute)
		nd.LastError = fmt.Sprintf("HTTP %d", code)
	default:
		nd.LastError = fmt.Sprintf("HTTP %d", code)
	}
	a := &patchbay.Attempt{OrgID: d.OrgID, DeliveryID: d.ID, Number: nd.Attempts, StartedAt: started, StatusCode: code,
		Latency: 800 * time.Millisecond, Error: nd.LastError, Response: fmt.Sprintf("response %d", code)}
	return patchbay.AttemptResult{Delivery: &nd, Attempt: a}
}

func (e *env) failed(d *patchbay.Delivery) patchbay.AttemptResult {
	return e.outcome(d, patchbay.DeliveryRetrying, 500)
}

func (e *env) succeeded(d *patchbay.Delivery) patchbay.AttemptResult {
	return e.outcome(d, patchbay.DeliveryDelivered, 200)
}

// finish records results for owner.
func (e *env) finish(t *testing.T, owner string, results ...patchbay.AttemptResult) []*patchbay.Endpoint {
	t.Helper()
	tripped, err := e.s.FinishAttempts(e.ctx, owner, results)
	must(t, err, "FinishAttempts("+owner+")")
	return tripped
}

// attempts lists a delivery's attempts.
func (e *env) attempts(t *testing.T, orgID, deliveryID string) []*patchbay.Attempt {
	t.Helper()
	as, err := e.s.ListAttempts(e.ctx, orgID, deliveryID)
	must(t, err, "ListAttempts("+deliveryID+")")
	return as
}

// wantFailures checks an endpoint's consecutive failures.
func (e *env) wantFailures(t *testing.T, what string, ep *patchbay.Endpoint, want int) {
	t.Helper()
	if got := e.findEndpoint(t, ep.OrgID, ep.ID).ConsecutiveFailures; got != want {
		t.Errorf("%s: endpoint %s has %d consecutive failures, want %d", what, ep.URL, got, want)
	}
}

// sending returns d as a claim at the clock's now leaves it.
func (e *env) sending(d *patchbay.Delivery) *patchbay.Delivery {
	s := *d
	s.Status = patchbay.DeliverySending
	s.UpdatedAt = e.now()
	return &s
}

func testClaimDue(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	// Two deliveries being sent: one lease ends in 30s, the other in 10m.
	s1 := e.delivery(t, a.ID)
	now := e.clock.Now()
	got, err := e.s.ClaimDeliveries(e.ctx, "old-1", now, now.Add(30*time.Second), 10)
	must(t, err, "ClaimDeliveries")
	wantClaimed(t, "first claim", got, s1)
	s2 := e.delivery(t, a.ID)
	got, err = e.s.ClaimDeliveries(e.ctx, "old-2", now, now.Add(10*time.Minute), 10)
	must(t, err, "ClaimDeliveries")
	wantClaimed(t, "second claim", got, s2)
	s1, s2 = e.findDelivery(t, a.ID, s1.ID), e.findDelivery(t, a.ID, s2.ID)
	if s1.Status != patchbay.DeliverySending || s2.Status != patchbay.DeliverySending {
		t.Fatalf("claimed deliveries are %q and %q, want sending", s1.Status, s2.Status)
	}

	now = e.clock.Advance(time.Minute) // s1's lease has ended
	p1 := e.delivery(t, a.ID, dueAt(now.Add(-time.Hour)))
	p2 := e.delivery(t, a.ID, dueAt(now)) // due at exactly now
	r1 := e.delivery(t, a.ID, withStatus(patchbay.DeliveryRetrying), dueAt(now.Add(-time.Minute)),
		func(d *patchbay.Delivery) {
			d.Attempts, d.RoundAttempts, d.LastStatusCode, d.LastError = 2, 2, 500, "HTTP 500"
		})
	b1 := e.delivery(t, b.ID, dueAt(now.Add(-30*time.Minute))) // claims are for every org
	f1 := e.delivery(t, a.ID, dueAt(now.Add(time.Minute)))
	f2 := e.delivery(t, a.ID, withStatus(patchbay.DeliveryRetrying), dueAt(now.Add(time.Microsecond)))
	dl := e.delivery(t, a.ID, withStatus(patchbay.DeliveryDelivered), dueAt(now.Add(-2*time.Hour)))
	dd := e.delivery(t, a.ID, withStatus(patchbay.DeliveryDeadLetter), dueAt(now.Add(-2*time.Hour)))
	h := e.delivery(t, a.ID, withStatus(patchbay.DeliveryHeld), dueAt(now.Add(-2*time.Hour)))

	got = e.claimDeliveries(t, "w1", 100)
	wantClaimed(t, "ClaimDeliveries", got, p1, p2, r1, b1, s1)
	for _, d := range got {
		switch d.ID {
		case r1.ID:
			wantDelivery(t, "claimed retrying delivery", d, e.sending(r1))
		case p1.ID:
			wantDelivery(t, "claimed pending delivery", d, e.sending(p1))
		case s1.ID:
			wantDelivery(t, "re-claimed delivery", d, e.sending(s1))
		}
	}
	wantDelivery(t, "stored claimed delivery", e.findDelivery(t, a.ID, p1.ID), e.sending(p1))
	wantDelivery(t, "stored claimed delivery of another org", e.findDelivery(t, b.ID, b1.ID), e.sending(b1))
	for _, d := range []*patchbay.Delivery{f1, f2, dl, dd, h, s2} {
		wantDelivery(t, "unclaimed "+string(d.Status)+" delivery", e.findDelivery(t, a.ID, d.ID), d)
	}

	// Claimed deliveries are not claimed again while their lease lives.
	wantClaimed(t, "claim right after", e.claimDeliveries(t, "w2", 100))

	// Once the leases end and the future ones are due, they are.
	e.clock.Advance(time.Minute + time.Microsecond)
	wantClaimed(t, "claim after the leases ended", e.claimDeliveries(t, "w2", 100), p1, p2, r1, b1, s1, f1, f2)
	e.clock.Advance(10 * time.Minute)
	wantClaimed(t, "claim after every lease ended", e.claimDeliveries(t, "w3", 100), p1, p2, r1, b1, s1, f1, f2, s2)
}

func testClaimLimit(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	now := e.clock.Now()
	ds := make([]*patchbay.Delivery, 7)
	for _, i := range []int{3, 0, 6, 1, 5, 2, 4} { // created out of due order
		ds[i] = e.delivery(t, org.ID, dueAt(now.Add(time.Duration(i-7)*time.Minute)))
	}
	e.delivery(t, org.ID, dueAt(now.Add(time.Hour)))
	// The most overdue first, limit at a time.
	wantClaimed(t, "first claim of 3", e.claimDeliveries(t, "w", 3), ds[0:3]...)
	wantClaimed(t, "second claim of 3", e.claimDeliveries(t, "w", 3), ds[3:6]...)
	wantClaimed(t, "third claim of 3", e.claimDeliveries(t, "w", 3), ds[6])
	wantClaimed(t, "fourth claim of 3", e.claimDeliveries(t, "w", 3))
}

func testClaimConcurrent(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	const n, limit, claimers = 20, 5, 2
	var want []*patchbay.Delivery
	for i := range n {
		org := a.ID
		if i%2 == 1 {
			org = b.ID
		}
		want = append(want, e.delivery(t, org, dueAt(e.clock.Now().Add(-time.Duration(i)*time.Second))))
	}
	e.delivery(t, a.ID, dueAt(e.clock.Now().Add(time.Hour))) // not due

	claimed := make([][]string, claimers)
	errs := make([]error, claimers)
	var wg sync.WaitGroup
	for c := range claimers {
		wg.Go(func() {
			owner := fmt.Sprintf("claimer-%d", c)
			for range n { // bounded: each round claims something or stops
				now := e.clock.Now()
				ds, err := e.s.ClaimDeliveries(e.ctx, owner, now, now.Add(time.Minute), limit)
				if err != nil {
					errs[c] = err
					return
				}
				if len(ds) > limit {
					errs[c] = fmt.Errorf("claimed %d deliveries with limit %d", len(ds), limit)
					return
				}
				if len(ds) == 0 {
					return
				}
				claimed[c] = append(claimed[c], ids(ds, deliveryID)...)
			}
		})
	}
	wg.Wait()
	owner := map[string]int{}
	for c := range claimers {
		must(t, errs[c], fmt.Sprintf("claimer %d", c))
		for _, id := range claimed[c] {
			if prev, ok := owner[id]; ok {
				t.Errorf("claimers %d and %d both claimed %s", prev, c, id)
			}
			owner[id] = c
		}
	}
	// What a claimer skipped as locked was claimed by the other: nothing
	// due is left.
	rest := e.claimDeliveries(t, "late", 100)
	all := slices.Concat(claimed...)
	all = append(all, ids(rest, deliveryID)...)
	slices.Sort(all)
	wantIDs(t, "every due delivery claimed once (sorted)", all, func() []string {
		w := ids(want, deliveryID)
		slices.Sort(w)
		return w
	}())
}

func testClaimLease(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	d := e.delivery(t, org.ID)
	c := e.lease(t, "w1", d)[0]
	e.clock.Advance(30 * time.Second)
	wantClaimed(t, "claim while the lease lives", e.claimDeliveries(t, "w2", 10))
	wantDelivery(t, "delivery while leased", e.findDelivery(t, org.ID, d.ID), c)
	// The holder died: once the lease ends another worker takes it.
	e.clock.Advance(30*time.Second + time.Microsecond)
	wantClaimed(t, "claim after the lease ended", e.claimDeliveries(t, "w2", 10), d)
	wantClaimed(t, "claim right after the take-over", e.claimDeliveries(t, "w3", 10))
}

// A delivery stored already leased (handed straight to a worker) is not
// claimed while the lease lives, is finished by its owner, and is claimed
// again if the owner dies.
func testCreateLeased(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	until := e.clock.Now().Add(time.Minute)
	lease := func(d *patchbay.Delivery) {
		d.Status, d.LeaseOwner, d.LeaseUntil = patchbay.DeliverySending, "w1", &until
	}
	done, died := e.delivery(t, org.ID, lease), e.delivery(t, org.ID, lease)
	wantClaimed(t, "claim while the leases live", e.claimDeliveries(t, "w2", 10))

	now := e.clock.Now()
	done.Status, done.Attempts, done.RoundAttempts, done.LastAttemptAt, done.DeliveredAt = patchbay.DeliveryDelivered, 1, 1, &now, &now
	_, err := e.s.FinishAttempts(e.ctx, "w1", []patchbay.AttemptResult{{Delivery: done,
		Attempt: &patchbay.Attempt{OrgID: org.ID, DeliveryID: done.ID, Number: 1, StartedAt: now, StatusCode: 200}}})
	must(t, err, "FinishAttempts by the lease's owner")
	if got := e.findDelivery(t, org.ID, done.ID); got.Status != patchbay.DeliveryDelivered {
		t.Errorf("leased delivery finished by its owner: status %s, want delivered", got.Status)
	}

	e.clock.Advance(time.Minute + time.Microsecond)
	wantClaimed(t, "claim after the lease ended", e.claimDeliveries(t, "w2", 10), died)
}

func testFinish(t *testing.T, e *env) {
	org, other := e.org(t, "Acme"), e.org(t, "Globex")
	ep := e.endpoint(t, org.ID, "https://a.example/", []string{"*"})
	ev := e.event(t, org.ID, "invoice.paid", "")
	d := e.delivery(t, org.ID, toEndpoint(ep.ID), func(d *patchbay.Delivery) { d.EventID, d.SourceID = ev.ID, "INV-1" })
	vendor := e.delivery(t, org.ID, func(d *patchbay.Delivery) {
		d.EventType, d.ConnectionID, d.Method, d.Path, d.Body = "", "con_shop", "PUT", "/v1/x", []byte(`{"x":1}`)
	})
	claimed := e.lease(t, "w1", d, vendor)

	// A failed attempt, recorded two seconds after it started.
	e.clock.Advance(2 * time.Second)
	now := e.clock.Now()
	started := now.Add(-2 * time.Second)
	next := *claimed[0]
	next.Status, next.Attempts, next.RoundAttempts = patchbay.DeliveryRetrying, 1, 1
	next.NextAttemptAt, next.LastAttemptAt = now.Add(30*time.Second), &started
	next.LastStatusCode, next.LastError = 500, "HTTP 500: Internal Server Error"
	attempt := &patchbay.Attempt{OrgID: org.ID, DeliveryID: d.ID, Number: 1, StartedAt: started, StatusCode: 500,
		Latency: 1234*time.Millisecond + 567*time.Microsecond, Error: next.LastError,
		Response: `{"error": "boom", "ünïcode": true}`}
	vendorResult := e.outcome(claimed[1], patchbay.DeliveryDeadLetter, 0)
	vendorResult.Attempt.ID = "att_preset"
	vendorResult.Attempt.Error = "dial tcp: connection refused"
	tripped := e.finish(t, "w1", patchbay.AttemptResult{Delivery: &next, Attempt: attempt}, vendorResult)
	if len(tripped) != 0 {
		t.Errorf("FinishAttempts after one failure tripped %v", ids(tripped, endpointID))
	}

	want := next
	want.UpdatedAt = e.now()
	wantDelivery(t, "delivery after a failed attempt", e.findDelivery(t, org.ID, d.ID), &want)
	as := e.attempts(t, org.ID, d.ID)
	if len(as) != 1 {
		t.Fatalf("ListAttempts has %d attempts, want 1", len(as))
	}
	wantPrefix(t, "generated attempt ID", as[0].ID, "att_")
	wantAttempt(t, "stored attempt", as[0], &patchbay.Attempt{ID: as[0].ID, OrgID: org.ID, DeliveryID: d.ID, Number: 1,
		StartedAt: started, StatusCode: 500, Latency: 1234 * time.Millisecond, Error: next.LastError,
		Response: attempt.Response})
	e.wantFailures(t, "after one failure", ep, 1)
	wantVendor := *vendorResult.Delivery
	wantVendor.UpdatedAt = e.now()
	wantDelivery(t, "vendor call after its attempt", e.findDelivery(t, org.ID, vendor.ID), &wantVendor)
	vas := e.attempts(t, org.ID, vendor.ID)
	if len(vas) != 1 {
		t.Fatalf("ListAttempts of the vendor call has %d attempts, want 1", len(vas))
	}
	wantAttempt(t, "vendor call attempt with a preset ID", vas[0], vendorResult.Attempt)

	// The same result again is ignored: the delivery is no longer leased.
	e.clock.Advance(time.Second)
	e.finish(t, "w1", patchbay.AttemptResult{Delivery: &next, Attempt: attempt})
	wantDelivery(t, "delivery after a repeated result", e.findDelivery(t, org.ID, d.ID), &want)
	wantIDs(t, "attempts after a repeated result", ids(e.attempts(t, org.ID, d.ID), attemptID), []string{as[0].ID})
	e.wantFailures(t, "after a repeated result", ep, 1)

	// A manual retry succeeds.
	e.clock.Advance(30 * time.Second)
	again := e.lease(t, "w1", d)[0]
	wantDelivery(t, "claimed for the second attempt", again, e.sending(&want))
	ok := e.succeeded(again)
	ok.Attempt.Manual = true
	ok.Attempt.Response = "ok"
	if tripped := e.finish(t, "w1", ok); len(tripped) != 0 {
		t.Errorf("FinishAttempts after a success tripped %v", ids(tripped, endpointID))
	}
	want = *ok.Delivery
	want.UpdatedAt = e.now()
	got := e.findDelivery(t, org.ID, d.ID)
	wantDelivery(t, "delivery after a successful attempt", got, &want)
	if got.Status != patchbay.DeliveryDelivered || got.Attempts != 2 || got.DeliveredAt == nil {
		t.Errorf("delivered delivery has status %q, %d attempts, delivered at %v", got.Status, got.Attempts, got.DeliveredAt)
	}
	as = e.attempts(t, org.ID, d.ID)
	if len(as) != 2 {
		t.Fatalf("ListAttempts has %d attempts, want 2", len(as))
	}
	wantAttempt(t, "first attempt", as[0], &patchbay.Attempt{ID: as[0].ID, OrgID: org.ID, DeliveryID: d.ID, Number: 1,
		StartedAt: started, StatusCode: 500, Latency: 1234 * time.Millisecond, Error: next.LastError,
		Response: attempt.Response})
	okAttempt := *ok.Attempt
	okAttempt.ID = as[1].ID
	wantAttempt(t, "second attempt", as[1], &okAttempt)
	if !as[1].Manual || as[0].Manual {
		t.Errorf("attempts' Manual = %v, %v; want false, true", as[0].Manual, as[1].Manual)
	}
	e.wantFailures(t, "after a success", ep, 0)

	// Attempts are the org's own.
	wantIDs(t, "ListAttempts through another org", ids(e.attempts(t, other.ID, d.ID), attemptID), nil)
	wantIDs(t, "ListAttempts of an unknown delivery", ids(e.attempts(t, org.ID, "dlv_doesnotexist"), attemptID), nil)
}

func testFinishStaleLease(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	ep := e.endpoint(t, org.ID, "https://a.example/", []string{"*"})
	d := e.delivery(t, org.ID, toEndpoint(ep.ID))
	first := e.lease(t, "w1", d)[0]

	// w1 stalls past its lease; w2 takes the delivery over.
	e.clock.Advance(2 * time.Minute)
	d2 := e.delivery(t, org.ID, toEndpoint(ep.ID))
	taken := e.lease(t, "w2", d, d2)[0]

	// w1's late result is ignored.
	e.clock.Advance(time.Second)
	if tripped := e.finish(t, "w1", e.failed(first)); len(tripped) != 0 {
		t.Errorf("a stale result tripped %v", ids(tripped, endpointID))
	}
	wantDelivery(t, "delivery after a stale result", e.findDelivery(t, org.ID, d.ID), taken)
	wantIDs(t, "attempts after a stale result", ids(e.attempts(t, org.ID, d.ID), attemptID), nil)
	e.wantFailures(t, "after a stale result", ep, 0)

	// A result for a delivery never claimed is ignored too.
	never := e.delivery(t, org.ID, toEndpoint(ep.ID), dueAt(e.clock.Now().Add(time.Hour)))
	e.finish(t, "w1", e.succeeded(never))
	wantDelivery(t, "unclaimed delivery after a result", e.findDelivery(t, org.ID, never.ID), never)
	wantIDs(t, "attempts of an unclaimed delivery", ids(e.attempts(t, org.ID, never.ID), attemptID), nil)

	// Another owner's result for w2's delivery is ignored; w2's own counts.
	e.finish(t, "w3", e.succeeded(taken))
	wantDelivery(t, "delivery after another owner's result", e.findDelivery(t, org.ID, d.ID), taken)
	r := e.failed(taken)
	e.finish(t, "w2", r, e.failed(first)) // w1's stale copy in the batch is ignored
	want := *r.Delivery
	want.UpdatedAt = e.now()
	wantDelivery(t, "delivery after its owner's result", e.findDelivery(t, org.ID, d.ID), &want)
	if as := e.attempts(t, org.ID, d.ID); len(as) != 1 || as[0].Number != 1 {
		t.Errorf("attempts after the owner's result: %+v, want one numbered 1", as)
	}
	e.wantFailures(t, "after the owner's failure", ep, 1)
}

// testFinishOvertaken: an engine's worker stalls past its lease, the same
// engine claims the delivery again and attempts it, and the delivery is
// claimed once more for a retry; the stalled worker's result, which counts
// as the first attempt, arrives last and must change nothing.
func testFinishOvertaken(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	ep := e.endpoint(t, org.ID, "https://a.example/", []string{"*"})
	d := e.delivery(t, org.ID, toEndpoint(ep.ID))
	stalled := e.lease(t, "w1", d)[0]

	e.clock.Advance(2 * time.Minute)
	again := e.lease(t, "w1", d)[0]
	e.finish(t, "w1", e.failed(again))
	e.clock.Advance(2 * time.Minute)
	retry := e.lease(t, "w1", d)[0]
	if retry.Attempts != 1 {
		t.Fatalf("the retry's claim has %d attempts, want 1", retry.Attempts)
	}

	e.finish(t, "w1", e.succeeded(stalled))
	wantDelivery(t, "delivery after the stalled result", e.findDelivery(t, org.ID, d.ID), retry)
	if as := e.attempts(t, org.ID, d.ID); len(as) != 1 || as[0].StatusCode != 500 {
		t.Errorf("attempts after the stalled result: %+v, want the one failure", as)
	}

	e.finish(t, "w1", e.succeeded(retry))
	as := e.attempts(t, org.ID, d.ID)
	if len(as) != 2 || as[0].Number != 1 || as[1].Number != 2 || as[1].StatusCode != 200 {
		t.Errorf("attempts after the retry: %+v, want 1 (failed) and 2 (delivered)", as)
	}
	if got := e.findDelivery(t, org.ID, d.ID); got.Status != patchbay.DeliveryDelivered || got.Attempts != 2 {
		t.Errorf("delivery after the retry: %s with %d attempts, want delivered with 2", got.Status, got.Attempts)
	}
}

func testFinishHeld(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	ep := e.endpoint(t, org.ID, "https://a.example/", []string{"*"}, func(ep *patchbay.Endpoint) {
		ep.Active = false
		ep.ConsecutiveFailures = 3
	})
	d := e.delivery(t, org.ID, toEndpoint(ep.ID), func(d *patchbay.Delivery) { d.Attempts, d.RoundAttempts = 2, 1 })
	c := e.lease(t, "w1", d)[0]
	e.clock.Advance(time.Second)
	held := *c
	held.Status = patchbay.DeliveryHeld
	if tripped := e.finish(t, "w1", patchbay.AttemptResult{Delivery: &held}); len(tripped) != 0 {
		t.Errorf("holding a delivery tripped %v", ids(tripped, endpointID))
	}
	want := held
	want.UpdatedAt = e.now()
	wantDelivery(t, "held delivery", e.findDelivery(t, org.ID, d.ID), &want)
	wantIDs(t, "attempts of a held delivery", ids(e.attempts(t, org.ID, d.ID), attemptID), nil)
	e.wantFailures(t, "after holding a delivery", ep, 3)
	// A held delivery is not claimed.
	e.clock.Advance(time.Hour)
	wantClaimed(t, "claim of a held delivery", e.claimDeliveries(t, "w1", 10))
}

func testFinishFailureCount(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	ep1 := e.endpoint(t, org.ID, "https://one.example/", []string{"*"})
	ep2 := e.endpoint(t, org.ID, "https://two.example/", []string{"*"}, func(ep *patchbay.Endpoint) { ep.ConsecutiveFailures = 2 })
	ep3 := e.endpoint(t, org.ID, "https://three.example/", []string{"*"}, func(ep *patchbay.Endpoint) { ep.ConsecutiveFailures = 4 })

	// Failures add up within a batch and across batches; a dead letter and
	// an attempt without a response are failures too.
	a := e.deliveries(t, 3, org.ID, toEndpoint(ep1.ID))
	b := e.deliveries(t, 1, org.ID, toEndpoint(ep2.ID))
	a = e.lease(t, "w1", append(a, b...)...)
	e.finish(t, "w1", e.failed(a[0]), e.outcome(a[1], patchbay.DeliveryDeadLetter, 410),
		e.outcome(a[2], patchbay.DeliveryRetrying, 0), e.failed(a[3]))
	e.wantFailures(t, "after the first batch", ep1, 3)
	e.wantFailures(t, "after the first batch", ep2, 3)
	e.wantFailures(t, "untouched by the first batch", ep3, 4)

	// A success in a batch resets the endpoint's count.
	a = e.lease(t, "w1", slices.Concat(e.deliveries(t, 2, org.ID, toEndpoint(ep1.ID)),
		e.deliveries(t, 2, org.ID, toEndpoint(ep2.ID)))...)
	e.finish(t, "w1", e.failed(a[0]), e.failed(a[1]), e.failed(a[2]), e.succeeded(a[3]))
	e.wantFailures(t, "after a batch of failures", ep1, 5)
	e.wantFailures(t, "after failures and then a success", ep2, 0)

	a = e.lease(t, "w1", slices.Concat(e.deliveries(t, 1, org.ID, toEndpoint(ep1.ID)),
		e.deliveries(t, 1, org.ID, toEndpoint(ep3.ID)))...)
	e.finish(t, "w1", e.succeeded(a[0]), e.succeeded(a[1]))
	e.wantFailures(t, "after a success", ep1, 0)
	e.wantFailures(t, "after a success", ep3, 0)

	// Held deliveries and vendor calls do not count.
	a = e.lease(t, "w1", slices.Concat(e.deliveries(t, 1, org.ID, toEndpoint(ep1.ID)), e.deliveries(t, 1, org.ID))...)
	held := *a[0]
	held.Status = patchbay.DeliveryHeld
	e.finish(t, "w1", patchbay.AttemptResult{Delivery: &held}, e.failed(a[1]))
	e.wantFailures(t, "after a held delivery", ep1, 0)

	// A result for a deleted endpoint is stored and counts for nothing.
	gone := e.endpoint(t, org.ID, "https://gone.example/", []string{"*"})
	a = e.lease(t, "w1", e.deliveries(t, 1, org.ID, toEndpoint(gone.ID))...)
	must(t, e.s.DeleteEndpoint(e.ctx, org.ID, gone.ID), "DeleteEndpoint")
	if tripped := e.finish(t, "w1", e.failed(a[0])); len(tripped) != 0 {
		t.Errorf("a failure for a deleted endpoint tripped %v", ids(tripped, endpointID))
	}
	if as := e.attempts(t, org.ID, a[0].ID); len(as) != 1 {
		t.Errorf("a failure for a deleted endpoint stored %d attempts, want 1", len(as))
	}
}

func testFinishTrip(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	ep1 := e.endpoint(t, org.ID, "https://one.example/", []string{"*"})
	ep2 := e.endpoint(t, org.ID, "https://two.example/", []string{"*"},
		func(ep *patchbay.Endpoint) { ep.ConsecutiveFailures = patchbay.DisableAfter - 2 })
	ep3 := e.endpoint(t, org.ID, "https://three.example/", []string{"*"})
	fail := func(eps ...*patchbay.Endpoint) []*patchbay.Endpoint {
		t.Helper()
		var ds []*patchbay.Delivery
		for _, ep := range eps {
			ds = append(ds, e.deliveries(t, 1, org.ID, toEndpoint(ep.ID))...)
		}
		var results []patchbay.AttemptResult
		for _, d := range e.lease(t, "w1", ds...) {
			results = append(results, e.failed(d))
		}
		e.clock.Advance(time.Second)
		return e.finish(t, "w1", results...)
	}
	repeat := func(ep *patchbay.Endpoint, n int) []*patchbay.Endpoint {
		out := make([]*patchbay.Endpoint, n)
		for i := range out {
			out[i] = ep
		}
		return out
	}

	// One short of the limit trips nothing.
	if tripped := fail(repeat(ep1, patchbay.DisableAfter-1)...); len(tripped) != 0 {
		t.Errorf("%d failures tripped %v", patchbay.DisableAfter-1, ids(tripped, endpointID))
	}
	e.wantFailures(t, "one short of the limit", ep1, patchbay.DisableAfter-1)

	// The failure that reaches the limit trips the endpoint, and one that
	// jumps past it in a batch trips its endpoint too.
	tripped := fail(slices.Concat(repeat(ep1, 1), repeat(ep2, 4), repeat(ep3, 1))...)
	got := ids(tripped, endpointID)
	slices.Sort(got)
	want := []string{ep1.ID, ep2.ID}
	slices.Sort(want)
	wantIDs(t, "tripped endpoints (sorted)", got, want)
	for _, ep := range tripped {
		stored := e.findEndpoint(t, org.ID, ep.ID)
		wantEndpoint(t, "tripped endpoint", ep, stored)
		if ep.DisabledAt != nil {
			t.Errorf("tripped endpoint %s is already disabled", ep.URL)
		}
	}
	e.wantFailures(t, "at the limit", ep1, patchbay.DisableAfter)
	e.wantFailures(t, "past the limit", ep2, patchbay.DisableAfter+2)
	e.wantFailures(t, "below the limit", ep3, 1)

	// The engine disables them; further failures do not trip them again.
	for _, ep := range tripped {
		ep.DisabledAt = ptr(e.clock.Now())
		must(t, e.s.UpdateEndpoint(e.ctx, ep), "UpdateEndpoint disabling")
	}
	if tripped := fail(ep1, ep2, ep1); len(tripped) != 0 {
		t.Errorf("failures of disabled endpoints tripped %v again", ids(tripped, endpointID))
	}
	e.wantFailures(t, "disabled endpoint after more failures", ep1, patchbay.DisableAfter+2)
	e.wantFailures(t, "disabled endpoint after more failures", ep2, patchbay.DisableAfter+3)
}

// testFinishConcurrent records batches of two owners at once, each failing
// deliveries to the same endpoints: none of the batches fails (on
// PostgreSQL the endpoint rows must be locked in one order, or the two
// transactions deadlock) and no failure is lost.
func testFinishConcurrent(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	var eps []*patchbay.Endpoint
	for i := range 8 {
		eps = append(eps, e.endpoint(t, org.ID, fmt.Sprintf("https://%d.example/", i), []string{"*"}))
	}
	const rounds = 30
	owners := []string{"w1", "w2"}
	for round := range rounds {
		// Each owner gets a delivery to every endpoint.
		batches := make([][]patchbay.AttemptResult, len(owners))
		for i, owner := range owners {
			var ds []*patchbay.Delivery
			for _, ep := range eps {
				ds = append(ds, e.deliveries(t, 1, org.ID, toEndpoint(ep.ID))...)
			}
			for _, d := range e.lease(t, owner, ds...) {
				batches[i] = append(batches[i], e.failed(d))
			}
		}
		errs := make([]error, len(owners))
		var wg sync.WaitGroup
		for i, owner := range owners {
			wg.Go(func() { _, errs[i] = e.s.FinishAttempts(e.ctx, owner, batches[i]) })
		}
		wg.Wait()
		for i, err := range errs {
			must(t, err, fmt.Sprintf("round %d: FinishAttempts(%s)", round, owners[i]))
		}
	}
	for _, ep := range eps {
		e.wantFailures(t, "after concurrent batches", ep, rounds*len(owners))
	}
}

func testNextDue(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	next, err := e.s.NextDue(e.ctx)
	must(t, err, "NextDue")
	wantTimePtr(t, "NextDue with no deliveries", next, nil)

	now := e.clock.Now()
	for _, st := range []patchbay.DeliveryStatus{patchbay.DeliveryHeld, patchbay.DeliveryDelivered, patchbay.DeliveryDeadLetter} {
		e.delivery(t, a.ID, withStatus(st), dueAt(now.Add(-time.Hour)))
	}
	next, err = e.s.NextDue(e.ctx)
	must(t, err, "NextDue")
	wantTimePtr(t, "NextDue with no pending or retrying delivery", next, nil)

	e.delivery(t, a.ID, dueAt(now.Add(5*time.Minute)))
	e.delivery(t, a.ID, withStatus(patchbay.DeliveryRetrying), dueAt(now.Add(2*time.Minute+time.Microsecond)))
	next, err = e.s.NextDue(e.ctx)
	must(t, err, "NextDue")
	wantTimePtr(t, "NextDue", next, ptr(now.Add(2*time.Minute+time.Microsecond)))

	// Every org's deliveries count.
	e.delivery(t, b.ID, dueAt(now.Add(time.Minute)))
	next, err = e.s.NextDue(e.ctx)
	must(t, err, "NextDue")
	wantTimePtr(t, "NextDue with another org's delivery", next, ptr(now.Add(time.Minute)))

	// An overdue one is the earliest; once claimed it no longer counts.
	overdue := e.delivery(t, a.ID, dueAt(now.Add(-10*time.Minute)))
	next, err = e.s.NextDue(e.ctx)
	must(t, err, "NextDue")
	wantTimePtr(t, "NextDue with an overdue delivery", next, ptr(now.Add(-10*time.Minute)))
	e.lease(t, "w1", overdue)
	next, err = e.s.NextDue(e.ctx)
	must(t, err, "NextDue")
	wantTimePtr(t, "NextDue after the overdue one was claimed", next, ptr(now.Add(time.Minute)))
}

func testRetryDeliveries(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	now := e.clock.Now()
	sending := e.lease(t, "w1", e.delivery(t, a.ID, toEndpoint("ep_5")))[0]
	failedBefore := func(attempts, round int) func(*patchbay.Delivery) {
		return func(d *patchbay.Delivery) {
			d.Attempts, d.RoundAttempts = attempts, round
			d.LastAttemptAt, d.LastStatusCode, d.LastError = ptr(now.Add(-time.Minute)), 500, "HTTP 500"
		}
	}
	dead := e.delivery(t, a.ID, toEndpoint("ep_1"), withStatus(patchbay.DeliveryDeadLetter), dueAt(now.Add(-time.Hour)), failedBefore(5, 5))
	retrying := e.delivery(t, a.ID, toEndpoint("ep_2"), withStatus(patchbay.DeliveryRetrying), dueAt(now.Add(time.Hour)), failedBefore(2, 2))
	held := e.delivery(t, a.ID, toEndpoint("ep_1"), withStatus(patchbay.DeliveryHeld), failedBefore(1, 1))
	pending := e.delivery(t, a.ID, toEndpoint("ep_3"), dueAt(now.Add(10*time.Minute)))
	vendor := e.delivery(t, a.ID, withStatus(patchbay.DeliveryDeadLetter), failedBefore(3, 3),
		func(d *patchbay.Delivery) { d.ConnectionID, d.Method, d.Path = "con_x", "POST", "/v1/x" })
	delivered := e.delivery(t, a.ID, toEndpoint("ep_4"), withStatus(patchbay.DeliveryDelivered), failedBefore(1, 1),
		func(d *patchbay.Delivery) { d.DeliveredAt = ptr(now) })
	otherOrg := e.delivery(t, b.ID, toEndpoint("ep_9"), withStatus(patchbay.DeliveryDeadLetter), failedBefore(4, 4))

	retryAt := e.clock.Advance(30 * time.Second) // not in UTC; the sending one's lease lives
	endpoints, err := e.s.RetryDeliveries(e.ctx, a.ID, []string{dead.ID, retrying.ID, held.ID, pending.ID, vendor.ID,
		delivered.ID, sending.ID, otherOrg.ID, "dlv_doesnotexist", dead.ID}, retryAt)
	must(t, err, "RetryDeliveries")
	got := slices.Clone(endpoints)
	slices.Sort(got)
	wantIDs(t, "RetryDeliveries endpoints (sorted, each once)", got, []string{"ep_1", "ep_2", "ep_3"})

	for _, d := range []*patchbay.Delivery{dead, retrying, held, pending, vendor} {
		want := *d
		want.Status, want.NextAttemptAt, want.RoundAttempts = patchbay.DeliveryPending, retryAt, 0
		want.UpdatedAt = e.now()
		wantDelivery(t, "retried "+string(d.Status)+" delivery", e.findDelivery(t, a.ID, d.ID), &want)
	}
	wantDelivery(t, "delivered delivery after a retry", e.findDelivery(t, a.ID, delivered.ID), delivered)
	wantDelivery(t, "sending delivery after a retry", e.findDelivery(t, a.ID, sending.ID), sending)
	wantDelivery(t, "another org's delivery after a retry", e.findDelivery(t, b.ID, otherOrg.ID), otherOrg)

	// They are due now.
	next, err := e.s.NextDue(e.ctx)
	must(t, err, "NextDue")
	wantTimePtr(t, "NextDue after a retry", next, &retryAt)
	wantClaimed(t, "claim after a retry", e.claimDeliveries(t, "w2", 100), dead, retrying, held, pending, vendor)

	endpoints, err = e.s.RetryDeliveries(e.ctx, a.ID, nil, retryAt)
	must(t, err, "RetryDeliveries of nothing")
	if len(endpoints) != 0 {
		t.Errorf("RetryDeliveries of nothing = %v", endpoints)
	}
}

func testHoldRelease(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	now := e.clock.Now()
	sending := e.lease(t, "w1", e.delivery(t, a.ID, toEndpoint("ep_1")))[0]
	pending := e.delivery(t, a.ID, toEndpoint("ep_1"), dueAt(now.Add(time.Minute)))
	retrying := e.delivery(t, a.ID, toEndpoint("ep_1"), withStatus(patchbay.DeliveryRetrying), dueAt(now.Add(time.Hour)),
		func(d *patchbay.Delivery) { d.Attempts, d.RoundAttempts = 2, 2 })
	held := e.delivery(t, a.ID, toEndpoint("ep_1"), withStatus(patchbay.DeliveryHeld), dueAt(now.Add(-time.Hour)))
	delivered := e.delivery(t, a.ID, toEndpoint("ep_1"), withStatus(patchbay.DeliveryDelivered))
	dead := e.delivery(t, a.ID, toEndpoint("ep_1"), withStatus(patchbay.DeliveryDeadLetter))
	otherEndpoint := e.delivery(t, a.ID, toEndpoint("ep_2"), dueAt(now.Add(time.Minute)))
	otherHeld := e.delivery(t, a.ID, toEndpoint("ep_2"), withStatus(patchbay.DeliveryHeld))
	otherOrg := e.delivery(t, b.ID, toEndpoint("ep_1"), dueAt(now.Add(time.Minute)))
	otherOrgHeld := e.delivery(t, b.ID, toEndpoint("ep_1"), withStatus(patchbay.DeliveryHeld))
	untouched := []*patchbay.Delivery{sending, delivered, dead, otherEndpoint, otherHeld, otherOrg, otherOrgHeld}
	wantUntouched := func(what string) {
		t.Helper()
		for _, d := range untouched {
			wantDelivery(t, fmt.Sprintf("%s delivery %s of %s, %s", string(d.Status), d.ID, d.EndpointID, what),
				e.findDelivery(t, d.OrgID, d.ID), d)
		}
	}

	e.clock.Advance(time.Second)
	n, err := e.s.HoldDeliveries(e.ctx, a.ID, "ep_1")
	must(t, err, "HoldDeliveries")
	if n != 2 {
		t.Errorf("HoldDeliveries = %d, want 2 (the pending and the retrying one)", n)
	}
	for _, d := range []*patchbay.Delivery{pending, retrying} {
		want := *d
		want.Status, want.UpdatedAt = patchbay.DeliveryHeld, e.now()
		wantDelivery(t, "held "+string(d.Status)+" delivery", e.findDelivery(t, a.ID, d.ID), &want)
	}
	wantDelivery(t, "delivery held already", e.findDelivery(t, a.ID, held.ID), held)
	wantUntouched("after HoldDeliveries")
	if n, err := e.s.HoldDeliveries(e.ctx, a.ID, "ep_1"); err != nil || n != 0 {
		t.Errorf("HoldDeliveries again = %d, %v; want 0, nil", n, err)
	}
	if n, err := e.s.HoldDeliveries(e.ctx, b.ID, "ep_none"); err != nil || n != 0 {
		t.Errorf("HoldDeliveries of an endpoint without deliveries = %d, %v; want 0, nil", n, err)
	}
	// Held deliveries are not claimed.
	e.clock.Advance(2 * time.Hour)
	wantClaimed(t, "claim while held", e.claimDeliveries(t, "w2", 100), otherEndpoint, otherOrg, sending)
	for _, d := range []*patchbay.Delivery{otherEndpoint, otherOrg, sending} {
		*d = *e.sending(d)
	}

	releaseAt := e.clock.Advance(30 * time.Second) // not in UTC; the new leases live
	n, err = e.s.ReleaseDeliveries(e.ctx, a.ID, "ep_1", releaseAt)
	must(t, err, "ReleaseDeliveries")
	if n != 3 {
		t.Errorf("ReleaseDeliveries = %d, want 3", n)
	}
	for _, d := range []*patchbay.Delivery{pending, retrying, held} {
		want := *d
		want.Status, want.NextAttemptAt, want.UpdatedAt = patchbay.DeliveryPending, releaseAt, e.now()
		wantDelivery(t, "released "+string(d.Status)+" delivery", e.findDelivery(t, a.ID, d.ID), &want)
	}
	wantUntouched("after ReleaseDeliveries")
	if n, err := e.s.ReleaseDeliveries(e.ctx, a.ID, "ep_1", releaseAt); err != nil || n != 0 {
		t.Errorf("ReleaseDeliveries again = %d, %v; want 0, nil", n, err)
	}
	wantClaimed(t, "claim after the release", e.claimDeliveries(t, "w2", 100), pending, retrying, held)

	// The other org's held delivery is released by its own org only.
	n, err = e.s.ReleaseDeliveries(e.ctx, b.ID, "ep_1", releaseAt)
	must(t, err, "ReleaseDeliveries")
	if n != 1 {
		t.Errorf("ReleaseDeliveries of the other org = %d, want 1", n)
	}
	if got := e.findDelivery(t, b.ID, otherOrgHeld.ID); got.Status != patchbay.DeliveryPending {
		t.Errorf("the other org's released delivery is %q, want pending", got.Status)
	}
}

func testNotifyDeliveries(t *testing.T, e *env) {
	must(t, e.s.NotifyDeliveries(e.ctx), "NotifyDeliveries")
	org := e.org(t, "Acme")
	var d *patchbay.Delivery
	err := e.s.WithTx(e.ctx, func(tx patchbay.Store) error {
		d = &patchbay.Delivery{OrgID: org.ID, Status: patchbay.DeliveryPending}
		if err := tx.CreateDeliveries(e.ctx, []*patchbay.Delivery{d}); err != nil {
			return err
		}
		return tx.NotifyDeliveries(e.ctx)
	})
	must(t, err, "NotifyDeliveries inside WithTx")
	wantDelivery(t, "delivery committed with a notification", e.findDelivery(t, org.ID, d.ID), d)

	// A notifying transaction that fails rolls back.
	err = e.s.WithTx(e.ctx, func(tx patchbay.Store) error {
		if err := tx.CreateDeliveries(e.ctx, []*patchbay.Delivery{{ID: "dlv_rolledback", OrgID: org.ID, Status: patchbay.DeliveryPending}}); err != nil {
			return err
		}
		if err := tx.NotifyDeliveries(e.ctx); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Errorf("WithTx returning errBoom after NotifyDeliveries = %v", err)
	}
	_, err = e.s.FindDelivery(e.ctx, org.ID, "dlv_rolledback")
	wantCode(t, err, patchbay.ENOTFOUND, "FindDelivery of a rolled-back delivery")
}
