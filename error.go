package patchbay

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in internal/httpapi; the set is
// small on purpose so clients can branch on it.
const (
	ECONFLICT     = "conflict"               // the request conflicts with stored state (duplicate name, in use)
	EINTERNAL     = "internal"               // a fault inside Patchbay; the cause is logged, never shown
	EINVALID      = "invalid"                // the request is malformed or fails validation
	ENOTFOUND     = "not_found"              // no such row in the caller's org
	EUNAUTHORIZED = "unauthorized"           // no credential, or one that is unknown, revoked or expired
	EFORBIDDEN    = "forbidden"              // the credential lacks a capability the route needs
	ERATELIMIT    = "rate_limited"           // too many requests; retry after the advertised delay
	EUNAVAILABLE  = "unavailable"            // a dependency (database, vendor) cannot be reached now
	ETOOLARGE     = "too_large"              // the request body exceeds its limit
	ENOTALLOWED   = "not_allowed"            // the method is not allowed on this path
	EUNSUPPORTED  = "unsupported_media_type" // the request body is not JSON
	// ESCOPE: a connection lacks vendor scopes a call needs; Details names them.
	ESCOPE = "insufficient_scope"
)

// Error is Patchbay's application error. Code is one of the E* constants and
// Message is safe to show to the caller. Err, when set, is the underlying cause:
// it is logged but never shown.
type Error struct {
	Code    string
	Message string
	// Details lists particulars a client may act on, such as the missing
	// scopes of an ESCOPE error.
	Details []string
	Err     error
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("patchbay error: code=%s message=%s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("patchbay error: code=%s message=%s", e.Code, e.Message)
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or EINTERNAL
// when there is none. A nil error has no code.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of the first *Error in err's
// chain, or a generic message for any other error.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}
