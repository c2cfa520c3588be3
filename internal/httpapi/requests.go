package httpapi

import (
	"context"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
)

// requestRetention validates and sets the request log's and idempotency
// ledger's retention from a settings body (0 means the default).
func requestOut(r *patchbay.APIRequest) client.APIRequest {
	return client.APIRequest{ID: r.ID, ConnectionID: r.ConnectionID, Connector: r.Connector, Source: string(r.Source),
		Method: r.Method, Path: r.Path, StatusCode: r.StatusCode, DurationMS: r.Duration.Milliseconds(),
		VendorRequestID: r.VendorRequestID, IdempotencyKey: r.IdempotencyKey, RetryOf: r.RetryOf, Attempt: r.Attempt,
		CacheHit: r.CacheHit, Stale: r.Stale, Replayed: r.Replayed, Error: r.Error, RequestBody: r.RequestBody,
		ResponseBody: r.ResponseBody, CreatedAt: r.CreatedAt.UTC()}
}

type listRequestsInput struct {
	ConnectionID string    `query:"connection_id"`
	Source       string    `query:"source" enum:"proxy,delivery,test,"`
	Method       string    `query:"method" maxLength:"10"`
	Status       string    `query:"status" pattern:"^([1-5]xx|[1-5][0-9][0-9])?$" doc:"A status (404) or a class (5xx)."`
	Q            string    `query:"q" maxLength:"200" doc:"Free text on the path."`
	Since        time.Time `query:"since" doc:"Rows created at or after (RFC 3339)."`
	Until        time.Time `query:"until" doc:"Rows created before (RFC 3339)."`
	Sort         string    `query:"sort" enum:"newest,oldest," doc:"newest (default) or oldest first."`
	PageParams
}

func (s *Server) listRequests(ctx context.Context, in *listRequestsInput) (*body[client.List[client.APIRequest]], error) {
	f := patchbay.RequestFilter{ConnectionID: in.ConnectionID, Source: patchbay.RequestSource(in.Source), Method: in.Method,
		Query: in.Q, Oldest: in.Sort == "oldest", Page: in.page()}
	if err := f.SetStatus(in.Status); err != nil {
		return nil, err
	}
	if !in.Since.IsZero() {
		f.Since = &in.Since
	}
	if !in.Until.IsZero() {
		f.Until = &in.Until
	}
	list, next, err := s.store.ListRequests(ctx, patchbay.PrincipalFrom(ctx).OrgID, f)
	if err != nil {
		return nil, err
	}
	return respond(client.List[client.APIRequest]{Data: mapSlice(list, requestOut), NextCursor: next}), nil
}

func (s *Server) getRequest(ctx context.Context, in *IDParam) (*body[client.APIRequest], error) {
	r, err := s.store.FindRequest(ctx, patchbay.PrincipalFrom(ctx).OrgID, in.ID)
	if err != nil {
		return nil, err
	}
	return respond(requestOut(r)), nil
}
