package webui

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/connection"
)

func init() {
	registerView(view{
		nav: navItem{Label: "Connections", Path: "/connections", Order: 20, Needs: needs(patchbay.CapConnectionsRead)},
		routes: func(h *Handler) {
			read := needs(patchbay.CapConnectionsRead)
			h.mux.HandleFunc("GET /connections", h.authed(read, h.connections))
			h.mux.HandleFunc("GET /connections/{id}", h.authed(read, h.connectionPage))
			h.mux.HandleFunc("POST /connections/{id}/test", h.authed(needs(patchbay.CapConnectionsTest), h.connectionAction))
			h.mux.HandleFunc("POST /connections/{id}/pause", h.authed(needs(patchbay.CapConnectionsPause), h.connectionAction))
			h.mux.HandleFunc("POST /connections/{id}/resume", h.authed(needs(patchbay.CapConnectionsPause), h.connectionAction))
			h.mux.HandleFunc("POST /connections/{id}/refresh", h.authed(needs(patchbay.CapConnectionsRefresh), h.connectionAction))
			h.mux.HandleFunc("POST /connections/{id}/disconnect",
				h.authed(needs(patchbay.CapConnectionsDisconnect, patchbay.CapDelete), h.connectionAction))
			h.mux.HandleFunc("POST /connections/{id}/scopes", h.authed(needs(patchbay.CapConnectionsScopes), h.editScopes))
		},
	})
}

// connectionStates are the states the list filters on.
var connectionStates = []string{"active", "paused", "auth_expired", "auth_revoked", "error", "disconnected"}

// connectionSorts are the columns the list sorts by.
var connectionSorts = []string{"newest", "name", "connector", "state", "last_delivery"}

type connectionsData struct {
	States, Sorts  []string
	State, Q, Sort string
	Connections    []*patchbay.Connection
	Next, Cursor   string
	Names          map[string]string // connector slug → name
	Operators      map[string]string // actor ("user:usr_…") → e-mail
}

func (h *Handler) connections(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := r.URL.Query()
	d := connectionsData{States: connectionStates, Sorts: connectionSorts, State: q.Get("state"), Q: strings.TrimSpace(q.Get("q")),
		Sort: q.Get("sort"), Cursor: q.Get("cursor"), Names: map[string]string{}}
	if !slices.Contains(connectionStates, d.State) {
		d.State = ""
	}
	if !slices.Contains(connectionSorts, d.Sort) {
		d.Sort = "newest"
	}
	list, next, err := h.cfg.Connections.List(r.Context(), patchbay.ConnectionFilter{State: patchbay.ConnectionState(d.State),
		Query: d.Q, IncludeDisconnected: d.State == "disconnected", Page: patchbay.Page{Cursor: d.Cursor, Limit: 25}})
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	for _, c := range list {
		if cn, ok := h.cfg.Catalog.Get(c.ConnectorSlug); ok {
			d.Names[c.ConnectorSlug] = cn.Name
		}
	}
	if d.Operators, err = h.actorNames(r, rc); err != nil {
		h.fail(w, r, rc, err)
		return
	}
	// The store pages newest first; other orders sort the page shown.
	sortConnections(list, d.Sort, d.Names)
	d.Connections, d.Next = list, next
	h.render(w, r, rc, http.StatusOK, "connections", "Connections", d)
}

func sortConnections(list []*patchbay.Connection, by string, names map[string]string) {
	last := func(c *patchbay.Connection) time.Time {
		if c.LastDeliveryAt == nil {
			return time.Time{}
		}
		return *c.LastDeliveryAt
	}
	switch by {
	case "name":
		slices.SortStableFunc(list, func(a, b *patchbay.Connection) int {
			return cmp.Compare(strings.ToLower(a.DisplayName), strings.ToLower(b.DisplayName))
		})
	case "connector":
		slices.SortStableFunc(list, func(a, b *patchbay.Connection) int {
			return cmp.Compare(names[a.ConnectorSlug], names[b.ConnectorSlug])
		})
	case "state":
		slices.SortStableFunc(list, func(a, b *patchbay.Connection) int { return cmp.Compare(a.State, b.State) })
	case "last_delivery":
		slices.SortStableFunc(list, func(a, b *patchbay.Connection) int { return last(b).Compare(last(a)) })
	}
}

type connectionData struct {
	C           *patchbay.Connection
	Connector   *patchbay.Connector
	History     []*patchbay.Activity
	Deliveries  []*patchbay.Delivery
	Test        *connection.TestResult
	Charts      charts
	ScopeChoice []scopeChoice
	Operator    string
	// Syncs: the connection's schedules and last runs, and the entity
	// types its connector can pull (list endpoints in the catalog).
	Schedules []*patchbay.SyncSchedule
	SyncRuns  []*patchbay.SyncRun
	Pullable  []string
	// Requests are the last vendor calls over the connection.
	Requests []*patchbay.APIRequest
}

type scopeChoice struct {
	Name, Description string
	Held              bool
}

func (h *Handler) connectionPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	h.showConnection(w, r, rc, http.StatusOK, nil)
}

