// Package storetest is the one test suite every patchbay.Store must pass.
// internal/sqlite and internal/postgres run it from their tests with an
// opener that hands each subtest a fresh, empty, migrated database:
//
//	storetest.Run(t, func(t *testing.T, now func() time.Time) patchbay.Store { … })
//
// Every subtest opens its own store and drives time through a Clock, so the
// subtests run in parallel and time-based behaviour is deterministic.
package storetest

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

// Clock is a fake clock: it stands still until advanced. It is safe for
// concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that reads start until advanced or set.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time. It has the signature stores take as their
// clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Start is the time every subtest's clock starts at. It is deliberately not
// in UTC (stores must normalise) and has a sub-second part at microsecond
// precision, the precision both engines keep.
var Start = time.Date(2025, time.March, 1, 12, 0, 0, 123456000, time.FixedZone("UTC+05:30", 5*3600+30*60))

// Run runs the suite. open must return a store over a fresh, empty, migrated
// database each time it is called, using now as the store's clock, and
// register its own cleanup (closing the store, removing the database).
func Run(t *testing.T, open func(t *testing.T, now func() time.Time) patchbay.Store) {
	groups := []struct {
		name  string
		cases []testCase
	}{
		{"Orgs", orgTests},
		{"Users", userTests},
		{"Roles", roleTests},
		{"APIKeys", apiKeyTests},
		{"Activity", activityTests},
		{"WithTx", txTests},
		{"Connections", connectionTests},
		{"OAuth", oauthTests},
		{"Sealed", sealedTests},
		{"Endpoints", endpointTests},
		{"Events", eventTests},
		{"Deliveries", deliveryTests},
		{"Queue", queueTests},
		{"Mappings", mappingTests},
		{"Requests", requestTests},
		{"Sessions", sessionTests},
		{"Syncs", syncTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range g.cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(t, newEnv(t, open))
				})
			}
		})
	}
}

// testCase is one subtest; it gets a fresh store.
type testCase struct {
	name string
	fn   func(t *testing.T, e *env)
}

// env is what a subtest works with: its own store, clock and context.
type env struct {
	ctx   context.Context
	clock *Clock
	s     patchbay.Store
}

func newEnv(t *testing.T, open func(t *testing.T, now func() time.Time) patchbay.Store) *env {
	t.Helper()
	// A deadline turns a deadlock (a nested transaction waiting for the one
	// SQLite write connection, say) into a failure instead of a hang.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	clock := NewClock(Start)
	s := open(t, clock.Now)
	if s == nil {
		t.Fatal("open returned a nil store")
	}
	return &env{ctx: ctx, clock: clock, s: s}
}

// now returns the time the store records for "now": the clock in UTC at
// microsecond precision.
func (e *env) now() time.Time { return e.clock.Now().UTC().Truncate(time.Microsecond) }

// org creates an org.
func (e *env) org(t *testing.T, name string) *patchbay.Org {
	t.Helper()
	o := &patchbay.Org{Name: name}
	must(t, e.s.CreateOrg(e.ctx, o), "CreateOrg")
	return o
}

// user creates a user of the org with the built-in Editor role.
func (e *env) user(t *testing.T, orgID, email string) *patchbay.User {
	t.Helper()
	u := &patchbay.User{OrgID: orgID, Email: email, Name: "User " + email, RoleID: patchbay.RoleEditor,
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"}
	must(t, e.s.CreateUser(e.ctx, u), "CreateUser")
	return u
}

// role creates a custom role of the org.
func (e *env) role(t *testing.T, orgID, name string, caps ...patchbay.Capability) *patchbay.Role {
	t.Helper()
	r := &patchbay.Role{OrgID: orgID, Name: name, Capabilities: caps}
	must(t, e.s.CreateRole(e.ctx, r), "CreateRole")
	return r
}

// apiKey creates an API key of the org and returns it with its secret.
func (e *env) apiKey(t *testing.T, orgID, name string) (*patchbay.APIKey, string) {
	t.Helper()
	k, secret := newAPIKey(orgID, name)
	must(t, e.s.CreateAPIKey(e.ctx, k), "CreateAPIKey")
	return k, secret
}

// newAPIKey returns an unsaved key with a fresh secret.
func newAPIKey(orgID, name string) (*patchbay.APIKey, string) {
	secret, prefix, hash := patchbay.GenerateAPIKey()
	return &patchbay.APIKey{OrgID: orgID, Name: name, Prefix: prefix, Hash: hash, RoleID: patchbay.RoleViewer,
		RateLimit: patchbay.DefaultRateLimit, CreatedBy: "user:usr_test"}, secret
}

// must fails the test now if err is not nil.
func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

// wantCode fails the test now unless err carries the given code.
func wantCode(t *testing.T, err error, code, what string) {
	t.Helper()
	if got := patchbay.ErrorCode(err); got != code {
		t.Fatalf("%s: got error %v (code %q), want code %q", what, err, got, code)
	}
}

// wantTime checks that got is the instant want and is in UTC.
func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
	if got.Location() != time.UTC {
		t.Errorf("%s = %v is in %q, want UTC", what, got, got.Location())
	}
}

// wantTimePtr is wantTime for optional times.
func wantTimePtr(t *testing.T, what string, got, want *time.Time) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s = %v, want %v", what, fmtTimePtr(got), fmtTimePtr(want))
	default:
		wantTime(t, what, *got, *want)
	}
}

func fmtTimePtr(p *time.Time) string {
	if p == nil {
		return "nil"
	}
	return p.String()
}

// wantPrefix checks that an id has the kind prefix the store promises.
func wantPrefix(t *testing.T, what, id, prefix string) {
	t.Helper()
	if !strings.HasPrefix(id, prefix) || len(id) <= len(prefix) {
		t.Errorf("%s = %q, want an id starting with %q", what, id, prefix)
	}
}

// wantIDs checks that got lists exactly the ids want, in that order.
func wantIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: got ids\n\t%v\nwant\n\t%v", what, got, want)
	}
}

// ids returns the id of every row.
func ids[T any](rows []T, id func(T) string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = id(r)
	}
	return out
}

// reversed returns a reversed copy of s.
func reversed[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// walk reads every page of a list, limit rows at a time, checking that
// every page but the last is full and the last carries no cursor.
func walk[T any](t *testing.T, limit int, list func(patchbay.Page) ([]T, string, error)) []T {
	t.Helper()
	var all []T
	p := patchbay.Page{Limit: limit}
	for pages := 1; ; pages++ {
		rows, next, err := list(p)
		must(t, err, "list page")
		if len(rows) > limit {
			t.Fatalf("page %d has %d rows, want at most %d", pages, len(rows), limit)
		}
		all = append(all, rows...)
		if next == "" {
			return all
		}
		if len(rows) != limit {
			t.Fatalf("page %d has %d rows and a next cursor, want a full page of %d", pages, len(rows), limit)
		}
		if next == p.Cursor {
			t.Fatalf("page %d returned the cursor it was given", pages)
		}
		if pages > 1000 {
			t.Fatal("pagination does not end")
		}
		p.Cursor = next
	}
}

// badCursors are cursors the store did not make; each must be EINVALID.
var badCursors = []string{
	"not a cursor!",
	"Z2FyYmFnZQ",      // base64 of "garbage": no separator
	"YWJjOnVzcl94",    // base64 of "abc:usr_x": no time
	"MTIzNDU2Nzg5MDo", // base64 of "1234567890:": no id
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }
