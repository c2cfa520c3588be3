package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

var activityTests = []testCase{
	{"Record", testActivityRecord},
	{"Filters", testActivityFilters},
	{"Pagination", testActivityPagination},
	{"BadCursor", testActivityBadCursor},
	{"OrgIsolation", testActivityOrgIsolation},
}

// wantActivity checks that got has every stored field of want. Detail is
// compared after a JSON round trip, so numbers are float64.
func wantActivity(t *testing.T, what string, got, want *patchbay.Activity) {
	t.Helper()
	if got.ID != want.ID || got.OrgID != want.OrgID || got.ActorType != want.ActorType ||
		got.ActorID != want.ActorID || got.ActorName != want.ActorName || got.Action != want.Action ||
		got.TargetType != want.TargetType || got.TargetID != want.TargetID || got.Outcome != want.Outcome {
		t.Errorf("%s:\n\tgot  %+v\n\twant %+v", what, *got, *want)
	}
	if len(got.Detail) != 0 || len(want.Detail) != 0 {
		if !reflect.DeepEqual(got.Detail, want.Detail) {
			t.Errorf("%s Detail = %#v, want %#v", what, got.Detail, want.Detail)
		}
	}
	wantTime(t, what+" CreatedAt", got.CreatedAt, want.CreatedAt)
}

func activityID(a *patchbay.Activity) string { return a.ID }

// record stores an activity entry at the clock's time.
func (e *env) record(t *testing.T, orgID, actorID, action, targetType, targetID string) *patchbay.Activity {
	t.Helper()
	a := &patchbay.Activity{OrgID: orgID, ActorType: patchbay.ActorUser, ActorID: actorID, ActorName: "Name of " + actorID,
		Action: action, TargetType: targetType, TargetID: targetID, Outcome: patchbay.OutcomeSuccess}
	must(t, e.s.RecordActivity(e.ctx, a), "RecordActivity")
	return a
}

func testActivityRecord(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	a := &patchbay.Activity{OrgID: org.ID, ActorType: patchbay.ActorAPIKey, ActorID: "key_1", ActorName: "Deploy bot",
		Action: "user.create", TargetType: "user", TargetID: "usr_1", Outcome: patchbay.OutcomeFailure,
		Detail: map[string]any{
			"email":  "alice@example.com",
			"count":  3,
			"ratio":  0.5,
			"ok":     true,
			"none":   nil,
			"list":   []any{"a", 2},
			"nested": map[string]any{"deep": "value"},
			"quote":  `it's "quoted" – ünïcode`,
		}}
	must(t, e.s.RecordActivity(e.ctx, a), "RecordActivity")
	wantPrefix(t, "activity ID", a.ID, "act_")
	wantTime(t, "CreatedAt", a.CreatedAt, e.now())

	// Given an ID and a time, the store keeps them.
	at := e.clock.Now().Add(-time.Hour)
	preset := &patchbay.Activity{ID: "act_preset", OrgID: org.ID, ActorType: patchbay.ActorSystem, ActorID: "system",
		Action: "org.create", Outcome: patchbay.OutcomeSuccess, CreatedAt: at}
	must(t, e.s.RecordActivity(e.ctx, preset), "RecordActivity with ID and time")
	if preset.ID != "act_preset" || !preset.CreatedAt.Equal(at) {
		t.Errorf("RecordActivity replaced a given ID or time: %q %v", preset.ID, preset.CreatedAt)
	}

	list, next, err := e.s.ListActivity(e.ctx, org.ID, patchbay.ActivityFilter{})
	must(t, err, "ListActivity")
	wantIDs(t, "ListActivity", ids(list, activityID), []string{a.ID, preset.ID})
	if next != "" {
		t.Errorf("next cursor = %q on the only page", next)
	}
	if len(list) != 2 {
		t.FailNow()
	}
	want := *a
	want.Detail = map[string]any{
		"email":  "alice@example.com",
		"count":  float64(3),
		"ratio":  0.5,
		"ok":     true,
		"none":   nil,
		"list":   []any{"a", float64(2)},
		"nested": map[string]any{"deep": "value"},
		"quote":  `it's "quoted" – ünïcode`,
	}
	wantActivity(t, "listed entry", list[0], &want)
	wantActivity(t, "listed preset entry", list[1], preset)
	if len(list[1].Detail) != 0 {
		t.Errorf("entry recorded without detail lists Detail %#v", list[1].Detail)
	}
}

