package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
)

// codeStatus is the one table that turns error codes into HTTP statuses.
var codeStatus = map[string]int{
	patchbay.ECONFLICT:     http.StatusConflict,
	patchbay.EINVALID:      http.StatusBadRequest,
	patchbay.ENOTFOUND:     http.StatusNotFound,
	patchbay.EUNAUTHORIZED: http.StatusUnauthorized,
	patchbay.EFORBIDDEN:    http.StatusForbidden,
	patchbay.ERATELIMIT:    http.StatusTooManyRequests,
	patchbay.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	patchbay.ENOTALLOWED:   http.StatusMethodNotAllowed,
	patchbay.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	patchbay.ESCOPE:        http.StatusForbidden,
	patchbay.EUNAVAILABLE:  http.StatusServiceUnavailable,
	patchbay.EINTERNAL:     http.StatusInternalServerError,
}

// statusCode is the reverse, for errors huma raises itself (validation,
// body too large, unsupported media type).
func statusCode(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusNotAcceptable:
		return patchbay.EINVALID
	}
	for code, s := range codeStatus {
		if s == status {
			return code
		}
	}
	if status >= 500 {
		return patchbay.EINTERNAL
	}
	return patchbay.EINVALID
}

// apiError is the error value handlers hand to huma; it serialises as
// {"error":{"code","message"}}.
type apiError struct {
	Body   client.ErrorDetail `json:"error"`
	status int
}

func (e *apiError) Error() string  { return e.Body.Message }
func (e *apiError) GetStatus() int { return e.status }

func init() {
	// huma builds its own errors (validation, bad JSON, body too large)
	// through NewError; make them ours. Validation failures are 400, like
	// every other invalid input, instead of huma's 422.
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		for _, err := range errs {
			var pe *patchbay.Error
			if errors.As(err, &pe) {
				return fromDomain(pe)
			}
		}
		if status == http.StatusUnprocessableEntity {
			status = http.StatusBadRequest
		}
		e := &apiError{status: status, Body: client.ErrorDetail{Code: statusCode(status), Message: capitalise(msg)}}
		if status >= 500 {
			e.Body.Message = "Internal error."
		}
		for _, err := range errs {
			e.Body.Details = append(e.Body.Details, detail(err)...)
		}
		return e
	}
}

// detail describes one validation problem by where and what, leaving out
// the offending value: it may be a credential, and errors never echo those.
func detail(err error) []string {
	var d huma.ErrorDetailer
	switch {
	case err == nil:
		return nil
	case errors.As(err, &d):
		ed := d.ErrorDetail()
		if ed.Location == "" {
			return []string{ed.Message}
		}
		return []string{ed.Location + ": " + ed.Message}
	}
	return []string{err.Error()}
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	if s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	if s[len(s)-1] != '.' {
		s += "."
	}
	return s
}

func fromDomain(err *patchbay.Error) *apiError {
	status, ok := codeStatus[err.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	e := &apiError{status: status, Body: client.ErrorDetail{Code: err.Code, Message: err.Message, Details: err.Details}}
	if status == http.StatusInternalServerError {
		e.Body.Code, e.Body.Message = patchbay.EINTERNAL, "Internal error."
	}
	return e
}

// toAPIError converts an error returned by a service into the response
// error. Internal errors are logged with their cause and shown generically.
func toAPIError(ctx context.Context, err error) error {
	var pe *patchbay.Error
	if errors.As(err, &pe) && pe.Code != patchbay.EINTERNAL {
		return fromDomain(pe)
	}
	if errors.Is(err, context.Canceled) {
		return &apiError{status: 499, Body: client.ErrorDetail{Code: patchbay.EUNAVAILABLE, Message: "Request cancelled."}}
	}
	info := requestInfoFrom(ctx)
	info.logger.ErrorContext(ctx, "internal error", slog.String("error", err.Error()))
	return fromDomain(&patchbay.Error{Code: patchbay.EINTERNAL})
}

// writeError writes a JSON error outside huma (unknown routes, panics).
func writeError(w http.ResponseWriter, err *patchbay.Error) {
	e := fromDomain(err)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.status)
	fmt.Fprintf(w, "%s\n", mustJSON(client.ErrorBody{Error: e.Body}))
}
