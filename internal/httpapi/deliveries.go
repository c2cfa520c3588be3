package httpapi

import (
	"context"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
	"github.com/patchbay/patchbay/internal/delivery"
)

func eventOut(e *patchbay.Event) client.Event {
	return client.Event{ID: e.ID, Type: e.Type, Payload: e.Payload, SourceModule: e.SourceModule, SourceID: e.SourceID,
		IdempotencyKey: e.IdempotencyKey, CreatedAt: e.CreatedAt.UTC()}
}

func deliveryOut(d *patchbay.Delivery) client.Delivery {
	out := client.Delivery{ID: d.ID, EventID: d.EventID, EventType: d.EventType, SourceModule: d.SourceModule,
		SourceID: d.SourceID, EndpointID: d.EndpointID, ConnectionID: d.ConnectionID, Method: d.Method, Path: d.Path,
		Status: string(d.Status), Attempts: d.Attempts, LastAttemptAt: utcPtr(d.LastAttemptAt),
		LastStatusCode: d.LastStatusCode, LastError: d.LastError, DeliveredAt: utcPtr(d.DeliveredAt),
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(), Body: d.Body}
	if d.Status == patchbay.DeliveryPending || d.Status == patchbay.DeliveryRetrying {
		out.NextAttemptAt = utcPtr(&d.NextAttemptAt)
	}
	return out
}

func attemptOut(a *patchbay.Attempt) client.Attempt {
	return client.Attempt{Number: a.Number, StartedAt: a.StartedAt.UTC(), StatusCode: a.StatusCode,
		LatencyMS: a.Latency.Milliseconds(), Error: a.Error, Response: a.Response, Manual: a.Manual}
}

func publishedOut(p delivery.Published, withContent bool) client.Published {
	out := client.Published{Event: eventOut(p.Event), Deliveries: p.Deliveries, Duplicate: p.Duplicate}
	if !withContent {
		out.Event.Payload = nil
	}
	return out
}

// WithContentParam is the publish routes' choice of answer: each event's
// payload echoed back (the default), or left out, which saves a
// high-volume publisher encoding and decoding what it has just sent.
type WithContentParam struct {
	WithContent bool `query:"with_content" doc:"Echo each event's payload in the answer (true, the default); false leaves it out."`
}

// Resolve makes with_content true when it is absent. (A default tag would
// not do: huma re-applies defaults to every zero field after decoding the
// body, which would turn an explicit false back into true.)
func (p *WithContentParam) Resolve(ctx huma.Context) []error {
	if ctx.Query("with_content") == "" {
		p.WithContent = true
	}
	return nil
}

func eventInput(r client.EventRequest) delivery.EventInput {
	return delivery.EventInput{Type: r.Type, Payload: r.Payload, SourceModule: r.SourceModule, SourceID: r.SourceID,
		IdempotencyKey: r.IdempotencyKey}
}

