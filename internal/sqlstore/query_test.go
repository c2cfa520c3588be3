package sqlstore

import (
	"reflect"
	"testing"
	"time"
)

func TestValues(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name       string
		positional bool
		before     bool // an argument bound before the list
		rows       [][]any
		types      []string
		sql        string
		args       []any
	}{{
		name: "one row shares nothing",
		rows: [][]any{{"a", 1}},
		sql:  "($1, $2)",
		args: []any{"a", 1},
	}, {
		name:  "a shared column is bound once, cast on PostgreSQL",
		rows:  [][]any{{"a", "org"}, {"b", "org"}},
		types: []string{"text", "text"},
		sql:   "($2::text, $1::text), ($3::text, $1::text)",
		args:  []any{"org", "a", "b"},
	}, {
		name:       "SQLite numbers the shared values and the first row, then counts on",
		positional: true,
		rows:       [][]any{{"a", "org", nil}, {"b", "org", nil}, {"c", "org", nil}},
		sql:        "(?3, ?1, ?2), (?, ?1, ?2), (?, ?1, ?2)",
		args:       []any{"org", nil, "a", "b", "c"},
	}, {
		name:       "after an earlier argument",
		positional: true,
		before:     true,
		rows:       [][]any{{"a", 7}, {"b", 7}},
		sql:        "? (?3, ?2), (?, ?2)",
		args:       []any{"x", 7, "a", "b"},
	}, {
		name: "equal instants in other locations, other types and byte slices are not shared",
		rows: [][]any{
			{t0, 1, []byte("x"), int64(1)},
			{t0.In(time.FixedZone("X", 3600)), int64(1), []byte("x"), int64(1)},
		},
		sql:  "($2, $3, $4, $1), ($5, $6, $7, $1)",
		args: []any{int64(1), t0, 1, []byte("x"), t0.In(time.FixedZone("X", 3600)), int64(1), []byte("x")},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := query{positional: tt.positional}
			if tt.before {
				q.sql.WriteString(q.bind("x", "") + " ")
			}
			q.values(tt.rows, tt.types)
			if got := q.sql.String(); got != tt.sql {
				t.Errorf("sql = %q, want %q", got, tt.sql)
			}
			if !reflect.DeepEqual(q.args, tt.args) {
				t.Errorf("args = %#v, want %#v", q.args, tt.args)
			}
		})
	}
}

func TestArgList(t *testing.T) {
	var q query
	q.arg("org")
	if got := argList(&q, []string{"a", "b", "c"}); got != "$2, $3, $4" {
		t.Errorf("argList after one argument = %q, want %q", got, "$2, $3, $4")
	}
	if want := []any{"org", "a", "b", "c"}; !reflect.DeepEqual(q.args, want) {
		t.Errorf("args = %v, want %v", q.args, want)
	}
}
