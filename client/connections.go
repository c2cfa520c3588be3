package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// ConnectorsQuery filters ListConnectors.
type ConnectorsQuery struct {
	Family   string
	AuthMode string
	Q        string
}

// ListConnectors browses the connector library.
func (c *Client) ListConnectors(ctx context.Context, q ConnectorsQuery) (*List[Connector], error) {
	v := url.Values{}
	setFilled(v, map[string]string{"family": q.Family, "auth_mode": q.AuthMode, "q": q.Q})
	var out List[Connector]
	return &out, c.Do(ctx, http.MethodGet, "/v1/connectors", v, nil, &out)
}

// ConnectionsQuery filters ListConnections.
type ConnectionsQuery struct {
	State               string
	Connector           string
	Family              string
	Q                   string
	IncludeDisconnected bool
	ListOptions
}

// ListConnections returns a page of the org's connections.
func (c *Client) ListConnections(ctx context.Context, q ConnectionsQuery) (*List[Connection], error) {
	v := q.values()
	setFilled(v, map[string]string{"state": q.State, "connector": q.Connector, "family": q.Family, "q": q.Q})
	if q.IncludeDisconnected {
		v.Set("include_disconnected", strconv.FormatBool(true))
	}
	var out List[Connection]
	return &out, c.Do(ctx, http.MethodGet, "/v1/connections", v, nil, &out)
}

// UsableConnections returns the connections a picker may offer: active,
// healthy, of a family or connector, holding every scope given.
func (c *Client) UsableConnections(ctx context.Context, family, connector string, scopes ...string) (*List[Connection], error) {
	v := url.Values{"scope": scopes}
	if family != "" {
		v.Set("family", family)
	}
	if connector != "" {
		v.Set("connector", connector)
	}
	var out List[Connection]
	return &out, c.Do(ctx, http.MethodGet, "/v1/connections/usable", v, nil, &out)
}

// GetConnection returns one connection.
func (c *Client) GetConnection(ctx context.Context, id string) (*Connection, error) {
	var out Connection
	return &out, c.Do(ctx, http.MethodGet, "/v1/connections/"+url.PathEscape(id), nil, nil, &out)
}

// CreateConnection connects with an API key, basic credentials, client
// credentials or a generated signed token; the vendor's test call runs
// first, and a failure stores nothing.
func (c *Client) CreateConnection(ctx context.Context, req CreateConnectionRequest) (*ConnectionResult, error) {
	var out ConnectionResult
	return &out, c.Do(ctx, http.MethodPost, "/v1/connections", nil, req, &out)
}

// AuthorizeConnection starts an OAuth connection; send the operator to the
// returned URL.
func (c *Client) AuthorizeConnection(ctx context.Context, req AuthorizeRequest) (*Authorization, error) {
	var out Authorization
	return &out, c.Do(ctx, http.MethodPost, "/v1/connections/authorize", nil, req, &out)
}

// EditConnectionScopes starts a re-authorization with a new scope set.
func (c *Client) EditConnectionScopes(ctx context.Context, id string, req ScopesRequest) (*Authorization, error) {
	var out Authorization
	return &out, c.Do(ctx, http.MethodPost, "/v1/connections/"+url.PathEscape(id)+"/scopes", nil, req, &out)
}

// ConnectionAction runs "test", "pause", "resume" or "refresh" on a
// connection.
func (c *Client) ConnectionAction(ctx context.Context, id, action string) (*ConnectionResult, error) {
	var out ConnectionResult
	return &out, c.Do(ctx, http.MethodPost, "/v1/connections/"+url.PathEscape(id)+"/"+url.PathEscape(action), nil, nil, &out)
}

// Disconnect revokes a connection's grant at the vendor and removes its
// credential.
func (c *Client) Disconnect(ctx context.Context, id string) (*ConnectionResult, error) {
	var out ConnectionResult
	return &out, c.Do(ctx, http.MethodDelete, "/v1/connections/"+url.PathEscape(id), nil, nil, &out)
}

// SetOAuthClient sets the org's OAuth client for a connector.
func (c *Client) SetOAuthClient(ctx context.Context, connector string, req OAuthClientRequest) (*OAuthClient, error) {
	var out OAuthClient
	return &out, c.Do(ctx, http.MethodPut, "/v1/oauth-clients/"+url.PathEscape(connector), nil, req, &out)
}

// ConnectionsReport counts the org's connections and credential expiries.
func (c *Client) ConnectionsReport(ctx context.Context) (*ConnectionsReport, error) {
	var out ConnectionsReport
	return &out, c.Do(ctx, http.MethodGet, "/v1/reports/connections", nil, nil, &out)
}
