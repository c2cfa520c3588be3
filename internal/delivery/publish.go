package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/patchbay/patchbay"
)

// EventInput is one event to publish.
type EventInput struct {
	Type           string
	Payload        json.RawMessage
	SourceModule   string
	SourceID       string
	IdempotencyKey string
}

// Published is a stored event and the deliveries it fanned out to.
// Duplicate is true when the idempotency key had been used: the first
// event is returned and nothing new is stored.
type Published struct {
	Event      *patchbay.Event
	Deliveries int
	Duplicate  bool
}

// MaxBatch bounds the events of one publish.
const MaxBatch = 500

func (s *Service) validate(in EventInput) error {
	switch {
	case !patchbay.ValidEventType(in.Type):
		return patchbay.Errorf(patchbay.EINVALID, "type %q is not a valid event type (dotted words such as invoice.paid).", in.Type)
	case len(in.Payload) == 0:
		return patchbay.Errorf(patchbay.EINVALID, "payload is required (any JSON value).")
	case len(in.Payload) > s.MaxPayload:
		return patchbay.Errorf(patchbay.ETOOLARGE, "payload is over %d bytes.", s.MaxPayload)
	case !json.Valid(in.Payload):
		return patchbay.Errorf(patchbay.EINVALID, "payload is not valid JSON.")
	case len(in.SourceModule) > 100 || len(in.SourceID) > 200 || len(in.IdempotencyKey) > 200:
		return patchbay.Errorf(patchbay.EINVALID, "source_module, source_id or idempotency_key is too long.")
	}
	return nil
}

// reserved reports whether an event type is Patchbay's own, which clients
// cannot publish.
func reserved(t string) bool {
	return strings.HasPrefix(t, "patchbay.") || strings.HasPrefix(t, "endpoint.") || strings.HasPrefix(t, "inbound.") ||
		strings.HasPrefix(t, "sync.")
}

// Publish stores events and one delivery per subscribed endpoint, all in
// one transaction: when it returns, every event and delivery is on disk.
// Deliveries to inactive or disabled endpoints are stored held.
func (s *Service) Publish(ctx context.Context, events []EventInput) ([]Published, error) {
	for i, in := range events {
		if reserved(in.Type) {
			return nil, patchbay.Errorf(patchbay.EINVALID, "Event %d: types under patchbay., endpoint., inbound. and sync. are Patchbay's own.", i)
		}
	}
	return s.publish(ctx, events)
}

// PublishOwn publishes Patchbay's own events (inbound.*, endpoint.*, sync.*): it is
// Publish without the check that keeps those types from clients.
func (s *Service) PublishOwn(ctx context.Context, events []EventInput) ([]Published, error) {
	return s.publish(ctx, events)
}

// publish is Publish without the reserved-type check.
func (s *Service) publish(ctx context.Context, events []EventInput) ([]Published, error) {
	orgID := patchbay.PrincipalFrom(ctx).OrgID
	if len(events) == 0 || len(events) > MaxBatch {
		return nil, patchbay.Errorf(patchbay.EINVALID, "Publish 1 to %d events at a time.", MaxBatch)
	}
	for i, in := range events {
		if err := s.validate(in); err != nil {
			var e *patchbay.Error
			if len(events) > 1 && errors.As(err, &e) {
				return nil, &patchbay.Error{Code: e.Code, Message: "Event " + strconv.Itoa(i) + ": " + e.Message}
			}
			return nil, err
		}
	}
	out := make([]Published, len(events))
	h, _ := s.engine.(handoff)
	var (
		leased    []*patchbay.Delivery // stored leased to this process's engine
		granted   int
		evByID    = map[string]*patchbay.Event{}
		endpoints = map[string]*patchbay.Endpoint{}
	)
	err := s.store.WithTx(ctx, func(tx patchbay.Store) error {
		// Events without an idempotency key go in one statement; keyed
		// ones one by one, since a key may name an event stored before.
		var plain []*patchbay.Event
		for i, in := range events {
			ev := &patchbay.Event{OrgID: orgID, Type: in.Type, Payload: in.Payload,
				SourceModule: in.SourceModule, SourceID: in.SourceID, IdempotencyKey: in.IdempotencyKey}
			out[i] = Published{Event: ev}
			if in.IdempotencyKey == "" {
				plain = append(plain, ev)
				continue
			}
			stored, created, err := tx.CreateEvent(ctx, ev)
			if err != nil {
				return err
			}
			out[i] = Published{Event: stored, Duplicate: !created}
		}
		if len(plain) > 0 {
			if err := tx.CreateEvents(ctx, plain); err != nil {
				return err
			}
		}
		subscribers := map[string][]*patchbay.Endpoint{}
		var ds []*patchbay.Delivery
		for i := range out {
			ev := out[i].Event
			if out[i].Duplicate {
				continue
			}
			eps, ok := subscribers[ev.Type]
			if !ok {
				var err error
				if eps, err = tx.SubscribedEndpoints(ctx, orgID, ev.Type); err != nil {
					return err
				}
				subscribers[ev.Type] = eps
			}
			for _, ep := range eps {
				ds = append(ds, s.newDelivery(ev, ep))
				endpoints[ep.ID] = ep
			}
			evByID[ev.ID] = ev
			out[i].Deliveries = len(eps)
		}
		leased, granted = leaseTo(h, ds)
		if err := tx.CreateDeliveries(ctx, ds); err != nil {
			return err
		}
		if len(leased) == len(ds) {
			return nil // nothing for the queue: no replica needs waking
		}
		return tx.NotifyDeliveries(ctx)
	})
	if err != nil {
		if h != nil {
			h.Release(granted)
		}
		return nil, err
	}
	if len(leased) > 0 {
		h.Dispatch(leased, evByID, endpoints)
	}
	if len(leased) < countDeliveries(out) {
		s.wake()
	}
	return out, nil
}

