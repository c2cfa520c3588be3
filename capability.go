package patchbay

import (
	"slices"
	"sort"
)

// Capability names one thing a role may do. Every /v1 route declares the
// capabilities it needs in the route table of internal/httpapi.
type Capability string

// The capabilities. The comments give the rows of DESIGN.md's capability
// table they come from.
const (
	// Everyone: list connections, browse the connector library and delivery log.
	CapConnectionsRead Capability = "connections:read"
	CapConnectorsRead  Capability = "connectors:read"
	CapDeliveriesRead  Capability = "deliveries:read"

	// Administrator and Editor: test, pause / resume, retry failed deliveries.
	CapConnectionsTest  Capability = "connections:test"
	CapConnectionsPause Capability = "connections:pause"
	CapDeliveriesRetry  Capability = "deliveries:retry"

	// Administrator: create, edit scopes, manual refresh, disconnect.
	CapConnectionsCreate     Capability = "connections:create"
	CapConnectionsScopes     Capability = "connections:scopes"
	CapConnectionsRefresh    Capability = "connections:refresh"
	CapConnectionsDisconnect Capability = "connections:disconnect"

	// Administrator: manage webhook endpoints, API keys, users and roles, settings.
	CapEndpointsManage Capability = "endpoints:manage"
	CapAPIKeysManage   Capability = "api_keys:manage"
	CapUsersManage     Capability = "users:manage"
	CapRolesManage     Capability = "roles:manage"
	CapSettingsManage  Capability = "settings:manage"

	// Administrator and Editor: read the activity log.
	CapActivityRead Capability = "activity:read"

	// Administrator (and custom roles for the host platform's keys): publish
	// events and queue vendor API calls.
	CapEventsPublish Capability = "events:publish"

	// Administrator (and custom roles for the host platform's keys): record
	// what syncs do, such as external-id mappings.
	CapSyncWrite Capability = "sync:write"

	// Administrator (and custom roles for the host platform's keys): call a
	// vendor's API through a connection (/v1/connections/{id}/proxy/...).
	CapConnectionsProxy Capability = "connections:proxy"

	// Administrator: the extra capability payment-family connectors need.
	CapManagePaymentCredentials Capability = "manage_payment_credentials"

	// Administrator only, never grantable to a custom role: deletes always
	// need the Administrator (DESIGN.md).
	CapDelete Capability = "delete"
)

// AllCapabilities lists every capability, in a stable order.
var AllCapabilities = []Capability{
	CapConnectionsRead, CapConnectorsRead, CapDeliveriesRead,
	CapConnectionsTest, CapConnectionsPause, CapDeliveriesRetry,
	CapConnectionsCreate, CapConnectionsScopes, CapConnectionsRefresh, CapConnectionsDisconnect,
	CapEndpointsManage, CapAPIKeysManage, CapUsersManage, CapRolesManage, CapSettingsManage,
	CapActivityRead, CapEventsPublish, CapSyncWrite, CapConnectionsProxy, CapManagePaymentCredentials, CapDelete,
}

// Valid reports whether c is a known capability.
func (c Capability) Valid() bool { return slices.Contains(AllCapabilities, c) }

// Identifiers of the three built-in roles. Built-in roles live in code, not
// in the database, so the capability map is defined in exactly one place.
const (
	RoleAdministrator = "administrator"
	RoleEditor        = "editor"
	RoleViewer        = "viewer"
)

var viewerCaps = []Capability{CapConnectionsRead, CapConnectorsRead, CapDeliveriesRead}

var editorCaps = append(slices.Clone(viewerCaps),
	CapConnectionsTest, CapConnectionsPause, CapDeliveriesRetry, CapActivityRead)

// BuiltinRoles returns the default roles with DESIGN.md's capability map.
func BuiltinRoles() []*Role {
	return []*Role{
		{ID: RoleAdministrator, Name: "Administrator", Builtin: true,
			Description:  "Everything, including deletes and payment credentials.",
			Capabilities: slices.Clone(AllCapabilities)},
		{ID: RoleEditor, Name: "Editor", Builtin: true,
			Description:  "Operates connections and deliveries; reads the activity log.",
			Capabilities: slices.Clone(editorCaps)},
		{ID: RoleViewer, Name: "Viewer", Builtin: true,
			Description:  "Reads connections, the connector library and the delivery log.",
			Capabilities: slices.Clone(viewerCaps)},
	}
}

// BuiltinRole returns the built-in role with the given id, or nil.
func BuiltinRole(id string) *Role {
	for _, r := range BuiltinRoles() {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// CapabilitySet is a set of capabilities.
type CapabilitySet map[Capability]bool

// NewCapabilitySet returns a set holding caps.
func NewCapabilitySet(caps ...Capability) CapabilitySet {
	s := make(CapabilitySet, len(caps))
	for _, c := range caps {
		s[c] = true
	}
	return s
}

// Has reports whether every one of caps is in the set.
func (s CapabilitySet) Has(caps ...Capability) bool {
	for _, c := range caps {
		if !s[c] {
			return false
		}
	}
	return true
}

// Intersect returns the capabilities in both s and caps.
func (s CapabilitySet) Intersect(caps []Capability) CapabilitySet {
	out := CapabilitySet{}
	for _, c := range caps {
		if s[c] {
			out[c] = true
		}
	}
	return out
}

// List returns the set's capabilities sorted by name.
func (s CapabilitySet) List() []Capability {
	out := make([]Capability, 0, len(s))
	for c := range s {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// CapabilityNames returns caps as strings, in their order.
func CapabilityNames(caps []Capability) []string {
	out := make([]string, len(caps))
	for i, c := range caps {
		out[i] = string(c)
	}
	return out
}
