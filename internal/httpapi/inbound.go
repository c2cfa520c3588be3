package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
	"github.com/patchbay/patchbay/internal/inbound"
)

func inboundOut(w *patchbay.InboundWebhook) client.InboundWebhook {
	out := client.InboundWebhook{ID: w.ID, ConnectionID: w.ConnectionID, Provider: w.Provider, EventType: w.EventType,
		DeliveryID: w.DeliveryID, Verified: w.Verified, Status: string(w.Status), Headers: w.Headers, Error: w.Error,
		EventID: w.EventID, ReceivedAt: w.ReceivedAt.UTC(), ProcessedAt: utcPtr(w.ProcessedAt)}
	if len(w.Payload) > 0 {
		if json.Valid(w.Payload) {
			out.Payload = w.Payload
		} else {
			out.Payload, _ = json.Marshal(string(w.Payload))
		}
	}
	return out
}

type inboundURLInput struct {
	IDParam
	Body client.InboundURLRequest
}

func (s *Server) createInboundURL(ctx context.Context, in *inboundURLInput) (*body[client.InboundURL], error) {
	url, err := s.inbound.CreateRoute(ctx, in.ID, in.Body.Secret)
	if err != nil {
		return nil, err
	}
	return respond(client.InboundURL{URL: url}), nil
}

type listInboundInput struct {
	ConnectionID string `query:"connection_id"`
	Status       string `query:"status" enum:"pending,processing,processed,failed,rejected,"`
	EventType    string `query:"event_type"`
	PageParams
}

func (s *Server) listInbound(ctx context.Context, in *listInboundInput) (*body[client.List[client.InboundWebhook]], error) {
	list, next, err := s.store.ListInbound(ctx, patchbay.PrincipalFrom(ctx).OrgID, patchbay.InboundFilter{
		ConnectionID: in.ConnectionID, Status: patchbay.InboundStatus(in.Status), EventType: in.EventType, Page: in.page()})
	if err != nil {
		return nil, err
	}
	return respond(client.List[client.InboundWebhook]{Data: mapSlice(list, inboundOut), NextCursor: next}), nil
}

func (s *Server) getInbound(ctx context.Context, in *IDParam) (*body[client.InboundWebhook], error) {
	w, err := s.store.FindInbound(ctx, patchbay.PrincipalFrom(ctx).OrgID, in.ID)
	if err != nil {
		return nil, err
	}
	return respond(inboundOut(w)), nil
}

func (s *Server) replayInbound(ctx context.Context, in *IDParam) (*body[client.InboundWebhook], error) {
	w, err := s.inbound.Replay(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return respond(inboundOut(w)), nil
}

// receiveInbound is where vendors deliver webhooks: /inbound/<token>. The
// unguessable token and the signature guard it; it takes no API key.
func (s *Server) receiveInbound(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, inbound.MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, patchbay.Errorf(patchbay.ETOOLARGE, "The webhook is over %d bytes.", inbound.MaxBody))
		return
	} else if err != nil {
		writeError(w, patchbay.Errorf(patchbay.EINVALID, "The body could not be read."))
		return
	}
	hook, duplicate, err := s.inbound.Receive(r.Context(), r.PathValue("token"), r.Header, body)
	if err != nil {
		e := asDomain(err)
		if e.Code == patchbay.EINTERNAL {
			requestInfoFrom(r.Context()).logger.ErrorContext(r.Context(), "inbound webhook", "error", err.Error())
		}
		writeError(w, e)
		return
	}
	status := string(hook.Status)
	if duplicate {
		status = "duplicate"
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": hook.ID, "status": status})
}
