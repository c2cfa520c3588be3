package httpapi

import (
	"context"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
	"github.com/patchbay/patchbay/internal/delivery"
)

func endpointOut(e *patchbay.Endpoint) client.Endpoint {
	out := client.Endpoint{ID: e.ID, URL: e.URL, Description: e.Description, EventTypes: e.EventTypes, Active: e.Active,
		Disabled: e.DisabledAt != nil, DisabledAt: utcPtr(e.DisabledAt), ConsecutiveFailures: e.ConsecutiveFailures,
		PreviousSecretExpiresAt: utcPtr(e.PreviousSecretExpiresAt), RateLimit: e.RateLimit,
		TimeoutSeconds: int(e.Timeout / time.Second), Headers: e.Headers, MaxAttempts: e.MaxAttempts,
		ConnectionID: e.ConnectionID, CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC()}
	for _, d := range e.Schedule {
		out.RetrySchedule = append(out.RetrySchedule, d.String())
	}
	return out
}

func endpointInput(r client.EndpointRequest) (delivery.EndpointInput, error) {
	in := delivery.EndpointInput{URL: r.URL, Description: r.Description, EventTypes: r.EventTypes, Active: r.Active,
		RateLimit: r.RateLimit, Headers: r.Headers, MaxAttempts: r.MaxAttempts}
	if r.TimeoutSeconds != nil {
		d := time.Duration(*r.TimeoutSeconds) * time.Second
		in.Timeout = &d
	}
	for _, s := range r.RetrySchedule {
		d, err := time.ParseDuration(s)
		if err != nil {
			return in, patchbay.Errorf(patchbay.EINVALID, "retry_schedule: %q is not a duration such as 5m.", s)
		}
		in.Schedule = append(in.Schedule, d)
	}
	return in, nil
}

func (s *Server) listEndpoints(ctx context.Context, in *PageParams) (*body[client.List[client.Endpoint]], error) {
	list, next, err := s.store.ListEndpoints(ctx, patchbay.PrincipalFrom(ctx).OrgID, in.page())
	if err != nil {
		return nil, err
	}
	return respond(client.List[client.Endpoint]{Data: mapSlice(list, endpointOut), NextCursor: next}), nil
}

type endpointRequestInput struct {
	Body client.EndpointRequest
}

func (s *Server) createEndpoint(ctx context.Context, in *endpointRequestInput) (*body[client.EndpointSecret], error) {
	req, err := endpointInput(in.Body)
	if err != nil {
		return nil, err
	}
	e, secret, err := s.deliveries.CreateEndpoint(ctx, req)
	if err != nil {
		return nil, err
	}
	return respond(client.EndpointSecret{Endpoint: endpointOut(e), Secret: secret}), nil
}

func (s *Server) getEndpoint(ctx context.Context, in *IDParam) (*body[client.Endpoint], error) {
	e, err := s.store.FindEndpoint(ctx, patchbay.PrincipalFrom(ctx).OrgID, in.ID)
	if err != nil {
		return nil, err
	}
	return respond(endpointOut(e)), nil
}

type updateEndpointInput struct {
	IDParam
	Body client.EndpointRequest
}

func (s *Server) updateEndpoint(ctx context.Context, in *updateEndpointInput) (*body[client.Endpoint], error) {
	req, err := endpointInput(in.Body)
	if err != nil {
		return nil, err
	}
	e, err := s.deliveries.UpdateEndpoint(ctx, in.ID, req)
	if err != nil {
		return nil, err
	}
	return respond(endpointOut(e)), nil
}

func (s *Server) deleteEndpoint(ctx context.Context, in *IDParam) (*struct{}, error) {
	return nil, s.deliveries.DeleteEndpoint(ctx, in.ID)
}

type rotateInput struct {
	IDParam
	Body *client.RotateRequest `required:"false"`
}

func (s *Server) rotateEndpointSecret(ctx context.Context, in *rotateInput) (*body[client.EndpointSecret], error) {
	var grace time.Duration
	if in.Body != nil {
		if in.Body.GraceSeconds < 0 {
			return nil, patchbay.Errorf(patchbay.EINVALID, "grace_seconds must not be negative.")
		}
		grace = time.Duration(in.Body.GraceSeconds) * time.Second
	}
	e, secret, err := s.deliveries.RotateSecret(ctx, in.ID, grace)
	if err != nil {
		return nil, err
	}
	return respond(client.EndpointSecret{Endpoint: endpointOut(e), Secret: secret}), nil
}

func (s *Server) enableEndpoint(ctx context.Context, in *IDParam) (*body[client.Endpoint], error) {
	e, err := s.deliveries.EnableEndpoint(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return respond(endpointOut(e)), nil
}

func (s *Server) testEndpoint(ctx context.Context, in *IDParam) (*body[client.Delivery], error) {
	d, err := s.deliveries.SendTest(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return respond(deliveryOut(d)), nil
}
