package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
	"github.com/patchbay/patchbay/internal/connection"
	"github.com/patchbay/patchbay/internal/connector"
)

func connectorOut(c *patchbay.Connector) client.Connector {
	out := client.Connector{Slug: c.Slug, Name: c.Name, Family: c.Family, Description: c.Description, DocsURL: c.DocsURL,
		Payment: c.IsPayment()}
	for _, m := range c.AuthModes {
		out.AuthModes = append(out.AuthModes, string(m))
	}
	if c.OAuth != nil {
		out.PKCE, out.Revocable, out.DefaultScopes = c.OAuth.PKCE == "S256", c.OAuth.RevocationURL != "", c.OAuth.DefaultScopes
		for _, s := range c.OAuth.Scopes {
			out.Scopes = append(out.Scopes, client.ScopeInfo{Name: s.Name, Description: s.Description})
		}
	}
	for _, f := range c.Fields {
		out.Fields = append(out.Fields, client.FieldInfo{Name: f.Name, Label: f.Label, Secret: f.Secret, Required: f.Required,
			Pattern: f.Pattern, Placeholder: f.Placeholder, Help: f.Help})
	}
	if c.Webhooks != nil {
		out.Webhooks = c.Webhooks.Scheme
	}
	return out
}

func connectionOut(c *patchbay.Connection) client.Connection {
	return client.Connection{
		ID: c.ID, Connector: c.ConnectorSlug, DisplayName: c.DisplayName, State: string(c.State), AuthMode: string(c.AuthMode),
		VendorAccountID: c.VendorAccountID, VendorAccountName: c.VendorAccountName, Scopes: append([]string{}, c.Scopes...),
		Config: c.Config, ExpiresAt: utcPtr(c.ExpiresAt), LastTestAt: utcPtr(c.LastTestAt),
		LastTestOutcome: string(c.LastTestOutcome), LastTestDetail: c.LastTestDetail, Health: string(c.Health),
		ConsecutiveFailures: c.ConsecutiveFailures, LastDeliveryAt: utcPtr(c.LastDeliveryAt),
		OperatorOfRecord: c.OperatorOfRecord, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(),
		DisconnectedAt: utcPtr(c.DisconnectedAt),
	}
}

func testOut(r connection.TestResult) *client.TestResult {
	return &client.TestResult{Outcome: string(r.Outcome), AccountID: r.AccountID, AccountName: r.AccountName,
		MissingScopes: r.MissingScopes, VendorStatus: r.VendorStatus, Detail: r.Detail}
}

type listConnectorsInput struct {
	Family   string `query:"family" doc:"Only this family (google, email, payment, webhook, analytics, crm, …)."`
	AuthMode string `query:"auth_mode" doc:"Only connectors offering this auth mode."`
	Q        string `query:"q" maxLength:"200" doc:"Free text on slug, name and description."`
}

func (s *Server) listConnectors(ctx context.Context, in *listConnectorsInput) (*body[client.List[client.Connector]], error) {
	if in.Family != "" && !slices.Contains(patchbay.Families, in.Family) {
		return nil, patchbay.Errorf(patchbay.EINVALID, "Unknown family %q.", in.Family)
	}
	if in.AuthMode != "" && !slices.Contains(patchbay.AuthModes, patchbay.AuthMode(in.AuthMode)) {
		return nil, patchbay.Errorf(patchbay.EINVALID, "Unknown auth mode %q.", in.AuthMode)
	}
	list := s.catalog.List(connector.Filter{Family: in.Family, AuthMode: patchbay.AuthMode(in.AuthMode), Query: in.Q})
	return respond(client.List[client.Connector]{Data: mapSlice(list, connectorOut)}), nil
}

// SlugParam is the path parameter of routes that address one connector.
type SlugParam struct {
	Slug string `path:"slug" maxLength:"64"`
}

func (s *Server) getConnector(ctx context.Context, in *SlugParam) (*body[client.Connector], error) {
	c, ok := s.catalog.Get(in.Slug)
	if !ok {
		return nil, patchbay.Errorf(patchbay.ENOTFOUND, "Connector not found.")
	}
	return respond(connectorOut(c)), nil
}

