package webui

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/syncs"
)

func init() {
	registerView(view{
		nav: navItem{Label: "Syncs", Path: "/syncs", Order: 45, Needs: needs(patchbay.CapConnectionsRead)},
		routes: func(h *Handler) {
			read, write := needs(patchbay.CapConnectionsRead), needs(patchbay.CapSyncWrite)
			h.mux.HandleFunc("GET /syncs", h.authed(read, h.syncRuns))
			h.mux.HandleFunc("GET /syncs/failed", h.authed(read, h.failedSyncs))
			h.mux.HandleFunc("GET /syncs/history", h.authed(read, h.syncHistory))
			h.mux.HandleFunc("GET /syncs/{id}", h.authed(read, h.syncRunPage))
			h.mux.HandleFunc("POST /connections/{id}/sync-pull", h.authed(write, h.pullNow))
			h.mux.HandleFunc("POST /connections/{id}/sync-schedules", h.authed(write, h.putSchedule))
		},
	})
}

var (
	syncStatuses   = []string{"pending", "running", "completed", "failed"}
	syncDirections = []string{"inbound", "outbound"}
)

// dateRange reads a From and To date filter (To takes in the whole day).
func dateRange(since, until string) (from, to *time.Time, err error) {
	if since != "" {
		t, err := time.Parse("2006-01-02", since)
		if err != nil {
			return nil, nil, patchbay.Errorf(patchbay.EINVALID, "From must be a date such as 2026-03-01.")
		}
		from = &t
	}
	if until != "" {
		t, err := time.Parse("2006-01-02", until)
		if err != nil {
			return nil, nil, patchbay.Errorf(patchbay.EINVALID, "To must be a date such as 2026-03-31.")
		}
		t = t.Add(24 * time.Hour)
		to = &t
	}
	if from != nil && to != nil && !to.After(*from) {
		return nil, nil, patchbay.Errorf(patchbay.EINVALID, "The end date must not be before the start date.")
	}
	return from, to, nil
}

type syncRunsData struct {
	Connection, Status, Entity, Direction, Since, Until, Cursor, Next string
	Statuses, Directions                                              []string
	Runs                                                              []*patchbay.SyncRun
	Conns                                                             []*patchbay.Connection
	Names                                                             map[string]string // connection id → name
	Error                                                             string
}

// Filtered reports whether any filter is set.
func (d syncRunsData) Filtered() bool {
	return d.Connection != "" || d.Status != "" || d.Entity != "" || d.Direction != "" || d.Since != "" || d.Until != ""
}

// connectionNames lists the org's connections (for a filter) and maps
// their ids to display names.
func (h *Handler) connectionNames(r *http.Request) ([]*patchbay.Connection, map[string]string, error) {
	list, _, err := h.cfg.Connections.List(r.Context(), patchbay.ConnectionFilter{IncludeDisconnected: true,
		Page: patchbay.Page{Limit: patchbay.MaxPageLimit}})
	if err != nil {
		return nil, nil, err
	}
	names := map[string]string{}
	for _, c := range list {
		names[c.ID] = c.DisplayName
	}
	return list, names, nil
}

func (h *Handler) syncRuns(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := r.URL.Query()
	d := syncRunsData{Connection: q.Get("connection_id"), Status: q.Get("status"), Entity: strings.TrimSpace(q.Get("entity_type")),
		Direction: q.Get("direction"), Since: q.Get("since"), Until: q.Get("until"), Cursor: q.Get("cursor"),
		Statuses: syncStatuses, Directions: syncDirections}
	if !slices.Contains(syncStatuses, d.Status) {
		d.Status = ""
	}
	if !slices.Contains(syncDirections, d.Direction) {
		d.Direction = ""
	}
	var err error
	if d.Conns, d.Names, err = h.connectionNames(r); err != nil {
		h.fail(w, r, rc, err)
		return
	}
	from, to, err := dateRange(d.Since, d.Until)
	if err == nil {
		d.Runs, d.Next, err = h.store.ListSyncRuns(r.Context(), rc.org, patchbay.SyncRunFilter{ConnectionID: d.Connection,
			Status: patchbay.SyncStatus(d.Status), EntityType: d.Entity, Direction: patchbay.SyncDirection(d.Direction),
			From: from, To: to, Page: patchbay.Page{Cursor: d.Cursor, Limit: 25}})
	}
	if err != nil {
		if patchbay.ErrorCode(err) == patchbay.EINVALID {
			d.Error = patchbay.ErrorMessage(err)
			h.render(w, r, rc, http.StatusBadRequest, "syncs", "Syncs", d)
			return
		}
		h.fail(w, r, rc, err)
		return
	}
	h.render(w, r, rc, http.StatusOK, "syncs", "Syncs", d)
}

// opNode is an operation-log entry with the entries under it.
type opNode struct {
	Op       *patchbay.SyncOp
	Children []*opNode
}

// opTree nests a run's log by parent id; an entry whose parent is not on
// the page shown becomes a root.
func opTree(ops []*patchbay.SyncOp) []*opNode {
	nodes := make(map[string]*opNode, len(ops))
	for _, o := range ops {
		nodes[o.ID] = &opNode{Op: o}
	}
	var roots []*opNode
	for _, o := range ops {
		if p, ok := nodes[o.ParentID]; ok && o.ParentID != o.ID {
			p.Children = append(p.Children, nodes[o.ID])
		} else {
			roots = append(roots, nodes[o.ID])
		}
	}
	return roots
}

