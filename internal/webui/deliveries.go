package webui

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/patchbay/patchbay"
)

func init() {
	registerView(view{
		nav: navItem{Label: "Delivery log", Path: "/deliveries", Order: 30, Needs: needs(patchbay.CapDeliveriesRead)},
		routes: func(h *Handler) {
			h.mux.HandleFunc("GET /deliveries", h.authed(needs(patchbay.CapDeliveriesRead), h.deliveries))
			h.mux.HandleFunc("GET /deliveries/{id}", h.authed(needs(patchbay.CapDeliveriesRead), h.deliveryPage))
			h.mux.HandleFunc("POST /deliveries/{id}/retry", h.authed(needs(patchbay.CapDeliveriesRetry), h.retryOne))
			h.mux.HandleFunc("POST /deliveries/retry", h.authed(needs(patchbay.CapDeliveriesRetry), h.retryMany))
		},
	})
}

// outcomes are the delivery log's outcome filter: the seed's delivered,
// retried and failed, over Patchbay's statuses.
var outcomes = map[string][]patchbay.DeliveryStatus{
	"delivered": {patchbay.DeliveryDelivered},
	"retrying":  {patchbay.DeliveryRetrying, patchbay.DeliveryPending, patchbay.DeliverySending},
	"failed":    {patchbay.DeliveryDeadLetter},
	"held":      {patchbay.DeliveryHeld},
}

type deliveriesData struct {
	Q, Outcome, Since, Until, Endpoint, Connection, Cursor, Next string
	Outcomes                                                     []string
	Deliveries                                                   []*patchbay.Delivery
	Error                                                        string
	Retried                                                      int
}

func (h *Handler) deliveryFilter(get func(string) string) (patchbay.DeliveryFilter, deliveriesData, error) {
	d := deliveriesData{Q: strings.TrimSpace(get("q")), Outcome: get("outcome"), Since: get("since"), Until: get("until"),
		Endpoint: get("endpoint_id"), Connection: get("connection_id"), Cursor: get("cursor"),
		Outcomes: []string{"delivered", "retrying", "failed", "held"}}
	f := patchbay.DeliveryFilter{Search: d.Q, EndpointID: d.Endpoint, ConnectionID: d.Connection,
		Statuses: outcomes[d.Outcome], Page: patchbay.Page{Cursor: d.Cursor, Limit: 25}}
	if _, ok := outcomes[d.Outcome]; !ok {
		d.Outcome = ""
	}
	if d.Since != "" {
		t, err := time.Parse("2006-01-02", d.Since)
		if err != nil {
			return f, d, patchbay.Errorf(patchbay.EINVALID, "From must be a date such as 2026-03-01.")
		}
		f.Since = &t
	}
	if d.Until != "" {
		t, err := time.Parse("2006-01-02", d.Until)
		if err != nil {
			return f, d, patchbay.Errorf(patchbay.EINVALID, "To must be a date such as 2026-03-31.")
		}
		t = t.Add(24 * time.Hour) // the whole day
		f.Until = &t
	}
	if f.Since != nil && f.Until != nil && !f.Until.After(*f.Since) {
		return f, d, patchbay.Errorf(patchbay.EINVALID, "The end date must not be before the start date.")
	}
	return f, d, nil
}

func (h *Handler) deliveries(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	f, d, err := h.deliveryFilter(r.URL.Query().Get)
	if err != nil {
		d.Error = patchbay.ErrorMessage(err)
		h.render(w, r, rc, http.StatusBadRequest, "deliveries", "Delivery log", d)
		return
	}
	if d.Deliveries, d.Next, err = h.store.ListDeliveries(r.Context(), rc.org, f); err != nil {
		if patchbay.ErrorCode(err) == patchbay.EINVALID {
			d.Error = patchbay.ErrorMessage(err)
			h.render(w, r, rc, http.StatusBadRequest, "deliveries", "Delivery log", d)
			return
		}
		h.fail(w, r, rc, err)
		return
	}
	h.render(w, r, rc, http.StatusOK, "deliveries", "Delivery log", d)
}

type deliveryData struct {
	D        *patchbay.Delivery
	Attempts []*patchbay.Attempt
	Event    *patchbay.Event
	Body     string
}

func (h *Handler) deliveryPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	dl, err := h.store.FindDelivery(ctx, rc.org, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	d := deliveryData{D: dl}
	if d.Attempts, err = h.store.ListAttempts(ctx, rc.org, dl.ID); err != nil {
		h.fail(w, r, rc, err)
		return
	}
	if dl.EventID != "" {
		if ev, err := h.store.FindEvent(ctx, rc.org, dl.EventID); err == nil {
			d.Event, d.Body = ev, string(ev.Payload)
		}
	} else {
		d.Body = string(dl.Body)
	}
	h.render(w, r, rc, http.StatusOK, "delivery", "Delivery "+dl.ID, d)
}

func (h *Handler) retryOne(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if _, err := h.cfg.Deliveries.RetryOne(r.Context(), r.PathValue("id")); err != nil {
		h.fail(w, r, rc, err)
		return
	}
	done(w, r, "/deliveries/"+r.PathValue("id"), "retried")
}

// retryMany retries the ticked deliveries, or with all=1 every undelivered
// one matching the log's filter.
func (h *Handler) retryMany(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	var err error
	if r.PostFormValue("all") == "1" {
		f, _, ferr := h.deliveryFilter(r.PostFormValue)
		if ferr != nil {
			h.fail(w, r, rc, ferr)
			return
		}
		f.Statuses = slices.DeleteFunc(f.Statuses, func(s patchbay.DeliveryStatus) bool {
			return s == patchbay.DeliveryDelivered || s == patchbay.DeliverySending
		})
		if r.PostFormValue("outcome") == "delivered" {
			h.renderError(w, r, rc, http.StatusBadRequest, "Nothing to retry", "Delivered deliveries are not retried.")
			return
		}
		_, err = h.cfg.Deliveries.RetryMatching(r.Context(), f)
	} else {
		ids := r.PostForm["id"]
		if len(ids) == 0 {
			h.renderError(w, r, rc, http.StatusBadRequest, "Nothing to retry", "Tick the deliveries to retry first.")
			return
		}
		_, err = h.cfg.Deliveries.Retry(r.Context(), ids)
	}
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	done(w, r, "/deliveries", "retried")
}
