package storetest

import (
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

var sessionTests = []testCase{
	{"Lifecycle", testSessionLifecycle},
	{"Expired", testSessionExpired},
	{"DeleteUserSessions", testDeleteUserSessions},
	{"DailyDeliveries", testDailyDeliveries},
}

func testSessionLifecycle(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	u := e.user(t, org.ID, "ada@acme.test")
	s := &patchbay.Session{TokenHash: "hash-1", OrgID: org.ID, UserID: u.ID, ExpiresAt: e.clock.Now().Add(12 * time.Hour)}
	must(t, e.s.CreateSession(e.ctx, s), "CreateSession")
	wantCode(t, e.s.CreateSession(e.ctx, &patchbay.Session{TokenHash: "hash-1", OrgID: org.ID, UserID: u.ID,
		ExpiresAt: e.now()}), patchbay.ECONFLICT, "CreateSession with a taken hash")

	got, err := e.s.FindSession(e.ctx, "hash-1")
	must(t, err, "FindSession")
	if got.OrgID != org.ID || got.UserID != u.ID {
		t.Fatalf("found %+v", got)
	}
	wantTime(t, "CreatedAt", got.CreatedAt, e.now())
	wantTime(t, "LastSeenAt", got.LastSeenAt, e.now())
	wantTime(t, "ExpiresAt", got.ExpiresAt, e.now().Add(12*time.Hour))

	later := e.clock.Advance(time.Minute)
	must(t, e.s.TouchSession(e.ctx, "hash-1", later), "TouchSession")
	got, err = e.s.FindSession(e.ctx, "hash-1")
	must(t, err, "FindSession after touch")
	wantTime(t, "LastSeenAt after touch", got.LastSeenAt, e.now())
	wantCode(t, e.s.TouchSession(e.ctx, "nope", later), patchbay.ENOTFOUND, "TouchSession of a missing session")

	must(t, e.s.DeleteSession(e.ctx, "hash-1"), "DeleteSession")
	must(t, e.s.DeleteSession(e.ctx, "hash-1"), "DeleteSession again")
	_, err = e.s.FindSession(e.ctx, "hash-1")
	wantCode(t, err, patchbay.ENOTFOUND, "FindSession after delete")
}

func testSessionExpired(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	u := e.user(t, org.ID, "ada@acme.test")
	for i, d := range []time.Duration{time.Hour, 3 * time.Hour} {
		must(t, e.s.CreateSession(e.ctx, &patchbay.Session{TokenHash: string(rune('a' + i)), OrgID: org.ID, UserID: u.ID,
			ExpiresAt: e.clock.Now().Add(d)}), "CreateSession")
	}
	n, err := e.s.DeleteExpiredSessions(e.ctx, e.clock.Now().Add(2*time.Hour))
	must(t, err, "DeleteExpiredSessions")
	if n != 1 {
		t.Fatalf("removed %d sessions, want 1", n)
	}
	_, err = e.s.FindSession(e.ctx, "a")
	wantCode(t, err, patchbay.ENOTFOUND, "expired session")
	_, err = e.s.FindSession(e.ctx, "b")
	must(t, err, "live session")
}

func testDailyDeliveries(t *testing.T, e *env) {
	org, other := e.org(t, "Acme"), e.org(t, "Globex")
	ep := e.endpoint(t, org.ID, "https://a.example/", []string{"*"})
	ep2 := e.endpoint(t, org.ID, "https://b.example/", []string{"*"})
	theirs := e.endpoint(t, other.ID, "https://c.example/", []string{"*"})
	first := e.now().Truncate(24 * time.Hour)

	// Day 1: one failed then one good attempt at ep; day 3: a good one.
	d1 := e.delivery(t, org.ID, toEndpoint(ep.ID))
	d2 := e.delivery(t, org.ID, toEndpoint(ep2.ID))
	c := e.lease(t, "w1", d1, d2)
	e.clock.Advance(2 * time.Second)
	e.finish(t, "w1", e.failed(c[0]), e.succeeded(c[1]))
	e.clock.Advance(2 * time.Minute)
	c = e.lease(t, "w1", d1)
	e.clock.Advance(2 * time.Second)
	e.finish(t, "w1", e.succeeded(c[0]))
	e.clock.Advance(48 * time.Hour)
	d3 := e.delivery(t, other.ID, toEndpoint(theirs.ID))
	c = e.lease(t, "w1", d3)
	e.finish(t, "w1", e.succeeded(c[0]))

	days, err := e.s.DailyDeliveries(e.ctx, org.ID, patchbay.DeliveryStatsFilter{EndpointID: ep.ID, Since: first})
	must(t, err, "DailyDeliveries")
	if len(days) != 3 {
		t.Fatalf("%d days, want 3: %+v", len(days), days)
	}
	wantTime(t, "first day", days[0].Day, first)
	if d := days[0]; d.Succeeded != 1 || d.Failed != 1 || d.AvgLatency != 800*time.Millisecond || d.MaxLatency != 800*time.Millisecond {
		t.Errorf("day 1 of ep = %+v", d)
	}
	if d := days[1]; d.Succeeded+d.Failed != 0 {
		t.Errorf("day 2 of ep = %+v, want empty", d)
	}
	all, err := e.s.DailyDeliveries(e.ctx, org.ID, patchbay.DeliveryStatsFilter{Since: first})
	must(t, err, "DailyDeliveries of the org")
	if n := all[0].Succeeded + all[0].Failed + all[2].Succeeded + all[2].Failed; n != 3 {
		t.Errorf("org attempts counted %d, want 3 (another org's are not)", n)
	}
	if _, err := e.s.DailyDeliveries(e.ctx, org.ID, patchbay.DeliveryStatsFilter{Since: e.now().Add(48 * time.Hour)}); patchbay.ErrorCode(err) != patchbay.EINVALID {
		t.Errorf("empty range: %v", err)
	}
}

func testDeleteUserSessions(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	ada, bob := e.user(t, org.ID, "ada@acme.test"), e.user(t, org.ID, "bob@acme.test")
	for _, s := range []*patchbay.Session{
		{TokenHash: "ada-1", UserID: ada.ID}, {TokenHash: "ada-2", UserID: ada.ID}, {TokenHash: "ada-3", UserID: ada.ID},
		{TokenHash: "bob-1", UserID: bob.ID},
	} {
		s.OrgID, s.ExpiresAt = org.ID, e.clock.Now().Add(time.Hour)
		must(t, e.s.CreateSession(e.ctx, s), "CreateSession")
	}
	n, err := e.s.DeleteUserSessions(e.ctx, ada.ID, "ada-2")
	must(t, err, "DeleteUserSessions")
	if n != 2 {
		t.Errorf("DeleteUserSessions removed %d, want 2", n)
	}
	for hash, want := range map[string]bool{"ada-1": false, "ada-2": true, "ada-3": false, "bob-1": true} {
		_, err := e.s.FindSession(e.ctx, hash)
		if got := err == nil; got != want {
			t.Errorf("session %s kept = %v (%v), want %v", hash, got, err, want)
		}
	}
}
