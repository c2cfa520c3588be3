package proxy

import (
	"context"
	"net/http"
	"time"

	"github.com/patchbay/patchbay"
)

// omittedHeader marks a replayed answer whose body was too big to keep.
const omittedHeader = "Patchbay-Replay-Body-Omitted"

// claim takes the idempotency key of a call. It returns the record to
// complete when the call may run, or the replayed answer of a completed
// one, or ECONFLICT when the key belongs to another request or to a call
// still in progress.
func (s *Service) claim(ctx context.Context, c *patchbay.Connection, r Request, started time.Time) (*patchbay.IdempotencyRecord, *Response, error) {
	now := s.cfg.Now()
	rec := &patchbay.IdempotencyRecord{OrgID: c.OrgID, ConnectionID: c.ID, Key: r.IdempotencyKey, RequestHash: requestHash(r),
		LockedUntil: now.Add(s.KeyLock)}
	held, claimed, err := s.cfg.Store.ClaimIdempotencyKey(ctx, rec, now)
	switch {
	case err != nil:
		return nil, nil, err
	case claimed:
		return held, nil, nil
	case held.State != patchbay.IdempotencyCompleted:
		return nil, nil, patchbay.Errorf(patchbay.ECONFLICT,
			"A call with idempotency key %q is still in progress on this connection; try again when it has finished.", r.IdempotencyKey)
	case held.RequestHash != rec.RequestHash:
		return nil, nil, patchbay.Errorf(patchbay.ECONFLICT,
			"Idempotency key %q was already used on this connection for a different request (method, path, query or body differ).", r.IdempotencyKey)
	}
	var body []byte
	if held.Body != "" {
		b, err := s.cfg.Ring.Open(held.Body, ledgerColumn.AssociatedData(held.ID))
		if err != nil {
			return nil, nil, &patchbay.Error{Code: patchbay.EINTERNAL, Message: "A stored answer cannot be decrypted.", Err: err}
		}
		body = b
	}
	h := held.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	omitted := h.Get(omittedHeader) != ""
	h.Del(omittedHeader)
	row := &patchbay.APIRequest{Source: patchbay.SourceProxy, Method: r.Method, Path: r.Path, StatusCode: held.StatusCode,
		Duration: time.Since(started), IdempotencyKey: r.IdempotencyKey, Replayed: true, VendorRequestID: vendorID(h)}
	s.cfg.Connections.LogAnswer(ctx, c, row, body)
	return nil, &Response{StatusCode: held.StatusCode, Header: h, Body: body, LogID: row.ID, Replayed: true, BodyOmitted: omitted}, nil
}

// complete records a keyed call's answer for replays and reports whether
// it did; a key left in progress is released by the caller.
func (s *Service) complete(ctx context.Context, rec *patchbay.IdempotencyRecord, resp *Response) bool {
	rec.StatusCode, rec.Header, rec.Body = resp.StatusCode, resp.Header.Clone(), ""
	var err error
	if len(resp.Body) > s.MaxStoredBody {
		rec.Header.Set(omittedHeader, "true")
	} else if len(resp.Body) > 0 {
		rec.Body, err = s.cfg.Ring.Seal(resp.Body, ledgerColumn.AssociatedData(rec.ID))
	}
	if err == nil {
		err = s.cfg.Store.CompleteIdempotencyKey(context.WithoutCancel(ctx), rec)
	}
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "record idempotent answer", "connection", rec.ConnectionID, "error", err.Error())
		return false
	}
	return true
}
