// Package pgtest gives tests a PostgreSQL database of their own: a fresh,
// empty schema on a shared server, dropped when the test ends.
//
// The server is the one at $PATCHBAY_TEST_POSTGRES, or DefaultURL. When it
// cannot be reached the test is skipped — unless CI=true, where it fails, so
// that a CI run never passes by silently skipping the PostgreSQL tests.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the environment variable holding the server's URL.
const EnvURL = "PATCHBAY_TEST_POSTGRES"

// DefaultURL is the server used when EnvURL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// SchemaPrefix starts the name of every schema URL creates, so leftovers of
// a killed run are easy to find and drop.
const SchemaPrefix = "pbtest_"

// BaseURL returns the server's URL: $PATCHBAY_TEST_POSTGRES or DefaultURL.
func BaseURL() string {
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return DefaultURL
}

var (
	probeOnce sync.Once
	probeErr  error
)

// Require skips the test, or fails it when CI=true, unless the test server
// answers. The server is tried once per process. URL calls it; a test that
// opens many schemas can call it first to skip once instead of per subtest.
func Require(t testing.TB) {
	t.Helper()
	base := BaseURL()
	probeOnce.Do(func() { probeErr = probe(base) })
	if probeErr != nil {
		msg := fmt.Sprintf("PostgreSQL at %s is unreachable (set %s to use another server): %v",
			redact(base), EnvURL, probeErr)
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s; CI=true requires it", msg)
		}
		t.Skip(msg)
	}
}

// URL returns the URL of a fresh, empty schema on the test server: the base
// URL with search_path set to the schema, which pgx sends to the server as a
// run-time parameter, so every unqualified name (the migrations' tables,
// goose's version table) lands in that schema. The schema is dropped, with
// everything in it, when the test ends; close connections to it in a
// cleanup registered after calling URL, so that they close first.
func URL(t testing.TB) string {
	t.Helper()
	Require(t)
	base := BaseURL()
	schema := SchemaPrefix + randomHex(8)
	u, err := WithSearchPath(base, schema)
	if err != nil {
		t.Fatal(err)
	}
	ident := pgx.Identifier{schema}.Sanitize()
	if err := exec(base, "CREATE SCHEMA "+ident); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if err := exec(base, "DROP SCHEMA IF EXISTS "+ident+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return u
}

// WithSearchPath returns base with its search_path parameter set to schema.
// base may be a URL, with or without a query, or a keyword/value string
// ("host=… dbname=…").
func WithSearchPath(base, schema string) (string, error) {
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return base + " search_path=" + schema, nil
	}
	u, err := url.Parse(base)
	if err != nil {
		// Keep the URL, which may hold a password, out of the error.
		return "", fmt.Errorf("%s is not a valid URL", EnvURL)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// probe checks once that the server answers.
func probe(base string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.Ping(ctx)
}

// exec runs one statement on a connection of its own.
func exec(base, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// redact returns base without its password, for messages.
func redact(base string) string {
	if u, err := url.Parse(base); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return "$" + EnvURL
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}
