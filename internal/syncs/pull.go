package syncs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/delivery"
)

// maxPage bounds one page answer read from a vendor.
const maxPage = 16 << 20

// PullNow starts a pull run of an entity type over a connection of the
// caller's org and runs it: EINVALID when the connector declares no list
// endpoint for the entity type, ECONFLICT while another run of it is open.
// The run it returns is finished: completed, or failed with the vendor's
// error.
func (s *Service) PullNow(ctx context.Context, connectionID, entityType string) (*patchbay.SyncRun, error) {
	orgID := patchbay.PrincipalFrom(ctx).OrgID
	c, err := s.store.FindConnection(ctx, orgID, connectionID)
	if err != nil {
		return nil, err
	}
	cn, spec, err := s.listSpec(c, entityType)
	if err != nil {
		return nil, err
	}
	if c.State != patchbay.StateActive {
		return nil, patchbay.Errorf(patchbay.ECONFLICT, "The connection is %s.", c.State)
	}
	r := &patchbay.SyncRun{OrgID: orgID, ConnectionID: c.ID, EntityType: entityType, Direction: patchbay.SyncInbound,
		Trigger: patchbay.TriggerPull}
	err = s.store.CreateSyncRun(ctx, r)
	if patchbay.ErrorCode(err) == patchbay.ECONFLICT {
		if abandoned, aerr := s.abandonStale(ctx, r, c); aerr != nil {
			return nil, aerr
		} else if abandoned {
			err = s.store.CreateSyncRun(ctx, r)
		}
	}
	if err != nil {
		return nil, err
	}
	return s.pull(ctx, r, cn, spec)
}

// abandonStale fails the open run of r's connection, entity type and
// direction when Patchbay runs it itself (a pull) and it has not moved for
// StaleAfter: the process pulling it died. It reports whether it did. Its
// items stay unfinished, so the cursor stays before them and the next run
// fetches them again.
func (s *Service) abandonStale(ctx context.Context, r *patchbay.SyncRun, c *patchbay.Connection) (bool, error) {
	runs, _, err := s.store.ListSyncRuns(ctx, r.OrgID, patchbay.SyncRunFilter{ConnectionID: r.ConnectionID,
		EntityType: r.EntityType, Direction: r.Direction, Page: patchbay.Page{Limit: 1}})
	if err != nil || len(runs) == 0 {
		return false, err
	}
	open := runs[0]
	_, _, specErr := s.listSpec(c, open.EntityType)
	pulled := open.Trigger == patchbay.TriggerPull || (open.Trigger == patchbay.TriggerScheduled && specErr == nil &&
		open.Direction == patchbay.SyncInbound)
	if open.Status.Finished() || !pulled || open.UpdatedAt.After(s.now().Add(-s.StaleAfter)) {
		return false, nil
	}
	_, err = s.store.FinishSyncRun(ctx, open.OrgID, open.ID, patchbay.SyncFinish{Status: patchbay.SyncFailed,
		Error: "Abandoned: the pull made no progress for " + s.StaleAfter.String() + "."})
	if patchbay.ErrorCode(err) == patchbay.ECONFLICT {
		return true, nil // finished meanwhile
	}
	return err == nil, err
}

// listSpec returns the connector of c and its list endpoint for entity.
func (s *Service) listSpec(c *patchbay.Connection, entity string) (*patchbay.Connector, *patchbay.ListSpec, error) {
	cn, ok := s.catalog.Get(c.ConnectorSlug)
	if !ok {
		return nil, nil, patchbay.Errorf(patchbay.EINVALID, "Unknown connector %q.", c.ConnectorSlug)
	}
	spec := cn.List(entity)
	if spec == nil {
		return nil, nil, patchbay.Errorf(patchbay.EINVALID, "The %s connector declares no list endpoint for %q.", cn.Name, entity)
	}
	return cn, spec, nil
}

