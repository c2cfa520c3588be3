package patchbay_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/patchbay/patchbay"
)

func TestErrorCodeAndMessage(t *testing.T) {
	t.Parallel()
	notFound := patchbay.Errorf(patchbay.ENOTFOUND, "API key %q not found.", "key_1")
	cause := errors.New("pq: connection refused")
	tests := []struct {
		name     string
		err      error
		code     string
		message  string
		internal bool // the message is the generic one
	}{
		{name: "nil", err: nil, code: "", message: ""},
		{name: "*Error", err: notFound, code: patchbay.ENOTFOUND, message: `API key "key_1" not found.`},
		{name: "wrapped *Error", err: fmt.Errorf("revoke: %w", notFound), code: patchbay.ENOTFOUND,
			message: `API key "key_1" not found.`},
		{name: "twice wrapped *Error", err: fmt.Errorf("a: %w", fmt.Errorf("b: %w", notFound)),
			code: patchbay.ENOTFOUND, message: `API key "key_1" not found.`},
		{name: "joined with a plain error", err: errors.Join(cause, patchbay.Errorf(patchbay.ECONFLICT, "Taken.")),
			code: patchbay.ECONFLICT, message: "Taken."},
		{name: "outermost *Error wins", err: &patchbay.Error{Code: patchbay.EUNAVAILABLE, Message: "Try later.", Err: notFound},
			code: patchbay.EUNAVAILABLE, message: "Try later."},
		{name: "*Error with a cause", err: &patchbay.Error{Code: patchbay.EINVALID, Message: "Bad input.", Err: cause},
			code: patchbay.EINVALID, message: "Bad input."},
		{name: "plain error", err: cause, code: patchbay.EINTERNAL, internal: true},
		{name: "wrapped plain error", err: fmt.Errorf("query: %w", cause), code: patchbay.EINTERNAL, internal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := patchbay.ErrorCode(tt.err); got != tt.code {
				t.Errorf("ErrorCode = %q, want %q", got, tt.code)
			}
			msg := patchbay.ErrorMessage(tt.err)
			if tt.internal {
				if msg == "" || strings.Contains(msg, "pq:") || strings.Contains(msg, "refused") {
					t.Errorf("ErrorMessage = %q; want a generic message that does not show the cause", msg)
				}
			} else if msg != tt.message {
				t.Errorf("ErrorMessage = %q, want %q", msg, tt.message)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	cause := errors.New("disk full")
	e := &patchbay.Error{Code: patchbay.EINTERNAL, Message: "Could not save.", Err: cause}
	if s := e.Error(); !strings.Contains(s, "internal") || !strings.Contains(s, "Could not save.") ||
		!strings.Contains(s, "disk full") {
		t.Errorf("Error() = %q; want code, message and cause for the log", s)
	}
	if !errors.Is(e, cause) {
		t.Errorf("errors.Is(e, cause) = false; Unwrap must expose the cause")
	}
	if patchbay.ErrorMessage(e) != "Could not save." {
		t.Errorf("ErrorMessage = %q; the cause must not leak into the message", patchbay.ErrorMessage(e))
	}

	plain := patchbay.Errorf(patchbay.EINVALID, "Limit must be at most %d.", 200)
	if plain.Code != patchbay.EINVALID || plain.Message != "Limit must be at most 200." || plain.Err != nil {
		t.Errorf("Errorf = %+v", plain)
	}
	if s := plain.Error(); !strings.Contains(s, "invalid") || !strings.Contains(s, "Limit must be at most 200.") {
		t.Errorf("Error() = %q", s)
	}
	if errors.Unwrap(plain) != nil {
		t.Errorf("Unwrap of an error without a cause = %v, want nil", errors.Unwrap(plain))
	}
}
