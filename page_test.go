package patchbay_test

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

func TestPageSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		limit, want int
	}{
		{-1, patchbay.DefaultPageLimit},
		{0, patchbay.DefaultPageLimit},
		{1, 1},
		{50, 50},
		{199, 199},
		{200, 200},
		{201, patchbay.MaxPageLimit},
		{1 << 30, patchbay.MaxPageLimit},
	}
	if patchbay.DefaultPageLimit != 50 || patchbay.MaxPageLimit != 200 {
		t.Errorf("page limits = %d, %d; the API documents 50 and 200", patchbay.DefaultPageLimit, patchbay.MaxPageLimit)
	}
	for _, tt := range tests {
		if got := (patchbay.Page{Limit: tt.limit}).Size(); got != tt.want {
			t.Errorf("Page{Limit: %d}.Size() = %d, want %d", tt.limit, got, tt.want)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		at   time.Time
		id   string
		want time.Time // at, as the cursor keeps it (UTC, microseconds)
	}{
		{"typical", time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC), "key_06bq3",
			time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)},
		{"nanoseconds truncated", time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC), "usr_1",
			time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)},
		{"other zone becomes UTC", time.Date(2025, 1, 1, 1, 0, 0, 0, time.FixedZone("CET", 3600)), "org_1",
			time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"before 1970", time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC), "act_1",
			time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC)},
		{"epoch", time.Unix(0, 0).UTC(), "x", time.Unix(0, 0).UTC()},
		{"id with colon", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), "a:b:c",
			time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			enc := patchbay.EncodeCursor(tt.at, tt.id)
			if enc == "" {
				t.Fatal("EncodeCursor returned an empty cursor, which means the first page")
			}
			c, err := patchbay.Page{Cursor: enc}.DecodeCursor()
			if err != nil {
				t.Fatalf("DecodeCursor(%q): %v", enc, err)
			}
			if c == nil {
				t.Fatalf("DecodeCursor(%q) = nil", enc)
			}
			if !c.At.Equal(tt.want) || c.At.Location() != time.UTC {
				t.Errorf("At = %v, want %v in UTC", c.At, tt.want)
			}
			if c.ID != tt.id {
				t.Errorf("ID = %q, want %q", c.ID, tt.id)
			}
		})
	}
}

func TestCursorEmpty(t *testing.T) {
	t.Parallel()
	c, err := patchbay.Page{}.DecodeCursor()
	if c != nil || err != nil {
		t.Fatalf("empty cursor decoded to %+v, %v; want nil, nil", c, err)
	}
}

func TestCursorInvalid(t *testing.T) {
	t.Parallel()
	b64 := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		name, cursor string
	}{
		{"not base64", "!!!not-a-cursor!!!"},
		{"padded standard base64", base64.StdEncoding.EncodeToString([]byte("1700000000000000:id1"))},
		{"no separator", b64([]byte("1700000000000000"))},
		{"time not a number", b64([]byte("yesterday:key_1"))},
		{"time is a float", b64([]byte("1.5:key_1"))},
		{"empty time", b64([]byte(":key_1"))},
		{"empty id", b64([]byte("1700000000000000:"))},
		{"time overflows", b64([]byte("99999999999999999999:key_1"))},
		{"whitespace", " " + b64([]byte("1700000000000000:key_1"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := patchbay.Page{Cursor: tt.cursor}.DecodeCursor()
			if code := patchbay.ErrorCode(err); code != patchbay.EINVALID {
				t.Fatalf("DecodeCursor(%q) = %+v, %v (code %q); want EINVALID", tt.cursor, c, err, code)
			}
			if c != nil {
				t.Errorf("DecodeCursor returned a cursor with its error: %+v", c)
			}
		})
	}
}
