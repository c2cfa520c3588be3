package httpapi_test

import (
	"slices"
	"testing"

	"github.com/patchbay/patchbay"
)

// TestRouteNeeds pins what each route requires to DESIGN.md's capability
// table, so loosening a route fails here even though the matrix test (which
// reads Needs from the table) would still pass.
func TestRouteNeeds(t *testing.T) {
	const (
		keys, users, roles = patchbay.CapAPIKeysManage, patchbay.CapUsersManage, patchbay.CapRolesManage
		del, activity      = patchbay.CapDelete, patchbay.CapActivityRead
	)
	want := map[string][]patchbay.Capability{
		"get-me":         nil,
		"list-api-keys":  {keys},
		"create-api-key": {keys},
		"get-api-key":    {keys},
		"revoke-api-key": {keys, del},
		"list-users":     {users},
		"create-user":    {users},
		"get-user":       {users},
		"update-user":    {users},
		"delete-user":    {users, del},
		"list-roles":     nil,
		"get-role":       nil,
		"create-role":    {roles},
		"update-role":    {roles},
		"delete-role":    {roles, del},
		"list-activity":  {activity},

		"list-connectors":        {patchbay.CapConnectorsRead},
		"get-connector":          {patchbay.CapConnectorsRead},
		"list-connections":       {patchbay.CapConnectionsRead},
		"usable-connections":     {patchbay.CapConnectionsRead},
		"get-connection":         {patchbay.CapConnectionsRead},
		"create-connection":      {patchbay.CapConnectionsCreate},
		"authorize-connection":   {patchbay.CapConnectionsCreate},
		"test-connection":        {patchbay.CapConnectionsTest},
		"pause-connection":       {patchbay.CapConnectionsPause},
		"resume-connection":      {patchbay.CapConnectionsPause},
		"refresh-connection":     {patchbay.CapConnectionsRefresh},
		"edit-connection-scopes": {patchbay.CapConnectionsScopes},
		"disconnect-connection":  {patchbay.CapConnectionsDisconnect, del},
		"list-oauth-clients":     {patchbay.CapSettingsManage},
		"set-oauth-client":       {patchbay.CapSettingsManage},
		"delete-oauth-client":    {patchbay.CapSettingsManage, del},
		"report-connections":     {patchbay.CapConnectionsRead},

		"list-endpoints":         {patchbay.CapEndpointsManage},
		"create-endpoint":        {patchbay.CapEndpointsManage},
		"get-endpoint":           {patchbay.CapEndpointsManage},
		"update-endpoint":        {patchbay.CapEndpointsManage},
		"delete-endpoint":        {patchbay.CapEndpointsManage, del},
		"rotate-endpoint-secret": {patchbay.CapEndpointsManage},
		"enable-endpoint":        {patchbay.CapEndpointsManage},
		"test-endpoint":          {patchbay.CapEndpointsManage},
		"publish-event":          {patchbay.CapEventsPublish},
		"publish-events":         {patchbay.CapEventsPublish},
		"get-event":              {patchbay.CapDeliveriesRead},
		"list-deliveries":        {patchbay.CapDeliveriesRead},
		"create-vendor-call":     {patchbay.CapEventsPublish},
		"get-delivery":           {patchbay.CapDeliveriesRead},
		"retry-delivery":         {patchbay.CapDeliveriesRetry},
		"retry-deliveries":       {patchbay.CapDeliveriesRetry},
		"get-settings":           {patchbay.CapSettingsManage},
		"put-settings":           {patchbay.CapSettingsManage},
		"report-deliveries":      {patchbay.CapDeliveriesRead},
		"list-mappings":          {patchbay.CapConnectionsRead},
		"create-mapping":         {patchbay.CapSyncWrite},
		"get-mapping":            {patchbay.CapConnectionsRead},
		"delete-mapping":         {patchbay.CapSyncWrite, del},
		"create-inbound-url":     {patchbay.CapConnectionsCreate},
		"list-inbound":           {patchbay.CapConnectionsRead},
		"get-inbound":            {patchbay.CapConnectionsRead},
		"replay-inbound":         {patchbay.CapDeliveriesRetry},
		"proxy-get":              {patchbay.CapConnectionsProxy},
		"proxy-post":             {patchbay.CapConnectionsProxy},
		"list-requests":          {patchbay.CapConnectionsRead},
		"get-request":            {patchbay.CapConnectionsRead},
		"list-syncs":             {patchbay.CapConnectionsRead},
		"start-sync":             {patchbay.CapSyncWrite},
		"get-sync":               {patchbay.CapConnectionsRead},
		"put-sync-items":         {patchbay.CapSyncWrite},
		"list-sync-items":        {patchbay.CapConnectionsRead},
		"add-sync-ops":           {patchbay.CapSyncWrite},
		"list-sync-ops":          {patchbay.CapConnectionsRead},
		"complete-sync":          {patchbay.CapSyncWrite},
		"fail-sync":              {patchbay.CapSyncWrite},
		"list-sync-schedules":    {patchbay.CapConnectionsRead},
		"put-sync-schedule":      {patchbay.CapSyncWrite},
		"pull-sync":              {patchbay.CapSyncWrite},
		"report-syncs":           {patchbay.CapConnectionsRead},
		"report-failed-syncs":    {patchbay.CapConnectionsRead},
	}
	f := newFixture(t)
	seen := map[string]bool{}
	for _, rt := range f.srv.Routes() {
		seen[rt.ID] = true
		w, ok := want[rt.ID]
		if !ok {
			t.Errorf("route %s (%s %s) is not pinned here: add it with the capabilities DESIGN.md gives it", rt.ID, rt.Method, rt.Path)
			continue
		}
		if !slices.Equal(rt.Needs, w) {
			t.Errorf("route %s needs %v, want %v", rt.ID, rt.Needs, w)
		}
		if rt.Method == "DELETE" && !slices.Contains(rt.Needs, del) {
			t.Errorf("route %s deletes without needing %q: deletes always need the Administrator", rt.ID, del)
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("pinned route %s is not in the route table", id)
		}
	}
}