type syncRunData struct {
	Run            *patchbay.SyncRun
	Connection     string
	Items          []*patchbay.SyncItem
	NextSeq        int64
	AfterSeq       string
	Ops            []*opNode
	OpsNext        string
	OpsCursor      string
	Cursor         *patchbay.SyncCursor
	ItemStatus     string
	ItemStatuses   []patchbay.SyncItemStatus
	ItemsTruncated bool
}

const itemsPerPage = 100

func (h *Handler) syncRunPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx, q := r.Context(), r.URL.Query()
	run, err := h.store.FindSyncRun(ctx, rc.org, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	d := syncRunData{Run: run, Connection: run.ConnectionID, AfterSeq: q.Get("after_seq"), OpsCursor: q.Get("log_cursor"),
		ItemStatuses: patchbay.SyncItemStatuses, ItemStatus: q.Get("item_status")}
	if !slices.Contains(d.ItemStatuses, patchbay.SyncItemStatus(d.ItemStatus)) {
		d.ItemStatus = ""
	}
	if c, err := h.cfg.Connections.Get(ctx, run.ConnectionID); err == nil {
		d.Connection = c.DisplayName
	}
	var after int64
	for _, c := range d.AfterSeq {
		if c < '0' || c > '9' || after > 1<<50 {
			after = 0
			break
		}
		after = after*10 + int64(c-'0')
	}
	if d.Items, err = h.store.ListSyncItems(ctx, rc.org, run.ID, patchbay.SyncItemFilter{Status: patchbay.SyncItemStatus(d.ItemStatus),
		AfterSeq: after, Limit: itemsPerPage}); err != nil {
		h.fail(w, r, rc, err)
		return
	}
	if len(d.Items) == itemsPerPage {
		d.NextSeq = d.Items[len(d.Items)-1].Seq
	}
	ops, next, err := h.store.ListSyncOps(ctx, rc.org, run.ID, patchbay.Page{Cursor: d.OpsCursor, Limit: patchbay.MaxPageLimit})
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	d.Ops, d.OpsNext = opTree(ops), next
	d.Cursor, err = h.store.FindSyncCursor(ctx, rc.org, run.ConnectionID, run.EntityType, run.Direction)
	if err != nil && patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		h.fail(w, r, rc, err)
		return
	}
	h.render(w, r, rc, http.StatusOK, "syncrun", "Sync run "+run.ID, d)
}

type failedSyncsData struct {
	Failed []*patchbay.FailedSync
	Since  time.Time
}

func (h *Handler) failedSyncs(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	d := failedSyncsData{Since: h.now().Add(-7 * 24 * time.Hour)}
	var err error
	if d.Failed, err = h.store.FailedSyncs(r.Context(), rc.org, d.Since); err != nil {
		h.fail(w, r, rc, err)
		return
	}
	h.render(w, r, rc, http.StatusOK, "syncsfailed", "Failed syncs", d)
}

// historyGroup is one connection's last runs.
type historyGroup struct {
	ConnectionID, Name string
	Runs               []*patchbay.SyncRun
}

func (h *Handler) syncHistory(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	runs, err := h.store.SyncHistory(r.Context(), rc.org, "", 10)
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	_, names, err := h.connectionNames(r)
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	var groups []*historyGroup
	for _, run := range runs {
		if len(groups) == 0 || groups[len(groups)-1].ConnectionID != run.ConnectionID {
			groups = append(groups, &historyGroup{ConnectionID: run.ConnectionID, Name: cmp.Or(names[run.ConnectionID], run.ConnectionID)})
		}
		g := groups[len(groups)-1]
		g.Runs = append(g.Runs, run)
	}
	h.render(w, r, rc, http.StatusOK, "syncshistory", "Sync history", groups)
}

// pullNow runs a pull of an entity type over the connection, as
// POST /v1/connections/{id}/sync-pull does, and shows the finished run.
func (h *Handler) pullNow(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if h.cfg.Syncs == nil {
		h.renderError(w, r, rc, http.StatusServiceUnavailable, "Unavailable", "Syncs are not running on this server.")
		return
	}
	run, err := h.cfg.Syncs.PullNow(r.Context(), r.PathValue("id"), r.PostFormValue("entity_type"))
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	done(w, r, "/syncs/"+run.ID, "pulled")
}

// putSchedule creates, changes, enables or disables a schedule, as
// PUT /v1/connections/{id}/sync-schedules does.
func (h *Handler) putSchedule(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if h.cfg.Syncs == nil {
		h.renderError(w, r, rc, http.StatusServiceUnavailable, "Unavailable", "Syncs are not running on this server.")
		return
	}
	interval, err := syncs.ParseInterval(r.PostFormValue("interval"))
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	id := r.PathValue("id")
	_, err = h.cfg.Syncs.PutSchedule(r.Context(), &patchbay.SyncSchedule{ConnectionID: id, EntityType: r.PostFormValue("entity_type"),
		Direction: patchbay.SyncDirection(r.PostFormValue("direction")), Interval: interval, Enabled: r.PostFormValue("enabled") == "1"})
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	done(w, r, "/connections/"+id, "schedule-saved")
}
