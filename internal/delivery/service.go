package delivery

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/secret"
)

// Service manages endpoints, publishes events and retries deliveries; the
// Engine sends them.
type Service struct {
	store  patchbay.Store
	ring   *secret.Ring
	engine interface{ Wake() }
	logger *slog.Logger
	now    func() time.Time

	// MaxPayload bounds an event's payload in bytes.
	MaxPayload int
	// SecretGrace is how long a rotated-out secret keeps signing.
	SecretGrace time.Duration
}

// NewService returns a Service; engine is woken after publishes and
// retries (nil when none runs in this process).
func NewService(store patchbay.Store, ring *secret.Ring, engine interface{ Wake() }, logger *slog.Logger, now func() time.Time) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	if now == nil {
		now = patchbay.Now
	}
	return &Service{store: store, ring: ring, engine: engine, logger: logger, now: now,
		MaxPayload: 256 << 10, SecretGrace: 24 * time.Hour}
}

// SetEngine sets the engine woken after publishes and retries.
func (s *Service) SetEngine(engine interface{ Wake() }) { s.engine = engine }

func (s *Service) wake() {
	if s.engine != nil {
		s.engine.Wake()
	}
}

// EndpointInput sets an endpoint's fields; nil fields are left as they are
// on update.
type EndpointInput struct {
	URL         *string
	Description *string
	EventTypes  []string
	Active      *bool
	RateLimit   *int
	Timeout     *time.Duration
	Headers     map[string]string
	Schedule    []time.Duration
	MaxAttempts *int
}

// reservedHeaders cannot be set per endpoint: they carry the signature and
// the body's framing.
var reservedHeaders = map[string]bool{"webhook-id": true, "webhook-timestamp": true, "webhook-signature": true,
	"content-type": true, "content-length": true, "host": true, "user-agent": true, "transfer-encoding": true}

// apply validates in and writes it onto e.
func (s *Service) apply(e *patchbay.Endpoint, in EndpointInput) error {
	if in.URL != nil {
		u, err := url.Parse(strings.TrimSpace(*in.URL))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || len(*in.URL) > 2000 {
			return patchbay.Errorf(patchbay.EINVALID, "url must be an http or https URL without credentials.")
		}
		e.URL = u.String()
	}
	if in.Description != nil {
		if len(*in.Description) > 500 {
			return patchbay.Errorf(patchbay.EINVALID, "description must be at most 500 characters.")
		}
		e.Description = strings.TrimSpace(*in.Description)
	}
	if in.EventTypes != nil {
		if len(in.EventTypes) == 0 || len(in.EventTypes) > 100 {
			return patchbay.Errorf(patchbay.EINVALID, "event_types must list 1 to 100 types (\"*\" subscribes to all).")
		}
		for _, t := range in.EventTypes {
			if !patchbay.ValidEventPattern(t) {
				return patchbay.Errorf(patchbay.EINVALID, "%q is not an event type or a wildcard such as invoice.*.", t)
			}
		}
		e.EventTypes = in.EventTypes
	}
	if in.Active != nil {
		e.Active = *in.Active
	}
	if in.RateLimit != nil {
		if *in.RateLimit < 0 || *in.RateLimit > 10000 {
			return patchbay.Errorf(patchbay.EINVALID, "rate_limit must be 0 (none) to 10000 deliveries per second.")
		}
		e.RateLimit = *in.RateLimit
	}
	if in.Timeout != nil {
		if *in.Timeout < time.Second || *in.Timeout > time.Minute {
			return patchbay.Errorf(patchbay.EINVALID, "timeout must be between 1 and 60 seconds.")
		}
		e.Timeout = *in.Timeout
	}
	if in.Headers != nil {
		if len(in.Headers) > 20 {
			return patchbay.Errorf(patchbay.EINVALID, "At most 20 custom headers.")
		}
		for k, v := range in.Headers {
			if reservedHeaders[strings.ToLower(k)] || http.CanonicalHeaderKey(k) == "" || strings.ContainsAny(k+v, "\r\n") || len(v) > 1000 {
				return patchbay.Errorf(patchbay.EINVALID, "Header %q cannot be set.", k)
			}
		}
		e.Headers = in.Headers
	}
	if in.Schedule != nil || in.MaxAttempts != nil {
		p := DefaultPolicy()
		if in.Schedule != nil {
			p.Schedule = in.Schedule
		}
		if in.MaxAttempts != nil {
			p.MaxAttempts = *in.MaxAttempts
		}
		if err := p.Validate(); err != nil {
			return err
		}
		e.Schedule, e.MaxAttempts = in.Schedule, p.MaxAttempts
	}
	return nil
}

