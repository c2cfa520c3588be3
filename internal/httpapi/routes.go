package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/patchbay/patchbay"
)

// Route is one /v1 operation: its method and path, the capabilities a
// caller must hold, and its handler. The route table below is the only
// place routes are declared; the OpenAPI document and the role × route ×
// org matrix test both walk it.
type Route struct {
	Method  string
	Path    string
	ID      string // OpenAPI operationId
	Summary string
	Tag     string
	// Needs lists the capabilities the caller must hold; empty means any
	// authenticated caller.
	Needs []patchbay.Capability
	// Status is the success status; 200 when zero.
	Status int
	// BodyLimit bounds the request body in bytes; 64 KiB when zero.
	BodyLimit int64
	// DecodeOnly skips huma's check of the body against its schema, which
	// decodes the whole body a second time, into maps: for a route whose
	// service validates every field itself. The body is still decoded
	// strictly (strictJSON), so unknown fields and wrong types are refused.
	DecodeOnly bool

	register func(huma.API, huma.Operation)
}

// needsKey is the huma operation metadata key holding a Route's Needs.
const needsKey = "patchbay.needs"

func (rt Route) operation() huma.Operation {
	limit := rt.BodyLimit
	if limit == 0 {
		limit = 64 << 10
	}
	return huma.Operation{
		OperationID:      rt.ID,
		Method:           rt.Method,
		Path:             rt.Path,
		Summary:          rt.Summary,
		Tags:             []string{rt.Tag},
		DefaultStatus:    rt.Status,
		MaxBodyBytes:     limit,
		Metadata:         map[string]any{needsKey: rt.Needs},
		SkipValidateBody: rt.DecodeOnly,
		Errors:           []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests},
	}
}

// handle adapts a handler to huma: errors from services become JSON error
// responses (internal ones logged, never shown).
func handle[I, O any](h func(context.Context, *I) (*O, error)) func(huma.API, huma.Operation) {
	return func(api huma.API, op huma.Operation) {
		huma.Register(api, op, func(ctx context.Context, in *I) (*O, error) {
			out, err := h(ctx, in)
			if err != nil {
				return nil, toAPIError(ctx, err)
			}
			return out, nil
		})
	}
}

func needs(caps ...patchbay.Capability) []patchbay.Capability { return caps }