// pull pages through the list endpoint from the run's starting cursor:
// each page's records become items, then events (sync.<connector>.<entity>,
// one per record), then finished items, which moves the cursor. It stops at
// the last page, after PagesPerRun pages, or at the first error, which
// fails the run; the next run resumes from the stored cursor.
func (s *Service) pull(ctx context.Context, r *patchbay.SyncRun, cn *patchbay.Connector, spec *patchbay.ListSpec) (*patchbay.SyncRun, error) {
	ctx = system(ctx, r.OrgID)
	if _, err := s.store.StartSyncRun(ctx, r.OrgID, r.ID); err != nil {
		return nil, err
	}
	root := &patchbay.SyncOp{Message: "pull " + cn.Slug + " " + spec.Entity,
		Data: mustJSON(map[string]any{"path": spec.Path, "cursor": r.CursorStart})}
	if err := s.store.AddSyncOps(ctx, r.OrgID, r.ID, []*patchbay.SyncOp{root}); err != nil {
		return nil, err
	}
	cursor, seq := r.CursorStart, int64(0)
	for page := 1; page <= s.PagesPerRun; page++ {
		next, more, err := s.pullPage(ctx, r, cn, spec, root.ID, page, cursor, &seq)
		if err != nil {
			op := &patchbay.SyncOp{ParentID: root.ID, Level: patchbay.OpError, Message: "pull stopped: " + patchbay.ErrorMessage(err)}
			_ = s.store.AddSyncOps(ctx, r.OrgID, r.ID, []*patchbay.SyncOp{op})
			return s.store.FinishSyncRun(ctx, r.OrgID, r.ID, patchbay.SyncFinish{Status: patchbay.SyncFailed,
				Error: patchbay.ErrorMessage(err)})
		}
		if !more {
			break
		}
		cursor = next
	}
	return s.store.FinishSyncRun(ctx, r.OrgID, r.ID, patchbay.SyncFinish{Status: patchbay.SyncCompleted})
}

// record is one record of a page, with the cursor it stands for.
type record struct {
	id     string
	cursor string
	raw    json.RawMessage
}

// pullPage fetches one page after cursor and delivers it. It returns the
// next page's cursor and whether there is one.
func (s *Service) pullPage(ctx context.Context, r *patchbay.SyncRun, cn *patchbay.Connector, spec *patchbay.ListSpec,
	rootID string, page int, cursor string, seq *int64) (string, bool, error) {
	doc, err := s.fetch(ctx, r, spec, cursor)
	if err != nil {
		return "", false, err
	}
	raws, ok := lookup(doc, spec.ItemsField).([]any)
	if !ok && lookup(doc, spec.ItemsField) != nil {
		return "", false, patchbay.Errorf(patchbay.EUNAVAILABLE, "The vendor's answer has no list at %q.", spec.ItemsField)
	}
	recs := make([]record, len(raws))
	for i, raw := range raws {
		b, err := json.Marshal(raw)
		if err != nil {
			return "", false, err
		}
		recs[i] = record{id: scalar(lookup(raw, spec.IDField)), raw: b}
	}
	// Where the next page starts, and the cursor each record stands for:
	// with after_id, the record's own id; with next_cursor, the page's
	// start for every record but the last, which stands for the next
	// page's cursor. Resuming from a record's cursor never skips a record
	// after it, and re-fetches at most one page.
	var next string
	var more bool
	switch spec.Pagination {
	case patchbay.PageAfterID:
		more = scalar(lookup(doc, spec.HasMoreField)) == "true" && len(recs) > 0
		for i := range recs {
			recs[i].cursor = recs[i].id
		}
		if len(recs) > 0 {
			next = recs[len(recs)-1].id
		}
	default:
		next = scalar(lookup(doc, spec.NextCursorField))
		more = next != "" && len(recs) > 0
		for i := range recs {
			recs[i].cursor = cursor
		}
		if more {
			recs[len(recs)-1].cursor = next
		}
	}
	op := &patchbay.SyncOp{ParentID: rootID, Message: fmt.Sprintf("page %d: %d records", page, len(recs)),
		Data: mustJSON(map[string]any{"cursor": cursor, "next": next})}
	if err := s.store.AddSyncOps(ctx, r.OrgID, r.ID, []*patchbay.SyncOp{op}); err != nil {
		return "", false, err
	}
	if len(recs) == 0 {
		return next, false, nil
	}
	return next, more, s.deliver(ctx, r, cn, spec, recs, seq)
}