func testActivityFilters(t *testing.T, e *env) {
	org, other := e.org(t, "Acme"), e.org(t, "Globex")
	t0 := e.clock.Now()
	step := func() { e.clock.Advance(time.Minute) }

	e1 := e.record(t, org.ID, "usr_1", "api_key.create", "api_key", "key_1")
	step()
	e2 := e.record(t, org.ID, "usr_2", "api_key.revoke", "api_key", "key_1")
	step()
	e3 := e.record(t, org.ID, "usr_1", "api_keys_other", "api_key", "key_2") // shares a prefix, no dot
	step()
	e4 := e.record(t, org.ID, "usr_1", "api_key", "api_key", "key_2") // the bare word
	step()
	e5 := e.record(t, org.ID, "usr_2", "user.create", "user", "usr_9")
	step()
	e6 := e.record(t, org.ID, "usr_3", "apiXkey.create", "api_key", "key_3") // what LIKE's _ would match
	step()
	e7 := e.record(t, org.ID, "usr_3", "api%key.create", "user", "api_key") // what LIKE's % would match
	step()
	e.record(t, other.ID, "usr_1", "api_key.create", "api_key", "key_1") // never listed
	e.record(t, other.ID, "usr_1", "user.create", "user", "usr_9")

	at := func(minutes int) *time.Time { v := t0.Add(time.Duration(minutes) * time.Minute); return &v }
	for _, c := range []struct {
		name string
		f    patchbay.ActivityFilter
		want []*patchbay.Activity
	}{
		{"none", patchbay.ActivityFilter{}, []*patchbay.Activity{e7, e6, e5, e4, e3, e2, e1}},
		{"actor", patchbay.ActivityFilter{ActorID: "usr_1"}, []*patchbay.Activity{e4, e3, e1}},
		{"unknown actor", patchbay.ActivityFilter{ActorID: "usr_404"}, nil},
		{"action exact", patchbay.ActivityFilter{Action: "api_key.create"}, []*patchbay.Activity{e1}},
		{"action bare word", patchbay.ActivityFilter{Action: "api_key"}, []*patchbay.Activity{e4}},
		{"action wildcard", patchbay.ActivityFilter{Action: "api_key.*"}, []*patchbay.Activity{e2, e1}},
		{"action wildcard with %", patchbay.ActivityFilter{Action: "api%key.*"}, []*patchbay.Activity{e7}},
		{"action wildcard no match", patchbay.ActivityFilter{Action: "connection.*"}, nil},
		{"action exact is not a prefix", patchbay.ActivityFilter{Action: "api_key."}, nil},
		{"target type", patchbay.ActivityFilter{TargetType: "user"}, []*patchbay.Activity{e7, e5}},
		{"target", patchbay.ActivityFilter{TargetType: "api_key", TargetID: "key_1"}, []*patchbay.Activity{e2, e1}},
		{"target id", patchbay.ActivityFilter{TargetID: "usr_9"}, []*patchbay.Activity{e5}},
		{"since is inclusive", patchbay.ActivityFilter{Since: at(4)}, []*patchbay.Activity{e7, e6, e5}},
		{"until is exclusive", patchbay.ActivityFilter{Until: at(2)}, []*patchbay.Activity{e2, e1}},
		{"since and until", patchbay.ActivityFilter{Since: at(1), Until: at(3)}, []*patchbay.Activity{e3, e2}},
		{"since = until", patchbay.ActivityFilter{Since: at(1), Until: at(1)}, nil},
		{"since in UTC", patchbay.ActivityFilter{Since: ptr(at(6).UTC())}, []*patchbay.Activity{e7}},
		{"between entries", patchbay.ActivityFilter{Since: ptr(at(2).Add(time.Microsecond)), Until: ptr(at(4).Add(time.Microsecond))},
			[]*patchbay.Activity{e5, e4}},
		{"combined", patchbay.ActivityFilter{ActorID: "usr_1", Action: "api_key.*", Since: at(0), Until: at(7)},
			[]*patchbay.Activity{e1}},
	} {
		list, next, err := e.s.ListActivity(e.ctx, org.ID, c.f)
		must(t, err, "ListActivity "+c.name)
		wantIDs(t, "ListActivity "+c.name, ids(list, activityID), ids(c.want, activityID))
		if next != "" {
			t.Errorf("ListActivity %s: next cursor %q on the only page", c.name, next)
		}
	}
	// Every field survives the filters.
	list, _, err := e.s.ListActivity(e.ctx, org.ID, patchbay.ActivityFilter{TargetID: "key_3"})
	must(t, err, "ListActivity")
	if len(list) == 1 {
		wantActivity(t, "filtered entry", list[0], e6)
	}
}