// CreateEndpoint creates an endpoint with a new signing secret, returned
// this once, and the webhook-family connection that stands for it.
func (s *Service) CreateEndpoint(ctx context.Context, in EndpointInput) (*patchbay.Endpoint, string, error) {
	p := patchbay.PrincipalFrom(ctx)
	e := &patchbay.Endpoint{ID: patchbay.NewID("ep"), OrgID: p.OrgID, Active: true, Timeout: 10 * time.Second,
		EventTypes: []string{"*"}}
	if in.URL == nil {
		return nil, "", patchbay.Errorf(patchbay.EINVALID, "url is required.")
	}
	if err := s.apply(e, in); err != nil {
		return nil, "", err
	}
	plain := secret.NewSigningSecret()
	var err error
	if e.Secret, err = s.ring.Seal([]byte(plain), SecretColumn.AssociatedData(e.ID)); err != nil {
		return nil, "", err
	}
	err = s.store.WithTx(ctx, func(tx patchbay.Store) error {
		conn := &patchbay.Connection{ID: patchbay.NewID("con"), OrgID: e.OrgID, ConnectorSlug: "webhook_generic",
			DisplayName: endpointName(e), State: patchbay.StateActive, AuthMode: patchbay.AuthSignedToken,
			Config: map[string]string{"url": e.URL, "endpoint_id": e.ID}, OperatorOfRecord: p.Actor()}
		if err := tx.CreateConnection(ctx, conn); err != nil {
			return err
		}
		e.ConnectionID = conn.ID
		if err := tx.CreateEndpoint(ctx, e); err != nil {
			return err
		}
		a := patchbay.NewActivity(ctx, "endpoint.create", "endpoint", e.ID, patchbay.OutcomeSuccess)
		a.Detail = map[string]any{"url": e.URL, "event_types": e.EventTypes}
		return tx.RecordActivity(ctx, a)
	})
	if err != nil {
		return nil, "", err
	}
	return e, plain, nil
}

func endpointName(e *patchbay.Endpoint) string {
	if e.Description != "" {
		return e.Description
	}
	if u, err := url.Parse(e.URL); err == nil {
		return "Webhook to " + u.Host
	}
	return "Webhook"
}

// UpdateEndpoint changes an endpoint. Deactivating it holds its pending
// deliveries; activating it releases them.
func (s *Service) UpdateEndpoint(ctx context.Context, id string, in EndpointInput) (*patchbay.Endpoint, error) {
	return s.changeEndpoint(ctx, id, "endpoint.update", func(tx patchbay.Store, e *patchbay.Endpoint) (map[string]any, error) {
		wasActive := e.Active
		if err := s.apply(e, in); err != nil {
			return nil, err
		}
		if wasActive && !e.Active {
			if _, err := tx.HoldDeliveries(ctx, e.OrgID, e.ID); err != nil {
				return nil, err
			}
		} else if !wasActive && e.Active && e.DisabledAt == nil {
			if _, err := tx.ReleaseDeliveries(ctx, e.OrgID, e.ID, s.now()); err != nil {
				return nil, err
			}
		}
		return map[string]any{"url": e.URL, "active": e.Active, "event_types": e.EventTypes}, nil
	})
}

// changeEndpoint changes a locked endpoint and mirrors it on its connection
// in one transaction, with an activity entry.
func (s *Service) changeEndpoint(ctx context.Context, id, action string, change func(patchbay.Store, *patchbay.Endpoint) (map[string]any, error)) (*patchbay.Endpoint, error) {
	orgID := patchbay.PrincipalFrom(ctx).OrgID
	var out *patchbay.Endpoint
	err := s.store.WithTx(ctx, func(tx patchbay.Store) error {
		e, err := tx.LockEndpoint(ctx, orgID, id)
		if err != nil {
			return err
		}
		detail, err := change(tx, e)
		if err != nil {
			return err
		}
		if err := tx.UpdateEndpoint(ctx, e); err != nil {
			return err
		}
		if err := s.mirror(ctx, tx, e); err != nil {
			return err
		}
		out = e
		a := patchbay.NewActivity(ctx, action, "endpoint", e.ID, patchbay.OutcomeSuccess)
		a.OrgID, a.Detail = e.OrgID, detail
		return tx.RecordActivity(ctx, a)
	})
	if err == nil {
		s.wake()
	}
	return out, err
}

// mirror keeps the endpoint's connection in step: its URL, name and state.
func (s *Service) mirror(ctx context.Context, tx patchbay.Store, e *patchbay.Endpoint) error {
	if e.ConnectionID == "" {
		return nil
	}
	c, err := tx.LockConnection(ctx, e.OrgID, e.ConnectionID)
	if patchbay.ErrorCode(err) == patchbay.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	c.DisplayName, c.Config = endpointName(e), map[string]string{"url": e.URL, "endpoint_id": e.ID}
	switch {
	case e.DisabledAt != nil:
		c.State, c.Health = patchbay.StateError, patchbay.HealthDisabled
	case !e.Active:
		c.State = patchbay.StatePaused
	default:
		c.State, c.Health = patchbay.StateActive, patchbay.HealthFor(e.ConsecutiveFailures)
	}
	c.ConsecutiveFailures = e.ConsecutiveFailures
	return tx.UpdateConnection(ctx, c)
}

