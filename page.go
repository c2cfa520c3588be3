package patchbay

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Page limits for every list.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 200
)

// Page asks for one page of a list ordered newest first. Cursor is the opaque
// NextCursor of the previous page, or empty for the first page.
type Page struct {
	Cursor string
	Limit  int
}

// Size returns the number of rows to return: Limit, defaulted and bounded.
func (p Page) Size() int {
	switch {
	case p.Limit <= 0:
		return DefaultPageLimit
	case p.Limit > MaxPageLimit:
		return MaxPageLimit
	}
	return p.Limit
}

// Cursor is a position in a list ordered by (time, id) descending: the next
// page holds the rows strictly after it.
type Cursor struct {
	At time.Time
	ID string
}

// EncodeCursor returns the opaque form of a position.
func EncodeCursor(at time.Time, id string) string {
	raw := strconv.FormatInt(at.UnixMicro(), 10) + ":" + id
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor parses p.Cursor. It returns nil for an empty cursor and
// EINVALID for one that Patchbay did not make.
func (p Page) DecodeCursor() (*Cursor, error) {
	if p.Cursor == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(p.Cursor)
	if err != nil {
		return nil, Errorf(EINVALID, "Invalid cursor.")
	}
	at, id, ok := strings.Cut(string(raw), ":")
	usec, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || id == "" {
		return nil, Errorf(EINVALID, "Invalid cursor.")
	}
	return &Cursor{At: time.UnixMicro(usec).UTC(), ID: id}, nil
}