// routeTable declares every /v1 route.
func (s *Server) routeTable() []Route {
	const (
		get, post, patch, put, del = http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete
	)
	return []Route{
		{Method: get, Path: "/v1/me", ID: "get-me", Summary: "Describe the caller", Tag: "Platform",
			register: handle(s.getMe)},

		{Method: get, Path: "/v1/api-keys", ID: "list-api-keys", Summary: "List API keys", Tag: "API keys",
			Needs: needs(patchbay.CapAPIKeysManage), register: handle(s.listAPIKeys)},
		{Method: post, Path: "/v1/api-keys", ID: "create-api-key", Summary: "Create an API key (the secret is shown once)", Tag: "API keys",
			Needs: needs(patchbay.CapAPIKeysManage), Status: http.StatusCreated, register: handle(s.createAPIKey)},
		{Method: get, Path: "/v1/api-keys/{id}", ID: "get-api-key", Summary: "Get an API key", Tag: "API keys",
			Needs: needs(patchbay.CapAPIKeysManage), register: handle(s.getAPIKey)},
		{Method: del, Path: "/v1/api-keys/{id}", ID: "revoke-api-key", Summary: "Revoke an API key, at once", Tag: "API keys",
			Needs: needs(patchbay.CapAPIKeysManage, patchbay.CapDelete), register: handle(s.revokeAPIKey)},

		{Method: get, Path: "/v1/users", ID: "list-users", Summary: "List users", Tag: "Users",
			Needs: needs(patchbay.CapUsersManage), register: handle(s.listUsers)},
		{Method: post, Path: "/v1/users", ID: "create-user", Summary: "Create a user", Tag: "Users",
			Needs: needs(patchbay.CapUsersManage), Status: http.StatusCreated, register: handle(s.createUser)},
		{Method: get, Path: "/v1/users/{id}", ID: "get-user", Summary: "Get a user", Tag: "Users",
			Needs: needs(patchbay.CapUsersManage), register: handle(s.getUser)},
		{Method: patch, Path: "/v1/users/{id}", ID: "update-user", Summary: "Change a user's name or role", Tag: "Users",
			Needs: needs(patchbay.CapUsersManage), register: handle(s.updateUser)},
		{Method: del, Path: "/v1/users/{id}", ID: "delete-user", Summary: "Delete a user", Tag: "Users",
			Needs: needs(patchbay.CapUsersManage, patchbay.CapDelete), Status: http.StatusNoContent, register: handle(s.deleteUser)},

		{Method: get, Path: "/v1/roles", ID: "list-roles", Summary: "List roles, built-in and custom", Tag: "Roles",
			register: handle(s.listRoles)},
		{Method: post, Path: "/v1/roles", ID: "create-role", Summary: "Create a custom role", Tag: "Roles",
			Needs: needs(patchbay.CapRolesManage), Status: http.StatusCreated, register: handle(s.createRole)},
		{Method: get, Path: "/v1/roles/{id}", ID: "get-role", Summary: "Get a role", Tag: "Roles",
			register: handle(s.getRole)},
		{Method: put, Path: "/v1/roles/{id}", ID: "update-role", Summary: "Replace a custom role", Tag: "Roles",
			Needs: needs(patchbay.CapRolesManage), register: handle(s.updateRole)},
		{Method: del, Path: "/v1/roles/{id}", ID: "delete-role", Summary: "Delete a custom role no one holds", Tag: "Roles",
			Needs: needs(patchbay.CapRolesManage, patchbay.CapDelete), Status: http.StatusNoContent, register: handle(s.deleteRole)},

		{Method: get, Path: "/v1/connectors", ID: "list-connectors", Summary: "Browse the connector library", Tag: "Connectors",
			Needs: needs(patchbay.CapConnectorsRead), register: handle(s.listConnectors)},
		{Method: get, Path: "/v1/connectors/{slug}", ID: "get-connector", Summary: "Get a connector", Tag: "Connectors",
			Needs: needs(patchbay.CapConnectorsRead), register: handle(s.getConnector)},

		{Method: get, Path: "/v1/connections", ID: "list-connections", Summary: "List connections", Tag: "Connections",
			Needs: needs(patchbay.CapConnectionsRead), register: handle(s.listConnections)},
		{Method: get, Path: "/v1/connections/usable", ID: "usable-connections", Summary: "Connections a picker may offer: active, healthy, holding the scopes", Tag: "Connections",
			Needs: needs(patchbay.CapConnectionsRead), register: handle(s.usableConnections)},
		{Method: post, Path: "/v1/connections", ID: "create-connection", Summary: "Connect with an API key, basic credentials, client credentials or a signed token", Tag: "Connections",
			Needs: needs(patchbay.CapConnectionsCreate), Status: http.StatusCreated, register: handle(s.createConnection)},
		{Method: post, Path: "/v1/connections/authorize", ID: "authorize-connection", Summary: "Start an OAuth connection: returns the vendor URL", Tag: "Connections",
			Needs: needs(patchbay.CapConnectionsCreate), register: handle(s.authorizeConnection)},
		{Method: get, Path: "/v1/connections/{id}", ID: "get-connection", Summary: "Get a connection", Tag: "Connections",
			Needs: needs(patchbay.CapConnectionsRead), register: handle(s.getConnection)},
		{Method: post, Path: "/v1/connections/{id}/test", ID: "test-connection", Summary: "Test a connection (changes nothing at the vendor)", Tag: "Connections",
			Needs: needs(patchbay.CapConnectionsTest), register: handle(s.testConnection)},
		{Method: post, Path: "/v1/connections/{id}/pause", ID: "pause-connection", Summary: "Pause a connection", Tag: "Connections",
			Needs: needs(patchbay.CapConnectionsPause), register: handle(s.pauseConnection)},
		{Method: post, Path: "/v1/connections/{id}/resume", ID: "resume-connection", Summary: "Test and resume a paused connection", Tag: "Connections",
			Needs: needs(patchbay.CapConnectionsPause), register: handle(s.resumeConnection)},
		{Method: post, Path: "/v1/connections/{id}/refresh", ID: "refresh-connection", Summary: "Refresh a connection's credential now", Tag: "Connections",
			Needs: needs(patchbay.CapConnectionsRefresh), register: handle(s.refreshConnection)},
		{Method: post, Path: "/v1/connections/{id}/scopes", ID: "edit-connection-scopes", Summary: "Change scopes: returns the vendor URL to re-authorize", Tag: "Connections",
			Needs: needs(patchbay.CapConnectionsScopes), register: handle(s.editScopes)},
		{Method: del, Path: "/v1/connections/{id}", ID: "disconnect-connection", Summary: "Disconnect: revoke at the vendor and remove the credential", Tag: "Connections",
			Needs: needs(patchbay.CapConnectionsDisconnect, patchbay.CapDelete), register: handle(s.disconnectConnection)},

		{Method: get, Path: "/v1/oauth-clients", ID: "list-oauth-clients", Summary: "List the org's OAuth client registrations", Tag: "Settings",
			Needs: needs(patchbay.CapSettingsManage), register: handle(s.listOAuthClients)},
		{Method: put, Path: "/v1/oauth-clients/{slug}", ID: "set-oauth-client", Summary: "Set the org's OAuth client for a connector", Tag: "Settings",
			Needs: needs(patchbay.CapSettingsManage), register: handle(s.setOAuthClient)},
		{Method: del, Path: "/v1/oauth-clients/{slug}", ID: "delete-oauth-client", Summary: "Delete the org's OAuth client for a connector", Tag: "Settings",
			Needs: needs(patchbay.CapSettingsManage, patchbay.CapDelete), Status: http.StatusNoContent, register: handle(s.deleteOAuthClient)},

		{Method: get, Path: "/v1/reports/connections", ID: "report-connections", Summary: "Active connections and token expiry", Tag: "Reports",
			Needs: needs(patchbay.CapConnectionsRead), register: handle(s.connectionsReport)},

		{Method: get, Path: "/v1/endpoints", ID: "list-endpoints", Summary: "List webhook endpoints", Tag: "Endpoints",
			Needs: needs(patchbay.CapEndpointsManage), register: handle(s.listEndpoints)},
		{Method: post, Path: "/v1/endpoints", ID: "create-endpoint", Summary: "Create a webhook endpoint (its secret is shown once)", Tag: "Endpoints",
			Needs: needs(patchbay.CapEndpointsManage), Status: http.StatusCreated, register: handle(s.createEndpoint)},
		{Method: get, Path: "/v1/endpoints/{id}", ID: "get-endpoint", Summary: "Get a webhook endpoint", Tag: "Endpoints",
			Needs: needs(patchbay.CapEndpointsManage), register: handle(s.getEndpoint)},
		{Method: patch, Path: "/v1/endpoints/{id}", ID: "update-endpoint", Summary: "Change a webhook endpoint; inactive endpoints hold their deliveries", Tag: "Endpoints",
			Needs: needs(patchbay.CapEndpointsManage), register: handle(s.updateEndpoint)},
		{Method: del, Path: "/v1/endpoints/{id}", ID: "delete-endpoint", Summary: "Delete a webhook endpoint (its deliveries stay in the log)", Tag: "Endpoints",
			Needs: needs(patchbay.CapEndpointsManage, patchbay.CapDelete), Status: http.StatusNoContent, register: handle(s.deleteEndpoint)},
		{Method: post, Path: "/v1/endpoints/{id}/rotate-secret", ID: "rotate-endpoint-secret", Summary: "Rotate the signing secret; the old one signs too during a grace period", Tag: "Endpoints",
			Needs: needs(patchbay.CapEndpointsManage), register: handle(s.rotateEndpointSecret)},
		{Method: post, Path: "/v1/endpoints/{id}/enable", ID: "enable-endpoint", Summary: "Re-enable an endpoint the circuit breaker disabled", Tag: "Endpoints",
			Needs: needs(patchbay.CapEndpointsManage), register: handle(s.enableEndpoint)},
		{Method: post, Path: "/v1/endpoints/{id}/test", ID: "test-endpoint", Summary: "Send a patchbay.test event to the endpoint", Tag: "Endpoints",
			Needs: needs(patchbay.CapEndpointsManage), Status: http.StatusAccepted, register: handle(s.testEndpoint)},

		{Method: post, Path: "/v1/events", ID: "publish-event", Summary: "Publish an event: stored with its deliveries before the answer", Tag: "Events",
			Needs: needs(patchbay.CapEventsPublish), Status: http.StatusAccepted, BodyLimit: 512 << 10, register: handle(s.publishEvent)},
		{Method: post, Path: "/v1/events/batch", ID: "publish-events", Summary: "Publish up to 500 events in one transaction", Tag: "Events",
			Needs: needs(patchbay.CapEventsPublish), Status: http.StatusAccepted, BodyLimit: 8 << 20, DecodeOnly: true,
			register: handle(s.publishBatch)},
		{Method: get, Path: "/v1/events/{id}", ID: "get-event", Summary: "Get an event", Tag: "Events",
			Needs: needs(patchbay.CapDeliveriesRead), register: handle(s.getEvent)},

		{Method: get, Path: "/v1/deliveries", ID: "list-deliveries", Summary: "Search the delivery log", Tag: "Deliveries",
			Needs: needs(patchbay.CapDeliveriesRead), register: handle(s.listDeliveries)},
		{Method: post, Path: "/v1/deliveries", ID: "create-vendor-call", Summary: "Queue a vendor API call over a connection, with retries", Tag: "Deliveries",
			Needs: needs(patchbay.CapEventsPublish), Status: http.StatusAccepted, BodyLimit: 512 << 10, register: handle(s.createVendorCall)},
		{Method: get, Path: "/v1/deliveries/{id}", ID: "get-delivery", Summary: "Get a delivery with its attempts", Tag: "Deliveries",
			Needs: needs(patchbay.CapDeliveriesRead), register: handle(s.getDelivery)},
		{Method: post, Path: "/v1/deliveries/{id}/retry", ID: "retry-delivery", Summary: "Retry a delivery now, with fresh attempts", Tag: "Deliveries",
			Needs: needs(patchbay.CapDeliveriesRetry), register: handle(s.retryDelivery)},
		{Method: post, Path: "/v1/deliveries/retry", ID: "retry-deliveries", Summary: "Retry deliveries by id or by filter", Tag: "Deliveries",
			Needs: needs(patchbay.CapDeliveriesRetry), register: handle(s.retryDeliveries)},

		{Method: get, Path: "/v1/settings", ID: "get-settings", Summary: "Get the org's settings", Tag: "Settings",
			Needs: needs(patchbay.CapSettingsManage), register: handle(s.getSettings)},
		{Method: put, Path: "/v1/settings", ID: "put-settings", Summary: "Set delivery retention and the retry policy", Tag: "Settings",
			Needs: needs(patchbay.CapSettingsManage), register: handle(s.putSettings)},
		{Method: get, Path: "/v1/reports/deliveries", ID: "report-deliveries", Summary: "Deliveries per endpoint over the last days (30 by default)", Tag: "Reports",
			Needs: needs(patchbay.CapDeliveriesRead), register: handle(s.deliveriesReport)},

		{Method: get, Path: "/v1/mappings", ID: "list-mappings", Summary: "List or look up external-id mappings, from either side", Tag: "Mappings",
			Needs: needs(patchbay.CapConnectionsRead), register: handle(s.listMappings)},
		{Method: post, Path: "/v1/mappings", ID: "create-mapping", Summary: "Map a vendor's id to the host platform's record", Tag: "Mappings",
			Needs: needs(patchbay.CapSyncWrite), Status: http.StatusCreated, register: handle(s.createMapping)},
		{Method: get, Path: "/v1/mappings/{id}", ID: "get-mapping", Summary: "Get a mapping", Tag: "Mappings",
			Needs: needs(patchbay.CapConnectionsRead), register: handle(s.getMapping)},
		{Method: del, Path: "/v1/mappings/{id}", ID: "delete-mapping", Summary: "Delete a mapping", Tag: "Mappings",
			Needs: needs(patchbay.CapSyncWrite, patchbay.CapDelete), Status: http.StatusNoContent, register: handle(s.deleteMapping)},

		{Method: post, Path: "/v1/connections/{id}/inbound", ID: "create-inbound-url", Summary: "Give a connection a new inbound webhook URL (shown once)", Tag: "Inbound",
			Needs: needs(patchbay.CapConnectionsCreate), Status: http.StatusCreated, register: handle(s.createInboundURL)},
		{Method: get, Path: "/v1/inbound", ID: "list-inbound", Summary: "List received vendor webhooks", Tag: "Inbound",
			Needs: needs(patchbay.CapConnectionsRead), register: handle(s.listInbound)},
		{Method: get, Path: "/v1/inbound/{id}", ID: "get-inbound", Summary: "Get a received vendor webhook", Tag: "Inbound",
			Needs: needs(patchbay.CapConnectionsRead), register: handle(s.getInbound)},
		{Method: post, Path: "/v1/inbound/{id}/replay", ID: "replay-inbound", Summary: "Forward a verified vendor webhook again", Tag: "Inbound",
			Needs: needs(patchbay.CapDeliveriesRetry), register: handle(s.replayInbound)},

		{Method: get, Path: proxyPath, ID: "proxy-get", Summary: "Call the vendor's API through a connection (GET; HEAD alike)", Tag: "Proxy",
			Needs: needs(patchbay.CapConnectionsProxy), BodyLimit: proxyBodyLimit, register: s.registerProxy},
		{Method: post, Path: proxyPath, ID: "proxy-post", Summary: "Call the vendor's API through a connection (POST; PUT, PATCH, DELETE alike)", Tag: "Proxy",
			Needs: needs(patchbay.CapConnectionsProxy), BodyLimit: proxyBodyLimit, register: s.registerProxy},
		{Method: get, Path: "/v1/requests", ID: "list-requests", Summary: "Search the request log of vendor API calls", Tag: "Proxy",
			Needs: needs(patchbay.CapConnectionsRead), register: handle(s.listRequests)},
		{Method: get, Path: "/v1/requests/{id}", ID: "get-request", Summary: "Get one vendor API call of the request log", Tag: "Proxy",
			Needs: needs(patchbay.CapConnectionsRead), register: handle(s.getRequest)},
		{Method: get, Path: "/v1/syncs", ID: "list-syncs", Summary: "List sync runs", Tag: "Syncs",
			Needs: needs(patchbay.CapConnectionsRead), register: handle(s.listSyncs)},
		{Method: post, Path: "/v1/syncs", ID: "start-sync", Summary: "Record a sync run the host platform is starting", Tag: "Syncs",
			Needs: needs(patchbay.CapSyncWrite), Status: http.StatusCreated, register: handle(s.startSync)},
		{Method: get, Path: "/v1/syncs/{id}", ID: "get-sync", Summary: "Get a sync run", Tag: "Syncs",
			Needs: needs(patchbay.CapConnectionsRead), register: handle(s.getSync)},
		{Method: post, Path: "/v1/syncs/{id}/items", ID: "put-sync-items", Summary: "Create or update a run's items; the cursor moves past finished items only", Tag: "Syncs",
			Needs: needs(patchbay.CapSyncWrite), BodyLimit: 2 << 20, register: handle(s.putSyncItems)},
		{Method: get, Path: "/v1/syncs/{id}/items", ID: "list-sync-items", Summary: "List a run's items in seq order", Tag: "Syncs",
			Needs: needs(patchbay.CapConnectionsRead), register: handle(s.listSyncItems)},
		{Method: post, Path: "/v1/syncs/{id}/log", ID: "add-sync-ops", Summary: "Append to a run's operation log (a tree, by parent_id)", Tag: "Syncs",
			Needs: needs(patchbay.CapSyncWrite), BodyLimit: 2 << 20, register: handle(s.addSyncOps)},
		{Method: get, Path: "/v1/syncs/{id}/log", ID: "list-sync-ops", Summary: "List a run's operation log, oldest first, with parent ids", Tag: "Syncs",
			Needs: needs(patchbay.CapConnectionsRead), register: handle(s.listSyncOps)},
		{Method: post, Path: "/v1/syncs/{id}/complete", ID: "complete-sync", Summary: "Complete a sync run", Tag: "Syncs",
			Needs: needs(patchbay.CapSyncWrite), register: handle(s.finishSync(patchbay.SyncCompleted))},
		{Method: post, Path: "/v1/syncs/{id}/fail", ID: "fail-sync", Summary: "Fail a sync run with its error", Tag: "Syncs",
			Needs: needs(patchbay.CapSyncWrite), register: handle(s.finishSync(patchbay.SyncFailed))},
		{Method: get, Path: "/v1/connections/{id}/sync-schedules", ID: "list-sync-schedules", Summary: "List a connection's sync schedules", Tag: "Syncs",
			Needs: needs(patchbay.CapConnectionsRead), register: handle(s.listSyncSchedules)},
		{Method: put, Path: "/v1/connections/{id}/sync-schedules", ID: "put-sync-schedule", Summary: "Create or replace a connection's sync schedule for an entity type", Tag: "Syncs",
			Needs: needs(patchbay.CapSyncWrite), register: handle(s.putSyncSchedule)},
		{Method: post, Path: "/v1/connections/{id}/sync-pull", ID: "pull-sync", Summary: "Pull an entity type now through the connector's list endpoint", Tag: "Syncs",
			Needs: needs(patchbay.CapSyncWrite), register: handle(s.pullSync)},
		{Method: get, Path: "/v1/reports/syncs", ID: "report-syncs", Summary: "Sync history per connection", Tag: "Reports",
			Needs: needs(patchbay.CapConnectionsRead), register: handle(s.syncHistory)},
		{Method: get, Path: "/v1/reports/failed-syncs", ID: "report-failed-syncs", Summary: "Failed sync runs of the last days (7 by default)", Tag: "Reports",
			Needs: needs(patchbay.CapConnectionsRead), register: handle(s.failedSyncs)},

		{Method: get, Path: "/v1/activity", ID: "list-activity", Summary: "List the activity (audit) log", Tag: "Activity",
			Needs: needs(patchbay.CapActivityRead), register: handle(s.listActivity)},
	}
}