// handoff is what an Engine in this process offers a publish: deliveries
// stored leased to it go to its workers without a trip through the queue.
type handoff interface {
	Reserve(n int) (owner string, until time.Time, granted int)
	Release(n int)
	Dispatch(ds []*patchbay.Delivery, events map[string]*patchbay.Event, endpoints map[string]*patchbay.Endpoint)
}

// leaseTo marks as many pending deliveries of ds as h has room for as
// claimed by h's engine, and returns them and the room h granted.
func leaseTo(h handoff, ds []*patchbay.Delivery) ([]*patchbay.Delivery, int) {
	if h == nil {
		return nil, 0
	}
	pending := 0
	for _, d := range ds {
		if d.Status == patchbay.DeliveryPending {
			pending++
		}
	}
	owner, until, granted := h.Reserve(pending)
	var leased []*patchbay.Delivery
	for _, d := range ds {
		if len(leased) == granted {
			break
		}
		if d.Status == patchbay.DeliveryPending {
			d.Status, d.LeaseOwner, d.LeaseUntil = patchbay.DeliverySending, owner, &until
			leased = append(leased, d)
		}
	}
	return leased, granted
}

// countDeliveries counts the deliveries a publish created.
func countDeliveries(out []Published) int {
	n := 0
	for _, p := range out {
		n += p.Deliveries
	}
	return n
}

func (s *Service) newDelivery(ev *patchbay.Event, ep *patchbay.Endpoint) *patchbay.Delivery {
	d := &patchbay.Delivery{OrgID: ev.OrgID, EventID: ev.ID, EventType: ev.Type, SourceModule: ev.SourceModule,
		SourceID: ev.SourceID, EndpointID: ep.ID, ConnectionID: ep.ConnectionID, Status: patchbay.DeliveryPending,
		NextAttemptAt: s.now()}
	if !ep.Accepting() {
		d.Status = patchbay.DeliveryHeld
	}
	return d
}

// SendTest publishes a patchbay.test event to one endpoint only.
func (s *Service) SendTest(ctx context.Context, endpointID string) (*patchbay.Delivery, error) {
	orgID := patchbay.PrincipalFrom(ctx).OrgID
	var d *patchbay.Delivery
	err := s.store.WithTx(ctx, func(tx patchbay.Store) error {
		ep, err := tx.FindEndpoint(ctx, orgID, endpointID)
		if err != nil {
			return err
		}
		payload, _ := json.Marshal(map[string]string{"message": "A test event from Patchbay.", "endpoint_id": ep.ID})
		ev, _, err := tx.CreateEvent(ctx, &patchbay.Event{OrgID: orgID, Type: "patchbay.test", Payload: payload,
			SourceModule: "patchbay", SourceID: ep.ID})
		if err != nil {
			return err
		}
		d = s.newDelivery(ev, ep)
		if err := tx.CreateDeliveries(ctx, []*patchbay.Delivery{d}); err != nil {
			return err
		}
		return tx.NotifyDeliveries(ctx)
	})
	if err != nil {
		return nil, err
	}
	s.wake()
	return d, nil
}