type publishInput struct {
	WithContentParam
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"200" doc:"Same as idempotency_key in the body."`
	Body           client.EventRequest
}

func (s *Server) publishEvent(ctx context.Context, in *publishInput) (*body[client.Published], error) {
	ev := eventInput(in.Body)
	if ev.IdempotencyKey == "" {
		ev.IdempotencyKey = in.IdempotencyKey
	}
	out, err := s.deliveries.Publish(ctx, []delivery.EventInput{ev})
	if err != nil {
		return nil, err
	}
	return respond(publishedOut(out[0], in.WithContent)), nil
}

type batchInput struct {
	WithContentParam
	Body client.BatchRequest
}

func (s *Server) publishBatch(ctx context.Context, in *batchInput) (*body[client.List[client.Published]], error) {
	out, err := s.deliveries.Publish(ctx, mapSlice(in.Body.Events, eventInput))
	if err != nil {
		return nil, err
	}
	data := make([]client.Published, len(out))
	for i, p := range out {
		data[i] = publishedOut(p, in.WithContent)
	}
	return respond(client.List[client.Published]{Data: data}), nil
}

func (s *Server) getEvent(ctx context.Context, in *IDParam) (*body[client.Event], error) {
	ev, err := s.store.FindEvent(ctx, patchbay.PrincipalFrom(ctx).OrgID, in.ID)
	if err != nil {
		return nil, err
	}
	return respond(eventOut(ev)), nil
}

type listDeliveriesInput struct {
	Endpoint   string    `query:"endpoint_id"`
	Connection string    `query:"connection_id"`
	Status     []string  `query:"status" doc:"pending, sending, delivered, retrying, dead_letter or held; repeat for several."`
	EventType  string    `query:"event_type" doc:"Exact, or a prefix such as invoice.*."`
	Q          string    `query:"q" maxLength:"200" doc:"Free text on the event's source id, the event id and the delivery id."`
	Since      time.Time `query:"since"`
	Until      time.Time `query:"until"`
	Sort       string    `query:"sort" enum:"newest,oldest," doc:"newest (default) or oldest first."`
	PageParams
}

func (in *listDeliveriesInput) filter() (patchbay.DeliveryFilter, error) {
	f := patchbay.DeliveryFilter{EndpointID: in.Endpoint, ConnectionID: in.Connection, EventType: in.EventType,
		Search: in.Q, Oldest: in.Sort == "oldest", Page: in.page()}
	for _, st := range in.Status {
		if !slices.Contains(patchbay.DeliveryStatuses, patchbay.DeliveryStatus(st)) {
			return f, patchbay.Errorf(patchbay.EINVALID, "Unknown status %q.", st)
		}
		f.Statuses = append(f.Statuses, patchbay.DeliveryStatus(st))
	}
	if !in.Since.IsZero() {
		f.Since = &in.Since
	}
	if !in.Until.IsZero() {
		f.Until = &in.Until
	}
	if f.Since != nil && f.Until != nil && !f.Until.After(*f.Since) {
		return f, patchbay.Errorf(patchbay.EINVALID, "until must be after since.")
	}
	return f, nil
}

func (s *Server) listDeliveries(ctx context.Context, in *listDeliveriesInput) (*body[client.List[client.Delivery]], error) {
	f, err := in.filter()
	if err != nil {
		return nil, err
	}
	list, next, err := s.store.ListDeliveries(ctx, patchbay.PrincipalFrom(ctx).OrgID, f)
	if err != nil {
		return nil, err
	}
	return respond(client.List[client.Delivery]{Data: mapSlice(list, deliveryOut), NextCursor: next}), nil
}

func (s *Server) getDelivery(ctx context.Context, in *IDParam) (*body[client.Delivery], error) {
	orgID := patchbay.PrincipalFrom(ctx).OrgID
	d, err := s.store.FindDelivery(ctx, orgID, in.ID)
	if err != nil {
		return nil, err
	}
	attempts, err := s.store.ListAttempts(ctx, orgID, d.ID)
	if err != nil {
		return nil, err
	}
	out := deliveryOut(d)
	out.AttemptLog = mapSlice(attempts, attemptOut)
	return respond(out), nil
}

func (s *Server) retryDelivery(ctx context.Context, in *IDParam) (*body[client.Delivery], error) {
	d, err := s.deliveries.RetryOne(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return respond(deliveryOut(d)), nil
}

type retryInput struct {
	Body client.RetryRequest
}

func (s *Server) retryDeliveries(ctx context.Context, in *retryInput) (*body[client.RetryResult], error) {
	if len(in.Body.IDs) > 0 {
		n, err := s.deliveries.Retry(ctx, in.Body.IDs)
		return respond(client.RetryResult{Retried: n}), err
	}
	if in.Body.EndpointID == "" && in.Body.EventType == "" && len(in.Body.Status) == 0 {
		return nil, patchbay.Errorf(patchbay.EINVALID, "Give ids, or a filter (endpoint_id, event_type, status).")
	}
	f := patchbay.DeliveryFilter{EndpointID: in.Body.EndpointID, EventType: in.Body.EventType}
	for _, st := range in.Body.Status {
		ds := patchbay.DeliveryStatus(st)
		if ds != patchbay.DeliveryDeadLetter && ds != patchbay.DeliveryRetrying && ds != patchbay.DeliveryHeld && ds != patchbay.DeliveryPending {
			return nil, patchbay.Errorf(patchbay.EINVALID, "Deliveries that are %q cannot be retried.", st)
		}
		f.Statuses = append(f.Statuses, ds)
	}
	n, err := s.deliveries.RetryMatching(ctx, f)
	if err != nil {
		return nil, err
	}
	return respond(client.RetryResult{Retried: n}), nil
}

type vendorCallInput struct {
	Body client.VendorCallRequest
}

func (s *Server) createVendorCall(ctx context.Context, in *vendorCallInput) (*body[client.Delivery], error) {
	r := in.Body
	d, err := s.deliveries.CallVendor(ctx, r.ConnectionID, r.Method, r.Path, r.Body, r.SourceModule, r.SourceID)
	if err != nil {
		return nil, err
	}
	return respond(deliveryOut(d)), nil
}
