package storetest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

var orgTests = []testCase{
	{"CreateFindCount", testOrgCreateFindCount},
	{"FindUnknown", testOrgFindUnknown},
	{"InvalidName", testOrgInvalidName},
	{"ClockPrecision", testOrgClockPrecision},
	{"MarkBootstrapped", testOrgMarkBootstrapped},
	{"MarkBootstrappedConcurrent", testOrgMarkBootstrappedConcurrent},
	{"Ping", func(t *testing.T, e *env) { must(t, e.s.Ping(e.ctx), "Ping") }},
}

func testOrgCreateFindCount(t *testing.T, e *env) {
	n, err := e.s.CountOrgs(e.ctx)
	must(t, err, "CountOrgs")
	if n != 0 {
		t.Fatalf("CountOrgs on a fresh database = %d, want 0", n)
	}

	o := &patchbay.Org{Name: "  Acme Corp  "}
	must(t, e.s.CreateOrg(e.ctx, o), "CreateOrg")
	wantPrefix(t, "org ID", o.ID, "org_")
	if o.Name != "Acme Corp" {
		t.Errorf("Name = %q, want it trimmed to %q", o.Name, "Acme Corp")
	}
	wantTime(t, "CreatedAt", o.CreatedAt, e.now())
	wantTime(t, "UpdatedAt", o.UpdatedAt, e.now())

	e.clock.Advance(time.Hour)
	o2 := e.org(t, "Globex")
	if o2.ID == o.ID {
		t.Fatalf("two orgs got the same id %q", o.ID)
	}
	wantTime(t, "second CreatedAt", o2.CreatedAt, e.now())

	n, err = e.s.CountOrgs(e.ctx)
	must(t, err, "CountOrgs")
	if n != 2 {
		t.Errorf("CountOrgs = %d, want 2", n)
	}

	for _, want := range []*patchbay.Org{o, o2} {
		got, err := e.s.FindOrg(e.ctx, want.ID)
		must(t, err, "FindOrg")
		if got.ID != want.ID || got.Name != want.Name {
			t.Errorf("FindOrg = {%q %q}, want {%q %q}", got.ID, got.Name, want.ID, want.Name)
		}
		wantTime(t, "found CreatedAt", got.CreatedAt, want.CreatedAt)
		wantTime(t, "found UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	}
}

func testOrgFindUnknown(t *testing.T, e *env) {
	e.org(t, "Acme")
	for _, id := range []string{"org_doesnotexist", "", "Acme"} {
		_, err := e.s.FindOrg(e.ctx, id)
		wantCode(t, err, patchbay.ENOTFOUND, "FindOrg("+id+")")
	}
}

func testOrgInvalidName(t *testing.T, e *env) {
	for _, name := range []string{"", "   ", strings.Repeat("x", 201)} {
		err := e.s.CreateOrg(e.ctx, &patchbay.Org{Name: name})
		wantCode(t, err, patchbay.EINVALID, "CreateOrg with a bad name")
	}
	n, err := e.s.CountOrgs(e.ctx)
	must(t, err, "CountOrgs")
	if n != 0 {
		t.Errorf("CountOrgs after invalid creates = %d, want 0", n)
	}
	// The longest allowed name is fine.
	e.org(t, strings.Repeat("x", 200))
}

// testOrgClockPrecision checks that the store keeps microseconds and drops
// the rest, so what it returns equals what it reads back.
func testOrgClockPrecision(t *testing.T, e *env) {
	at := time.Date(2031, time.July, 4, 23, 59, 59, 987654321, time.FixedZone("UTC-07:00", -7*3600))
	e.clock.Set(at)
	o := e.org(t, "Acme")
	want := time.Date(2031, time.July, 5, 6, 59, 59, 987654000, time.UTC)
	wantTime(t, "CreatedAt", o.CreatedAt, want)
	got, err := e.s.FindOrg(e.ctx, o.ID)
	must(t, err, "FindOrg")
	wantTime(t, "found CreatedAt", got.CreatedAt, want)
}

func testOrgMarkBootstrapped(t *testing.T, e *env) {
	must(t, e.s.MarkBootstrapped(e.ctx), "first MarkBootstrapped")
	wantCode(t, e.s.MarkBootstrapped(e.ctx), patchbay.ECONFLICT, "second MarkBootstrapped")
	e.clock.Advance(time.Hour)
	wantCode(t, e.s.MarkBootstrapped(e.ctx), patchbay.ECONFLICT, "third MarkBootstrapped")
}

// testOrgMarkBootstrappedConcurrent stands in for replicas starting at once:
// exactly one of them may bootstrap.
func testOrgMarkBootstrappedConcurrent(t *testing.T, e *env) {
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = e.s.MarkBootstrapped(e.ctx) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch patchbay.ErrorCode(err) {
		case "":
			won++
		case patchbay.ECONFLICT:
		default:
			t.Errorf("concurrent MarkBootstrapped: unexpected error %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d concurrent MarkBootstrapped calls succeeded, want exactly 1", won, n)
	}
}