// CallVendor queues a call to a vendor's API over a connection, with the
// same retries, dead letter and log as webhooks.
func (s *Service) CallVendor(ctx context.Context, connectionID, method, path string, body json.RawMessage, module, sourceID string) (*patchbay.Delivery, error) {
	orgID := patchbay.PrincipalFrom(ctx).OrgID
	method = strings.ToUpper(method)
	switch method {
	case "GET", "POST", "PUT", "PATCH", "DELETE":
	default:
		return nil, patchbay.Errorf(patchbay.EINVALID, "method must be GET, POST, PUT, PATCH or DELETE.")
	}
	if !strings.HasPrefix(path, "/") || strings.Contains(path, "://") || len(path) > 2000 {
		return nil, patchbay.Errorf(patchbay.EINVALID, "path must be a path on the vendor's API, starting with /.")
	}
	if len(body) > s.MaxPayload || (len(body) > 0 && !json.Valid(body)) {
		return nil, patchbay.Errorf(patchbay.EINVALID, "body must be JSON of at most %d bytes.", s.MaxPayload)
	}
	c, err := s.store.FindConnection(ctx, orgID, connectionID)
	if err != nil {
		return nil, err
	}
	if c.State == patchbay.StateDisconnected {
		return nil, patchbay.Errorf(patchbay.ECONFLICT, "Connection %s is disconnected.", c.ID)
	}
	d := &patchbay.Delivery{OrgID: orgID, ConnectionID: c.ID, Method: method, Path: path, Body: body,
		EventType: "vendor.call", SourceModule: module, SourceID: sourceID, Status: patchbay.DeliveryPending,
		NextAttemptAt: s.now()}
	err = s.store.WithTx(ctx, func(tx patchbay.Store) error {
		if err := tx.CreateDeliveries(ctx, []*patchbay.Delivery{d}); err != nil {
			return err
		}
		return tx.NotifyDeliveries(ctx)
	})
	if err != nil {
		return nil, err
	}
	s.wake()
	return d, nil
}

// Retry gives deliveries of the caller's org fresh attempts, now: dead
// letters, ones waiting to retry and held ones. The originals' attempts
// stay in the log. Endpoints the circuit breaker disabled are re-enabled.
func (s *Service) Retry(ctx context.Context, ids []string) (int, error) {
	p := patchbay.PrincipalFrom(ctx)
	if len(ids) == 0 || len(ids) > 1000 {
		return 0, patchbay.Errorf(patchbay.EINVALID, "Retry 1 to 1000 deliveries at a time.")
	}
	endpoints, err := s.store.RetryDeliveries(ctx, p.OrgID, ids, s.now())
	if err != nil {
		return 0, err
	}
	for _, id := range endpoints {
		ep, err := s.store.FindEndpoint(ctx, p.OrgID, id)
		if err == nil && ep.DisabledAt != nil {
			if _, err := s.EnableEndpoint(ctx, id); err != nil {
				return 0, err
			}
		}
	}
	a := patchbay.NewActivity(ctx, "delivery.retry", "delivery", firstOf(ids), patchbay.OutcomeSuccess)
	a.Detail = map[string]any{"requested": len(ids), "endpoints": endpoints}
	if err := s.store.RecordActivity(ctx, a); err != nil {
		return 0, err
	}
	s.wake()
	return len(ids), nil
}

// RetryMatching retries every not-delivered delivery matching f (up to
// 1000 at a time) and returns how many it retried.
func (s *Service) RetryMatching(ctx context.Context, f patchbay.DeliveryFilter) (int, error) {
	p := patchbay.PrincipalFrom(ctx)
	if len(f.Statuses) == 0 {
		f.Statuses = []patchbay.DeliveryStatus{patchbay.DeliveryDeadLetter, patchbay.DeliveryRetrying, patchbay.DeliveryHeld}
	}
	var ids []string
	f.Page = patchbay.Page{Limit: patchbay.MaxPageLimit}
	for len(ids) < 1000 {
		page, next, err := s.store.ListDeliveries(ctx, p.OrgID, f)
		if err != nil {
			return 0, err
		}
		for _, d := range page {
			ids = append(ids, d.ID)
		}
		if next == "" {
			break
		}
		f.Cursor = next
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return s.Retry(ctx, ids[:min(len(ids), 1000)])
}

func firstOf(ids []string) string {
	if len(ids) == 1 {
		return ids[0]
	}
	return ""
}

// RetryOne retries one delivery of the caller's org that is not delivered
// (nor being sent) and returns it as it now stands.
func (s *Service) RetryOne(ctx context.Context, id string) (*patchbay.Delivery, error) {
	orgID := patchbay.PrincipalFrom(ctx).OrgID
	d, err := s.store.FindDelivery(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	if d.Status == patchbay.DeliveryDelivered || d.Status == patchbay.DeliverySending {
		return nil, patchbay.Errorf(patchbay.ECONFLICT, "Delivery %s is %s; only undelivered deliveries are retried.", d.ID, d.Status)
	}
	if _, err := s.Retry(ctx, []string{d.ID}); err != nil {
		return nil, err
	}
	return s.store.FindDelivery(ctx, orgID, id)
}
