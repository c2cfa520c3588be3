package inbound

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/connection"
	"github.com/patchbay/patchbay/internal/delivery"
	"github.com/patchbay/patchbay/internal/secret"
)

// Service receives vendors' webhooks: it verifies them by the connector's
// declared scheme, records them, drops duplicates, and forwards the rest to
// the host platform as inbound.<connector>.<type> events.
type Service struct {
	Store      patchbay.Store
	Catalog    connection.Catalog
	Ring       *secret.Ring
	Deliveries *delivery.Service
	PublicURL  string
	Logger     *slog.Logger
	Now        func() time.Time
}

// MaxBody bounds an inbound webhook's body.
const MaxBody = 1 << 20

var routeColumn = patchbay.SealedColumn{Table: "inbound_routes", Column: "secret", Key: "token_hash"}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return patchbay.Now()
}

// CreateRoute gives a connection of the caller's org a new inbound URL
// (replacing any earlier one) for its vendor to sign with secret, and
// returns the URL: it holds an unguessable token, stored only as a hash,
// so it is shown this once.
func (s *Service) CreateRoute(ctx context.Context, connectionID, signingSecret string) (string, error) {
	p := patchbay.PrincipalFrom(ctx)
	c, err := s.Store.FindConnection(ctx, p.OrgID, connectionID)
	if err != nil {
		return "", err
	}
	cn, ok := s.Catalog.Get(c.ConnectorSlug)
	if !ok || cn.Webhooks == nil {
		return "", patchbay.Errorf(patchbay.EINVALID, "Connector %q declares no webhook signature scheme.", c.ConnectorSlug)
	}
	if signingSecret = strings.TrimSpace(signingSecret); signingSecret == "" || len(signingSecret) > 1000 {
		return "", patchbay.Errorf(patchbay.EINVALID, "secret is required: the signing secret the vendor shows for this webhook.")
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	r := &patchbay.InboundRoute{TokenHash: hashToken(token), OrgID: p.OrgID, ConnectionID: c.ID}
	if r.Secret, err = s.Ring.Seal([]byte(signingSecret), routeColumn.AssociatedData(r.TokenHash)); err != nil {
		return "", err
	}
	err = s.Store.WithTx(ctx, func(tx patchbay.Store) error {
		if err := tx.CreateInboundRoute(ctx, r); err != nil {
			return err
		}
		a := patchbay.NewActivity(ctx, "connection.inbound_url", "connection", c.ID, patchbay.OutcomeSuccess)
		a.Detail = map[string]any{"connector": c.ConnectorSlug, "scheme": cn.Webhooks.Scheme}
		return tx.RecordActivity(ctx, a)
	})
	if err != nil {
		return "", err
	}
	return strings.TrimRight(s.PublicURL, "/") + "/inbound/" + token, nil
}

// Receive handles a call to /inbound/<token>. An unverifiable call is
// recorded as rejected, without its body, and refused with EUNAUTHORIZED; a
// duplicate delivery id is acknowledged without being processed again.
func (s *Service) Receive(ctx context.Context, token string, header http.Header, body []byte) (w *patchbay.InboundWebhook, duplicate bool, err error) {
	route, err := s.Store.FindInboundRoute(ctx, hashToken(token))
	if err != nil {
		return nil, false, err
	}
	c, err := s.Store.FindConnection(ctx, route.OrgID, route.ConnectionID)
	if err != nil {
		return nil, false, err
	}
	cn, ok := s.Catalog.Get(c.ConnectorSlug)
	if !ok || cn.Webhooks == nil {
		return nil, false, patchbay.Errorf(patchbay.ENOTFOUND, "Unknown inbound URL.")
	}
	key, err := s.Ring.Open(route.Secret, routeColumn.AssociatedData(route.TokenHash))
	if err != nil {
		return nil, false, err
	}
	req := Request{Header: header, Body: body}
	spec := *cn.Webhooks
	w = &patchbay.InboundWebhook{OrgID: c.OrgID, ConnectionID: c.ID, Provider: c.ConnectorSlug,
		Headers: RedactHeaders(header), EventType: EventType(spec, req), DeliveryID: DeliveryID(spec, req)}
	if err := VerifySpec(spec, string(key), req, s.now()); err != nil {
		// Recorded without the body: it could not be trusted, and may
		// carry anything.
		w.Status, w.Error, w.DeliveryID = patchbay.InboundRejected, "Signature check failed: "+err.Error(), ""
		if cerr := s.Store.CreateInbound(ctx, w); cerr != nil {
			s.logger().Warn("record rejected inbound webhook", "error", cerr.Error())
		}
		return w, false, patchbay.Errorf(patchbay.EUNAUTHORIZED, "The webhook's signature does not verify.")
	}
	w.Verified, w.Status, w.Payload = true, patchbay.InboundProcessing, body
	if err := s.Store.CreateInbound(ctx, w); patchbay.ErrorCode(err) == patchbay.ECONFLICT {
		return w, true, nil
	} else if err != nil {
		return nil, false, err
	}
	return s.forward(ctx, w), false, nil
}

var unsafeType = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// eventFor is the event a webhook is forwarded as: inbound.<connector>.<type>
// with the vendor's body as payload (a non-JSON body, such as Slack's
// form-encoded interactivity, travels as a JSON string).
func eventFor(w *patchbay.InboundWebhook) delivery.EventInput {
	typ := strings.Trim(unsafeType.ReplaceAllString(w.EventType, "_"), "._-")
	if typ == "" {
		typ = "event"
	}
	payload := json.RawMessage(w.Payload)
	if !json.Valid(payload) {
		payload, _ = json.Marshal(string(w.Payload))
	}
	return delivery.EventInput{Type: "inbound." + w.Provider + "." + typ, Payload: payload,
		SourceModule: "inbound", SourceID: w.ID}
}

// publish forwards a webhook as an event and records the outcome on it; a
// failure leaves it failed, to be replayed.
func (s *Service) publish(ctx context.Context, w *patchbay.InboundWebhook, in delivery.EventInput) error {
	system := patchbay.WithPrincipal(ctx, &patchbay.Principal{OrgID: w.OrgID, ActorType: patchbay.ActorSystem,
		ActorID: "inbound", ActorName: "Patchbay"})
	out, err := s.Deliveries.PublishOwn(system, []delivery.EventInput{in})
	now := s.now()
	w.ProcessedAt = &now
	if err != nil {
		w.Status, w.Error = patchbay.InboundFailed, patchbay.ErrorMessage(err)
	} else {
		w.Status, w.Error, w.EventID = patchbay.InboundProcessed, "", out[0].Event.ID
	}
	if uerr := s.Store.UpdateInbound(ctx, w); uerr != nil {
		return uerr
	}
	return err
}

// forward publishes a newly received webhook, once (its id is the event's
// idempotency key).
func (s *Service) forward(ctx context.Context, w *patchbay.InboundWebhook) *patchbay.InboundWebhook {
	in := eventFor(w)
	in.IdempotencyKey = "inbound:" + w.ID
	if err := s.publish(ctx, w, in); err != nil {
		s.logger().Error("forward inbound webhook", "inbound", w.ID, "error", err.Error())
	}
	return w
}

// Replay forwards a verified webhook of the caller's org again, as a new
// event.
func (s *Service) Replay(ctx context.Context, id string) (*patchbay.InboundWebhook, error) {
	w, err := s.Store.FindInbound(ctx, patchbay.PrincipalFrom(ctx).OrgID, id)
	if err != nil {
		return nil, err
	}
	if !w.Verified {
		return nil, patchbay.Errorf(patchbay.ECONFLICT, "Rejected webhooks are not replayed.")
	}
	if err := s.Store.RecordActivity(ctx, patchbay.NewActivity(ctx, "inbound.replay", "inbound_webhook", w.ID, patchbay.OutcomeSuccess)); err != nil {
		return nil, err
	}
	return w, s.publish(ctx, w, eventFor(w))
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}
