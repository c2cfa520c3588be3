package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/delivery"
	"github.com/patchbay/patchbay/internal/fakevendor"
	"github.com/patchbay/patchbay/internal/httpapi"
)

// sampleBodies holds a valid request body for every route that takes one,
// by operation id. The matrix tests fail on a route that has none, so a new
// route cannot slip past them.
func sampleBody(t *testing.T, rt httpapi.Route, n int) any {
	switch rt.ID {
	case "create-api-key":
		return map[string]any{"name": fmt.Sprintf("matrix key %d", n)}
	case "create-user":
		return map[string]any{"email": fmt.Sprintf("matrix%d@example.com", n), "role_id": patchbay.RoleViewer}
	case "update-user":
		return map[string]any{"name": fmt.Sprintf("Renamed %d", n)}
	case "create-role", "update-role":
		return map[string]any{"name": fmt.Sprintf("Matrix role %d", n), "capabilities": []string{"connections:read"}}
	case "create-connection":
		return map[string]any{"connector": fakevendor.Slug, "auth_mode": "api_key", "fields": map[string]string{"api_key": "matrix-key"}}
	case "authorize-connection":
		return map[string]any{"connector": fakevendor.Slug}
	case "edit-connection-scopes":
		return map[string]any{"scopes": []string{"profile"}}
	case "set-oauth-client":
		return map[string]any{"client_id": "matrix-client", "client_secret": "matrix-secret"}
	case "create-endpoint", "update-endpoint":
		return map[string]any{"url": "https://receiver.example/hooks", "event_types": []string{"invoice.*"}}
	case "publish-event":
		return map[string]any{"type": "invoice.paid", "payload": map[string]int{"n": n}}
	case "publish-events":
		return map[string]any{"events": []map[string]any{{"type": "invoice.paid", "payload": map[string]int{"n": n}}}}
	case "create-vendor-call":
		return map[string]any{"connection_id": "con_none", "method": "GET", "path": "/items"}
	case "retry-deliveries":
		return map[string]any{"status": []string{"dead_letter"}}
	case "create-mapping":
		return map[string]any{"connection_id": "con_none", "external_id": fmt.Sprintf("ext-%d", n), "internal_type": "contact", "internal_id": fmt.Sprint(n)}
	case "create-inbound-url":
		return map[string]any{"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
	case "replay-inbound":
		return nil
	case "proxy-post":
		return map[string]any{"name": fmt.Sprintf("matrix %d", n)}
	case "put-settings":
		return map[string]any{"delivery_retention_days": 14, "retry_schedule": []string{"30s", "2m"}, "max_attempts": 4}
	case "start-sync":
		return map[string]any{"connection_id": "con_none", "entity_type": "contacts"}
	case "put-sync-items":
		return map[string]any{"items": []map[string]any{{"seq": 100 + n, "external_id": fmt.Sprintf("ext-%d", n), "cursor": fmt.Sprint(n), "status": "succeeded"}}}
	case "add-sync-ops":
		return map[string]any{"ops": []map[string]any{{"message": fmt.Sprintf("step %d", n), "data": map[string]int{"n": n}}}}
	case "complete-sync", "fail-sync":
		return map[string]any{"error": "matrix"}
	case "put-sync-schedule":
		return map[string]any{"entity_type": "contacts", "interval": "1h", "enabled": true}
	case "pull-sync":
		return map[string]any{"entity_type": "records"}
	case "rotate-endpoint-secret":
		return map[string]any{"grace_seconds": 60}
	case "test-connection", "pause-connection", "resume-connection", "refresh-connection",
		"enable-endpoint", "test-endpoint", "retry-delivery":
		return nil // actions without a body
	}
	if rt.Method == http.MethodPost || rt.Method == http.MethodPut || rt.Method == http.MethodPatch {
		t.Fatalf("route %s (%s %s) has no sample body: add one to sampleBody", rt.ID, rt.Method, rt.Path)
	}
	return nil
}

// targets creates, in an org, one row of each kind a route can address.
type targets struct {
	apiKey, user, role, connection, endpoint, event, delivery, mapping, inbound, request, syncRun string
}

func (f *fixture) newTargets(orgID string, n int) targets {
	_, k := f.newKey(orgID, patchbay.RoleViewer, nil, 0)
	u := f.newUser(orgID, fmt.Sprintf("target%d@example.com", n), patchbay.RoleViewer)
	r := f.newRole(orgID, fmt.Sprintf("Target role %d", n), patchbay.CapConnectionsRead)
	c := f.newConnection(orgID, n)
	ctx := patchbay.WithPrincipal(context.Background(), &patchbay.Principal{OrgID: orgID, ActorType: patchbay.ActorSystem,
		ActorID: "fixture", Capabilities: patchbay.NewCapabilitySet(patchbay.AllCapabilities...)})
	url := "https://receiver.example/hooks"
	e, _, err := f.deliveries.CreateEndpoint(ctx, delivery.EndpointInput{URL: &url})
	if err != nil {
		f.t.Fatal(err)
	}
	pub, err := f.deliveries.Publish(ctx, []delivery.EventInput{{Type: "invoice.paid", Payload: []byte(`{}`)}})
	if err != nil {
		f.t.Fatal(err)
	}
	ds, _, err := f.store.ListDeliveries(ctx, orgID, patchbay.DeliveryFilter{EndpointID: e.ID})
	if err != nil || len(ds) == 0 {
		f.t.Fatalf("fixture delivery: %v", err)
	}
	m := &patchbay.Mapping{OrgID: orgID, ConnectionID: c.ID, ExternalID: fmt.Sprintf("ext-%d", n), InternalType: "contact", InternalID: "1"}
	if err := f.store.CreateMapping(ctx, m); err != nil {
		f.t.Fatal(err)
	}
	w := &patchbay.InboundWebhook{OrgID: orgID, ConnectionID: c.ID, Provider: fakevendor.Slug, EventType: "item.created",
		Verified: true, Status: patchbay.InboundProcessed, Payload: []byte(`{"id":1}`)}
	if err := f.store.CreateInbound(ctx, w); err != nil {
		f.t.Fatal(err)
	}
	req := &patchbay.APIRequest{OrgID: orgID, ConnectionID: c.ID, Connector: fakevendor.Slug, Source: patchbay.SourceProxy,
		Method: "GET", Path: "/items", StatusCode: 200}
	if err := f.store.CreateRequest(ctx, req); err != nil {
		f.t.Fatal(err)
	}
	run := &patchbay.SyncRun{OrgID: orgID, ConnectionID: c.ID, EntityType: "contacts"}
	if err := f.store.CreateSyncRun(ctx, run); err != nil {
		f.t.Fatal(err)
	}
	if err := f.store.AddSyncOps(ctx, orgID, run.ID, []*patchbay.SyncOp{{Message: "target"}}); err != nil {
		f.t.Fatal(err)
	}
	return targets{apiKey: k.ID, user: u.ID, role: r.ID, connection: c.ID, endpoint: e.ID, event: pub[0].Event.ID,
		delivery: ds[0].ID, mapping: m.ID, inbound: w.ID, request: req.ID, syncRun: run.ID}
}

// ownsRow reports whether a route addresses one of an org's rows by id (as
// opposed to the shared catalog, addressed by slug).
func ownsRow(rt httpapi.Route) bool { return strings.Contains(rt.Path, "{id}") }

// path fills a route's {id} with the target row of the route's resource.
func (tg targets) path(t *testing.T, rt httpapi.Route) string {
	if strings.Contains(rt.Path, "{slug}") {
		return strings.Replace(rt.Path, "{slug}", fakevendor.Slug, 1)
	}
	if !ownsRow(rt) {
		return rt.Path
	}
	var id string
	switch {
	case strings.HasPrefix(rt.Path, "/v1/api-keys/"):
		id = tg.apiKey
	case strings.HasPrefix(rt.Path, "/v1/users/"):
		id = tg.user
	case strings.HasPrefix(rt.Path, "/v1/roles/"):
		id = tg.role
	case strings.HasPrefix(rt.Path, "/v1/connections/"):
		id = tg.connection
	case strings.HasPrefix(rt.Path, "/v1/endpoints/"):
		id = tg.endpoint
	case strings.HasPrefix(rt.Path, "/v1/events/"):
		id = tg.event
	case strings.HasPrefix(rt.Path, "/v1/deliveries/"):
		id = tg.delivery
	case strings.HasPrefix(rt.Path, "/v1/mappings/"):
		id = tg.mapping
	case strings.HasPrefix(rt.Path, "/v1/inbound/"):
		id = tg.inbound
	case strings.HasPrefix(rt.Path, "/v1/requests/"):
		id = tg.request
	case strings.HasPrefix(rt.Path, "/v1/syncs/"):
		id = tg.syncRun
	default:
		t.Fatalf("route %s: no target row for %s; add one to targets", rt.ID, rt.Path)
	}
	return strings.Replace(strings.Replace(rt.Path, "{id}", id, 1), "{path}", "echo/matrix", 1)
}

// TestRouteRoleMatrix walks the real route table and calls every route as
// every role: a role holding the route's capabilities is let through (not
// 401 or 403, and no server error: some answers are 4xx by state, such as
// resuming a connection that is not paused), any other gets 403 with the
// JSON error body.
func TestRouteRoleMatrix(t *testing.T) {
	f := newFixture(t)
	a := f.newOrg("Org A", "admin@a.example")
	ops := f.newRole(a.Org.ID, "Ops", patchbay.CapAPIKeysManage, patchbay.CapUsersManage, patchbay.CapActivityRead,
		patchbay.CapConnectionsRead, patchbay.CapConnectorsRead, patchbay.CapDeliveriesRead)
	nothing := f.newRole(a.Org.ID, "Nothing")
	f.vendor.AddAPIKey("matrix-key")

	type principal struct {
		name string
		key  string
		caps patchbay.CapabilitySet
	}
	var principals []principal
	for _, r := range append(patchbay.BuiltinRoles(), ops, nothing) {
		key, _ := f.newKey(a.Org.ID, r.ID, nil, 0)
		principals = append(principals, principal{r.Name, key, patchbay.NewCapabilitySet(r.Capabilities...)})
	}
	// A key whose scopes narrow the Administrator to reading activity.
	scoped, _ := f.newKey(a.Org.ID, patchbay.RoleAdministrator, []patchbay.Capability{patchbay.CapActivityRead}, 0)
	principals = append(principals, principal{"ScopedAdmin", scoped, patchbay.NewCapabilitySet(patchbay.CapActivityRead)})

	routes := f.srv.Routes()
	if len(routes) == 0 {
		t.Fatal("empty route table")
	}
	n := 0
	for _, rt := range routes {
		// Fresh rows per route. Capabilities are checked before any row is
		// looked up, so principals share them: once one deletes a row,
		// the next allowed one gets 404, which is still "let through".
		tg := f.newTargets(a.Org.ID, n)
		for _, p := range principals {
			n++
			t.Run(rt.ID+"/"+p.name, func(t *testing.T) {
				w := f.do(rt.Method, tg.path(t, rt), p.key, sampleBody(t, rt, n))
				if p.caps.Has(rt.Needs...) {
					if w.Code == http.StatusForbidden || w.Code == http.StatusUnauthorized || w.Code >= 500 {
						t.Errorf("allowed: status %d; body %s", w.Code, w.Body)
					}
				} else if w.Code != http.StatusForbidden || errorCode(t, w) != patchbay.EFORBIDDEN {
					t.Errorf("denied: status %d, want 403 forbidden; body %s", w.Code, w.Body)
				}
			})
		}
	}
}

// TestRoutesNeedAKey checks that no /v1 route answers without a valid key.
func TestRoutesNeedAKey(t *testing.T) {
	f := newFixture(t)
	a := f.newOrg("Org A", "admin@a.example")
	tg := f.newTargets(a.Org.ID, 0)
	revokedSecret, revoked := f.newKey(a.Org.ID, patchbay.RoleAdministrator, nil, 0)
	if _, err := f.store.RevokeAPIKey(context.Background(), a.Org.ID, revoked.ID, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	for _, rt := range f.srv.Routes() {
		for name, key := range map[string]string{
			"none": "", "garbage": "nonsense", "unknown": "pb_000000000000_0000000000000000",
			"tampered": a.APIKey[:len(a.APIKey)-2] + "zz", "revoked": revokedSecret,
		} {
			w := f.do(rt.Method, tg.path(t, rt), key, sampleBody(t, rt, 0))
			if w.Code != http.StatusUnauthorized || errorCode(t, w) != patchbay.EUNAUTHORIZED {
				t.Errorf("%s with %s key: status %d, want 401; body %s", rt.ID, name, w.Code, w.Body)
			}
		}
	}
}

// TestOrgIsolationMatrix calls every route as another org's Administrator,
// aimed at the first org's rows: nothing of the first org is seen, and
// nothing of it changes.
func TestOrgIsolationMatrix(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.newOrg("Org A", "admin@a.example")
	b := f.newOrg("Org B", "admin@b.example")
	tg := f.newTargets(a.Org.ID, 1)
	f.must(http.StatusCreated, "POST", "/v1/api-keys", a.APIKey, map[string]any{"name": "made by A"}, nil)

	snapshot := func() string {
		users, _, err1 := f.store.ListUsers(ctx, a.Org.ID, patchbay.UserFilter{Page: patchbay.Page{Limit: 200}})
		keys, _, err2 := f.store.ListAPIKeys(ctx, a.Org.ID, patchbay.APIKeyFilter{IncludeRevoked: true, Page: patchbay.Page{Limit: 200}})
		roles, err3 := f.store.ListRoles(ctx, a.Org.ID)
		acts, _, err4 := f.store.ListActivity(ctx, a.Org.ID, patchbay.ActivityFilter{Page: patchbay.Page{Limit: 200}})
		conns, _, err5 := f.store.ListConnections(ctx, a.Org.ID, patchbay.ConnectionFilter{IncludeDisconnected: true, Page: patchbay.Page{Limit: 200}})
		clients, err6 := f.store.ListOAuthClients(ctx, a.Org.ID)
		runs, _, err7 := f.store.ListSyncRuns(ctx, a.Org.ID, patchbay.SyncRunFilter{Page: patchbay.Page{Limit: 200}})
		for _, err := range []error{err1, err2, err3, err4, err5, err6, err7} {
			if err != nil {
				t.Fatal(err)
			}
		}
		b, _ := json.Marshal([]any{users, keys, roles, acts, conns, clients, runs})
		return string(b)
	}
	before := snapshot()
	// Every identifier of org A that must never reach org B.
	secretsOfA := []string{a.Org.ID, a.Admin.ID, a.Admin.Email, a.Key.ID, a.Key.Prefix, tg.apiKey, tg.user, tg.role, tg.connection,
		tg.endpoint, tg.event, tg.delivery, tg.mapping, tg.inbound, tg.request, tg.syncRun}

	for i, rt := range f.srv.Routes() {
		t.Run(rt.ID, func(t *testing.T) {
			w := f.do(rt.Method, tg.path(t, rt), b.APIKey, sampleBody(t, rt, 1000+i))
			if ownsRow(rt) {
				if w.Code != http.StatusNotFound || errorCode(t, w) != patchbay.ENOTFOUND {
					t.Errorf("status %d, want 404 not_found; body %s", w.Code, w.Body)
				}
			} else if w.Code >= 500 || w.Code == http.StatusForbidden {
				t.Errorf("status %d in org B; body %s", w.Code, w.Body)
			}
			for _, s := range secretsOfA {
				if strings.Contains(w.Body.String(), s) {
					t.Errorf("answer to org B holds org A's %q: %s", s, w.Body)
				}
			}
		})
	}
	if after := snapshot(); after != before {
		t.Errorf("org A's rows changed through org B's calls:\nbefore %s\nafter  %s", before, after)
	}
}