// familySlugs resolves a family to the slugs of its connectors; nil when
// family is empty.
func (s *Server) familySlugs(family, slug string) ([]string, error) {
	var slugs []string
	if family != "" {
		if !slices.Contains(patchbay.Families, family) {
			return nil, patchbay.Errorf(patchbay.EINVALID, "Unknown family %q.", family)
		}
		slugs = []string{}
		for _, c := range s.catalog.List(connector.Filter{Family: family}) {
			if slug == "" || slug == c.Slug {
				slugs = append(slugs, c.Slug)
			}
		}
	} else if slug != "" {
		slugs = []string{slug}
	}
	return slugs, nil
}

type listConnectionsInput struct {
	State               string `query:"state" enum:"active,paused,auth_expired,auth_revoked,error,disconnected,"`
	Connector           string `query:"connector"`
	Family              string `query:"family"`
	Q                   string `query:"q" maxLength:"200" doc:"Free text on name, connector and vendor account."`
	IncludeDisconnected bool   `query:"include_disconnected"`
	PageParams
}

func (s *Server) listConnections(ctx context.Context, in *listConnectionsInput) (*body[client.List[client.Connection]], error) {
	slugs, err := s.familySlugs(in.Family, in.Connector)
	if err != nil {
		return nil, err
	}
	list, next, err := s.connections.List(ctx, patchbay.ConnectionFilter{State: patchbay.ConnectionState(in.State),
		Slugs: slugs, Query: in.Q, IncludeDisconnected: in.IncludeDisconnected, Page: in.page()})
	if err != nil {
		return nil, err
	}
	return respond(client.List[client.Connection]{Data: mapSlice(list, connectionOut), NextCursor: next}), nil
}

type usableInput struct {
	Family    string   `query:"family"`
	Connector string   `query:"connector"`
	Scope     []string `query:"scope" doc:"A scope the connection must hold; repeat for several."`
}

func (s *Server) usableConnections(ctx context.Context, in *usableInput) (*body[client.List[client.Connection]], error) {
	slugs, err := s.familySlugs(in.Family, in.Connector)
	if err != nil {
		return nil, err
	}
	list, err := s.connections.Usable(ctx, slugs, in.Scope)
	if err != nil {
		return nil, err
	}
	return respond(client.List[client.Connection]{Data: mapSlice(list, connectionOut)}), nil
}