// fetch gets one page over the connection and decodes it.
func (s *Service) fetch(ctx context.Context, r *patchbay.SyncRun, spec *patchbay.ListSpec, cursor string) (any, error) {
	u, err := url.Parse(spec.Path)
	if err != nil {
		return nil, patchbay.Errorf(patchbay.EINVALID, "The connector's list path is not valid.")
	}
	q := u.Query()
	if cursor != "" {
		q.Set(spec.CursorParam, cursor)
	}
	if spec.PageSize > 0 {
		q.Set(spec.LimitParam, strconv.Itoa(spec.PageSize))
	}
	u.RawQuery = q.Encode()
	resp, err := s.calls.Do(ctx, r.OrgID, r.ConnectionID, http.MethodGet, u.String(), nil)
	if err != nil {
		var e *patchbay.Error
		if errors.As(err, &e) {
			return nil, err
		}
		return nil, &patchbay.Error{Code: patchbay.EUNAVAILABLE, Message: "The vendor could not be reached.", Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	if err != nil {
		return nil, patchbay.Errorf(patchbay.EUNAVAILABLE, "The vendor's answer could not be read.")
	}
	if resp.StatusCode != http.StatusOK {
		return nil, patchbay.Errorf(patchbay.EUNAVAILABLE, "The vendor answered %d %s.", resp.StatusCode,
			http.StatusText(resp.StatusCode))
	}
	// Numbers stay as written: a float64 would round large ids.
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, patchbay.Errorf(patchbay.EUNAVAILABLE, "The vendor's answer is not JSON.")
	}
	return doc, nil
}

// deliver records a page's records as items, publishes them, and marks
// them finished. A crash in between leaves the items unfinished and the
// cursor before them: the next run fetches them again.
func (s *Service) deliver(ctx context.Context, r *patchbay.SyncRun, cn *patchbay.Connector, spec *patchbay.ListSpec,
	recs []record, seq *int64) error {
	items := make([]*patchbay.SyncItem, len(recs))
	events := make([]delivery.EventInput, 0, len(recs))
	first := *seq + 1
	for i, rec := range recs {
		*seq++
		items[i] = &patchbay.SyncItem{Seq: *seq, ExternalID: truncate(rec.id, 500), Cursor: rec.cursor, Status: patchbay.ItemProcessing}
	}
	if _, err := s.store.PutSyncItems(ctx, r.OrgID, r.ID, items); err != nil {
		return err
	}
	typ := "sync." + cn.Slug + "." + spec.Entity
	for i, rec := range recs {
		payload := mustJSON(map[string]any{"run_id": r.ID, "connection_id": r.ConnectionID, "connector": cn.Slug,
			"entity_type": spec.Entity, "external_id": rec.id, "cursor": rec.cursor, "record": rec.raw})
		if len(payload) > s.MaxPayload {
			// One oversized record must not stop every later pull at it:
			// it fails on its own, and the log says so.
			items[i].Status, items[i].Error = patchbay.ItemFailed, "The record is over the event size limit."
			continue
		}
		events = append(events, delivery.EventInput{Type: typ, Payload: payload, SourceModule: "syncs",
			SourceID: r.ID, IdempotencyKey: fmt.Sprintf("sync:%s:%d", r.ID, items[i].Seq)})
		items[i].Status = patchbay.ItemSucceeded
	}
	if len(events) > 0 {
		if _, err := s.publish.PublishOwn(ctx, events); err != nil {
			return err
		}
	}
	for _, it := range items {
		if it.Status == patchbay.ItemProcessing {
			it.Status = patchbay.ItemSucceeded
		}
	}
	_, err := s.store.PutSyncItems(ctx, r.OrgID, r.ID, items)
	if err == nil {
		s.logger.DebugContext(ctx, "pulled page", "run", r.ID, "from_seq", first, "records", len(recs))
	}
	return err
}

// lookup reads a dotted path ("paging.next.after") from a decoded JSON
// value; nil when it is not there.
func lookup(doc any, path string) any {
	cur := doc
	for _, part := range strings.Split(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(v) {
				return nil
			}
			cur = v[i]
		default:
			return nil
		}
	}
	return cur
}

// scalar formats a JSON scalar as text; "" for null, objects and arrays.
func scalar(v any) string {
	switch x := v.(type) {
	case nil, map[string]any, []any:
		return ""
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of plain values reach here
	}
	return b
}