// RotateSecret gives an endpoint a new signing secret, returned this once;
// the old one keeps signing alongside it for grace (SecretGrace when zero).
func (s *Service) RotateSecret(ctx context.Context, id string, grace time.Duration) (*patchbay.Endpoint, string, error) {
	if grace <= 0 {
		grace = s.SecretGrace
	}
	if grace > 7*24*time.Hour {
		return nil, "", patchbay.Errorf(patchbay.EINVALID, "The grace period is at most 7 days.")
	}
	plain := secret.NewSigningSecret()
	e, err := s.changeEndpoint(ctx, id, "endpoint.rotate_secret", func(_ patchbay.Store, e *patchbay.Endpoint) (map[string]any, error) {
		old, err := s.ring.Open(e.Secret, SecretColumn.AssociatedData(e.ID))
		if err != nil {
			return nil, err
		}
		if e.PreviousSecret, err = s.ring.Seal(old, PreviousSecretColumn.AssociatedData(e.ID)); err != nil {
			return nil, err
		}
		expires := s.now().Add(grace)
		e.PreviousSecretExpiresAt = &expires
		if e.Secret, err = s.ring.Seal([]byte(plain), SecretColumn.AssociatedData(e.ID)); err != nil {
			return nil, err
		}
		return map[string]any{"previous_secret_expires_at": expires}, nil
	})
	return e, plain, err
}

// EnableEndpoint re-enables an endpoint the circuit breaker disabled and
// releases its held deliveries.
func (s *Service) EnableEndpoint(ctx context.Context, id string) (*patchbay.Endpoint, error) {
	return s.changeEndpoint(ctx, id, "endpoint.enable", func(tx patchbay.Store, e *patchbay.Endpoint) (map[string]any, error) {
		e.DisabledAt, e.ConsecutiveFailures = nil, 0
		n := 0
		if e.Active {
			var err error
			if n, err = tx.ReleaseDeliveries(ctx, e.OrgID, e.ID, s.now()); err != nil {
				return nil, err
			}
		}
		return map[string]any{"released": n}, nil
	})
}

// Disable is the circuit breaker: it disables an endpoint, holds its
// deliveries, and tells the org through an endpoint.disabled event.
func (s *Service) Disable(ctx context.Context, ep *patchbay.Endpoint) {
	ctx = patchbay.WithPrincipal(ctx, &patchbay.Principal{OrgID: ep.OrgID, ActorType: patchbay.ActorSystem,
		ActorID: "circuit-breaker", ActorName: "Patchbay"})
	var failures int
	_, err := s.changeEndpoint(ctx, ep.ID, "endpoint.disable", func(tx patchbay.Store, e *patchbay.Endpoint) (map[string]any, error) {
		if e.DisabledAt != nil {
			return nil, patchbay.Errorf(patchbay.ECONFLICT, "already disabled")
		}
		now := s.now()
		e.DisabledAt, failures = &now, e.ConsecutiveFailures
		if _, err := tx.HoldDeliveries(ctx, e.OrgID, e.ID); err != nil {
			return nil, err
		}
		return map[string]any{"consecutive_failures": e.ConsecutiveFailures}, nil
	})
	if err != nil {
		if patchbay.ErrorCode(err) != patchbay.ECONFLICT {
			s.logger.Error("disable endpoint", "endpoint", ep.ID, "error", err.Error())
		}
		return
	}
	payload, _ := json.Marshal(map[string]any{"endpoint_id": ep.ID, "url": ep.URL, "consecutive_failures": failures})
	if _, err := s.publish(ctx, []EventInput{{Type: "endpoint.disabled", Payload: payload, SourceModule: "patchbay", SourceID: ep.ID}}); err != nil {
		s.logger.Error("publish endpoint.disabled", "endpoint", ep.ID, "error", err.Error())
	}
}

// DeleteEndpoint removes an endpoint; its deliveries stay in the log and
// its connection is marked disconnected.
func (s *Service) DeleteEndpoint(ctx context.Context, id string) error {
	orgID := patchbay.PrincipalFrom(ctx).OrgID
	return s.store.WithTx(ctx, func(tx patchbay.Store) error {
		e, err := tx.LockEndpoint(ctx, orgID, id)
		if err != nil {
			return err
		}
		if _, err := tx.HoldDeliveries(ctx, orgID, id); err != nil {
			return err
		}
		if err := tx.DeleteEndpoint(ctx, orgID, id); err != nil {
			return err
		}
		if c, err := tx.LockConnection(ctx, orgID, e.ConnectionID); err == nil {
			now := s.now()
			c.State, c.DisconnectedAt = patchbay.StateDisconnected, &now
			if err := tx.UpdateConnection(ctx, c); err != nil {
				return err
			}
		}
		a := patchbay.NewActivity(ctx, "endpoint.delete", "endpoint", id, patchbay.OutcomeSuccess)
		a.Detail = map[string]any{"url": e.URL}
		return tx.RecordActivity(ctx, a)
	})
}