func testActivityPagination(t *testing.T, e *env) {
	org, other := e.org(t, "Acme"), e.org(t, "Globex")
	var all, keys []string
	for i := range 9 {
		action := "user.update"
		if i%2 == 0 {
			action = "api_key.create"
		}
		a := e.record(t, org.ID, "usr_1", action, "x", fmt.Sprint(i))
		e.record(t, other.ID, "usr_1", action, "x", fmt.Sprint(i))
		all = append(all, a.ID)
		if i%2 == 0 {
			keys = append(keys, a.ID)
		}
		if i%3 != 2 { // some entries share an instant
			e.clock.Advance(time.Second)
		}
	}
	for _, limit := range []int{1, 2, 4, 9, 10} {
		got := walk(t, limit, func(p patchbay.Page) ([]*patchbay.Activity, string, error) {
			return e.s.ListActivity(e.ctx, org.ID, patchbay.ActivityFilter{Page: p})
		})
		wantIDs(t, fmt.Sprintf("walk with limit %d", limit), ids(got, activityID), reversed(all))
		got = walk(t, limit, func(p patchbay.Page) ([]*patchbay.Activity, string, error) {
			return e.s.ListActivity(e.ctx, org.ID, patchbay.ActivityFilter{Action: "api_key.*", Page: p})
		})
		wantIDs(t, fmt.Sprintf("filtered walk with limit %d", limit), ids(got, activityID), reversed(keys))
	}
}

func testActivityBadCursor(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	e.record(t, org.ID, "usr_1", "user.create", "user", "usr_1")
	for _, c := range badCursors {
		_, _, err := e.s.ListActivity(e.ctx, org.ID, patchbay.ActivityFilter{Page: patchbay.Page{Cursor: c}})
		wantCode(t, err, patchbay.EINVALID, "ListActivity with cursor "+c)
	}
}

func testActivityOrgIsolation(t *testing.T, e *env) {
	a, b := e.org(t, "Acme"), e.org(t, "Globex")
	ea := e.record(t, a.ID, "usr_a", "user.create", "user", "usr_a2")
	e.clock.Advance(time.Second)
	eb := e.record(t, b.ID, "usr_b", "user.create", "user", "usr_b2")

	for _, c := range []struct {
		org  string
		f    patchbay.ActivityFilter
		want []string
	}{
		{a.ID, patchbay.ActivityFilter{}, []string{ea.ID}},
		{b.ID, patchbay.ActivityFilter{}, []string{eb.ID}},
		{a.ID, patchbay.ActivityFilter{TargetID: "usr_b2"}, nil},
		{a.ID, patchbay.ActivityFilter{ActorID: "usr_b"}, nil},
		{b.ID, patchbay.ActivityFilter{Action: "user.*"}, []string{eb.ID}},
		{"org_doesnotexist", patchbay.ActivityFilter{}, nil},
	} {
		list, _, err := e.s.ListActivity(e.ctx, c.org, c.f)
		must(t, err, "ListActivity")
		wantIDs(t, fmt.Sprintf("ListActivity(%s, %+v)", c.org, c.f), ids(list, activityID), c.want)
	}
	// A cursor from one org's list does not open another's.
	_, next, err := e.s.ListActivity(e.ctx, b.ID, patchbay.ActivityFilter{Page: patchbay.Page{Limit: 1}})
	must(t, err, "ListActivity")
	if next != "" {
		t.Errorf("next cursor %q on a single-entry list", next)
	}
	e.record(t, b.ID, "usr_b", "user.delete", "user", "usr_b2")
	first, next, err := e.s.ListActivity(e.ctx, b.ID, patchbay.ActivityFilter{Page: patchbay.Page{Limit: 1}})
	must(t, err, "ListActivity")
	if len(first) != 1 || next == "" {
		t.Fatalf("first page of two entries: %d entries, cursor %q", len(first), next)
	}
	list, _, err := e.s.ListActivity(e.ctx, a.ID, patchbay.ActivityFilter{Page: patchbay.Page{Cursor: next}})
	must(t, err, "ListActivity with another org's cursor")
	for _, got := range list {
		if got.OrgID != a.ID {
			t.Errorf("ListActivity(%s) returned an entry of org %s", a.ID, got.OrgID)
		}
	}
}