func (s *Server) getConnection(ctx context.Context, in *IDParam) (*body[client.Connection], error) {
	c, err := s.connections.Get(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return respond(connectionOut(c)), nil
}

type createConnectionInput struct {
	Body client.CreateConnectionRequest
}

func (s *Server) createConnection(ctx context.Context, in *createConnectionInput) (*body[client.ConnectionResult], error) {
	res, err := s.connections.Create(ctx, connection.CreateRequest{Connector: in.Body.Connector,
		AuthMode: patchbay.AuthMode(in.Body.AuthMode), DisplayName: in.Body.DisplayName, Fields: in.Body.Fields, Scopes: in.Body.Scopes})
	if err != nil {
		return nil, err
	}
	return respond(client.ConnectionResult{Connection: connectionOut(res.Connection), Test: testOut(res.Result), Secret: res.Secret}), nil
}

type authorizeInput struct {
	Body client.AuthorizeRequest
}

func (s *Server) authorizeConnection(ctx context.Context, in *authorizeInput) (*body[client.Authorization], error) {
	a, err := s.connections.StartAuthorization(ctx, connection.AuthorizeRequest{Connector: in.Body.Connector,
		Scopes: in.Body.Scopes, DisplayName: in.Body.DisplayName, Config: in.Body.Config, ReturnTo: in.Body.ReturnTo})
	if err != nil {
		return nil, err
	}
	return respond(client.Authorization{URL: a.URL, ExpiresAt: a.ExpiresAt.UTC()}), nil
}

type scopesInput struct {
	IDParam
	Body client.ScopesRequest
}

func (s *Server) editScopes(ctx context.Context, in *scopesInput) (*body[client.Authorization], error) {
	c, err := s.connections.Get(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	a, err := s.connections.StartAuthorization(ctx, connection.AuthorizeRequest{Connector: c.ConnectorSlug,
		Scopes: in.Body.Scopes, ReturnTo: in.Body.ReturnTo, ConnectionID: c.ID})
	if err != nil {
		return nil, err
	}
	return respond(client.Authorization{URL: a.URL, ExpiresAt: a.ExpiresAt.UTC()}), nil
}

func (s *Server) testConnection(ctx context.Context, in *IDParam) (*body[client.ConnectionResult], error) {
	c, r, err := s.connections.Test(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return respond(client.ConnectionResult{Connection: connectionOut(c), Test: testOut(r)}), nil
}

func (s *Server) pauseConnection(ctx context.Context, in *IDParam) (*body[client.ConnectionResult], error) {
	c, err := s.connections.Pause(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return respond(client.ConnectionResult{Connection: connectionOut(c)}), nil
}

func (s *Server) resumeConnection(ctx context.Context, in *IDParam) (*body[client.ConnectionResult], error) {
	c, r, err := s.connections.Resume(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return respond(client.ConnectionResult{Connection: connectionOut(c), Test: testOut(r)}), nil
}

func (s *Server) refreshConnection(ctx context.Context, in *IDParam) (*body[client.ConnectionResult], error) {
	c, r, err := s.connections.Refresh(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return respond(client.ConnectionResult{Connection: connectionOut(c), Test: testOut(r)}), nil
}

func (s *Server) disconnectConnection(ctx context.Context, in *IDParam) (*body[client.ConnectionResult], error) {
	c, revocation, err := s.connections.Disconnect(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return respond(client.ConnectionResult{Connection: connectionOut(c), Revocation: revocation}), nil
}

func (s *Server) connectionsReport(ctx context.Context, _ *struct{}) (*body[client.ConnectionsReport], error) {
	rep, err := s.store.ReportConnections(ctx, patchbay.PrincipalFrom(ctx).OrgID, s.now())
	if err != nil {
		return nil, err
	}
	out := client.ConnectionsReport{ActiveByConnector: rep.ActiveByConnector, ByState: map[string]int{},
		Tokens: client.TokenReport{Expired: rep.TokensExpired, ExpiringSoon: rep.TokensExpiringSoon,
			Valid: rep.TokensValid, NoExpiry: rep.TokensNoExpiry}}
	for st, n := range rep.ByState {
		out.ByState[string(st)] = n
	}
	return respond(out), nil
}

// oauthCallback is where vendors send the operator back. It is not under
// /v1 and takes no API key: the single-use state guards it. It answers
// with a redirect to the flow's return_to, JSON for API clients, or a short
// page for a person.
func (s *Server) oauthCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	res, err := s.connections.CompleteAuthorization(r.Context(), q.Get("state"), q.Get("code"), q.Get("error"))
	if res != nil && res.ReturnTo != "" {
		to := res.ReturnTo
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		if err != nil {
			to += sep + "error=" + url.QueryEscape(patchbay.ErrorCode(err)) + "&message=" + url.QueryEscape(patchbay.ErrorMessage(err))
		} else {
			to += sep + "connection_id=" + url.QueryEscape(res.Connection.ID)
		}
		http.Redirect(w, r, to, http.StatusSeeOther) //nolint:gosec // return_to was checked to be on Patchbay when the flow started

		return
	}
	if err != nil {
		if patchbay.ErrorCode(err) == patchbay.EINTERNAL {
			requestInfoFrom(r.Context()).logger.ErrorContext(r.Context(), "oauth callback", "error", err.Error())
		}
		if wantsJSON(r) {
			writeError(w, asDomain(err))
			return
		}
		writeCallbackPage(w, codeStatus[patchbay.ErrorCode(err)], "Connection failed", patchbay.ErrorMessage(err))
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, client.ConnectionResult{Connection: connectionOut(res.Connection)})
		return
	}
	writeCallbackPage(w, http.StatusOK, "Connected", "Connected "+res.Connection.DisplayName+". You can close this window.")
}