func (h *Handler) showConnection(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, test *connection.TestResult) {
	ctx := r.Context()
	c, err := h.cfg.Connections.Get(ctx, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	d := connectionData{C: c, Test: test, Operator: c.OperatorOfRecord}
	if names, err := h.actorNames(r, rc); err == nil && names[c.OperatorOfRecord] != "" {
		d.Operator = names[c.OperatorOfRecord]
	}
	d.Connector, _ = h.cfg.Catalog.Get(c.ConnectorSlug)
	if d.Connector != nil && d.Connector.OAuth != nil {
		for _, s := range d.Connector.OAuth.Scopes {
			d.ScopeChoice = append(d.ScopeChoice, scopeChoice{Name: s.Name, Description: s.Description, Held: slices.Contains(c.Scopes, s.Name)})
		}
	}
	if rc.p.Can(patchbay.CapActivityRead) {
		d.History, _, err = h.store.ListActivity(ctx, rc.org, patchbay.ActivityFilter{TargetType: "connection", TargetID: c.ID,
			Page: patchbay.Page{Limit: 20}})
		if err != nil {
			h.fail(w, r, rc, err)
			return
		}
	}
	if rc.p.Can(patchbay.CapDeliveriesRead) {
		d.Deliveries, _, err = h.store.ListDeliveries(ctx, rc.org, patchbay.DeliveryFilter{ConnectionID: c.ID, Page: patchbay.Page{Limit: 10}})
		if err != nil {
			h.fail(w, r, rc, err)
			return
		}
		if d.Charts, err = h.charts(r, rc, patchbay.DeliveryStatsFilter{ConnectionID: c.ID}); err != nil {
			h.fail(w, r, rc, err)
			return
		}
	}
	if err := h.connectionSyncs(r, rc, &d); err != nil {
		h.fail(w, r, rc, err)
		return
	}
	allowOAuthForms(w, d.Connector)
	h.render(w, r, rc, status, "connection", c.DisplayName, d)
}

// connectionSyncs fills the connection page's sync and vendor-call
// sections.
func (h *Handler) connectionSyncs(r *http.Request, rc *reqCtx, d *connectionData) error {
	ctx := r.Context()
	var err error
	if d.Schedules, err = h.store.ListSyncSchedules(ctx, rc.org, d.C.ID); err != nil {
		return err
	}
	if d.SyncRuns, err = h.store.SyncHistory(ctx, rc.org, d.C.ID, 5); err != nil {
		return err
	}
	if d.Connector != nil {
		for _, l := range d.Connector.Lists {
			d.Pullable = append(d.Pullable, l.Entity)
		}
	}
	d.Requests, _, err = h.store.ListRequests(ctx, rc.org, patchbay.RequestFilter{ConnectionID: d.C.ID, Page: patchbay.Page{Limit: 10}})
	return err
}

// connectionAction runs test, pause, resume, refresh or disconnect; the
// route has already checked the capability, and the service checks the
// org and the connection's state.
func (h *Handler) connectionAction(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx, id := r.Context(), r.PathValue("id")
	action := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	var (
		res    connection.TestResult
		err    error
		notice = map[string]string{"test": "tested", "pause": "paused", "resume": "resumed", "refresh": "refreshed",
			"disconnect": "disconnected"}[action]
	)
	switch action {
	case "test":
		_, res, err = h.cfg.Connections.Test(ctx, id)
	case "pause":
		_, err = h.cfg.Connections.Pause(ctx, id)
	case "resume":
		_, res, err = h.cfg.Connections.Resume(ctx, id)
	case "refresh":
		_, res, err = h.cfg.Connections.Refresh(ctx, id)
	case "disconnect":
		_, _, err = h.cfg.Connections.Disconnect(ctx, id)
	}
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	if action == "test" || (res.Outcome != "" && res.Outcome != patchbay.TestConnected) {
		// Show the outcome on the page itself.
		h.showConnection(w, r, rc, http.StatusOK, &res)
		return
	}
	done(w, r, "/connections/"+id, notice)
}

// editScopes starts a re-authorization with the chosen scopes.
func (h *Handler) editScopes(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	c, err := h.cfg.Connections.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	a, err := h.cfg.Connections.StartAuthorization(r.Context(), connection.AuthorizeRequest{Connector: c.ConnectorSlug,
		Scopes: r.PostForm["scope"], ConnectionID: c.ID, ReturnTo: "/oauth-return?connector=" + c.ConnectorSlug})
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	http.Redirect(w, r, a.URL, http.StatusSeeOther)
}

// actorNames maps the org's users, as actors ("user:usr_…"), to their
// e-mail addresses, for the operator-of-record column.
func (h *Handler) actorNames(r *http.Request, rc *reqCtx) (map[string]string, error) {
	users, _, err := h.store.ListUsers(r.Context(), rc.org, patchbay.UserFilter{Page: patchbay.Page{Limit: 500}})
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, u := range users {
		names[patchbay.ActorUser+":"+u.ID] = u.Email
	}
	return names, nil
}
