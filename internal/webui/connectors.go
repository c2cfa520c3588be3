package webui

import (
	"net/http"
	"slices"
	"strings"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/connection"
	"github.com/patchbay/patchbay/internal/connector"
)

func init() {
	registerView(view{
		nav: navItem{Label: "Library", Path: "/connectors", Order: 10, Needs: needs(patchbay.CapConnectorsRead)},
		routes: func(h *Handler) {
			h.mux.HandleFunc("GET /connectors", h.authed(needs(patchbay.CapConnectorsRead), h.connectors))
			h.mux.HandleFunc("GET /connectors/{slug}", h.authed(needs(patchbay.CapConnectorsRead), h.connectorPage))
			h.mux.HandleFunc("POST /connectors/{slug}/connect", h.authed(needs(patchbay.CapConnectionsCreate), h.connect))
			h.mux.HandleFunc("POST /connectors/{slug}/authorize", h.authed(needs(patchbay.CapConnectionsCreate), h.authorize))
			h.mux.HandleFunc("GET /oauth-return", h.authed(needs(patchbay.CapConnectionsRead), h.oauthReturn))
		},
	})
}

type libraryData struct {
	Families, AuthModes []string
	Family, AuthMode, Q string
	Connectors          []*patchbay.Connector
}

func (h *Handler) connectors(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := r.URL.Query()
	d := libraryData{Families: patchbay.Families, Family: q.Get("family"), AuthMode: q.Get("auth_mode"), Q: strings.TrimSpace(q.Get("q"))}
	for _, m := range patchbay.AuthModes {
		d.AuthModes = append(d.AuthModes, string(m))
	}
	if d.Family != "" && !slices.Contains(patchbay.Families, d.Family) {
		d.Family = ""
	}
	if d.AuthMode != "" && !slices.Contains(d.AuthModes, d.AuthMode) {
		d.AuthMode = ""
	}
	d.Connectors = h.cfg.Catalog.List(connector.Filter{Family: d.Family, AuthMode: patchbay.AuthMode(d.AuthMode), Query: d.Q})
	h.render(w, r, rc, http.StatusOK, "connectors", "Connector library", d)
}

type connectorData struct {
	C          *patchbay.Connector
	HasOAuth   bool
	FormModes  []string // api_key, basic, oauth2_client_credentials: fields form
	Signed     bool
	MayConnect bool
	Error      string
}

func (h *Handler) connectorData(rc *reqCtx, c *patchbay.Connector) connectorData {
	d := connectorData{C: c, MayConnect: rc.p.Can(patchbay.CapConnectionsCreate) &&
		(!c.IsPayment() || rc.p.Can(patchbay.CapManagePaymentCredentials))}
	for _, m := range c.AuthModes {
		switch m {
		case patchbay.AuthOAuth2:
			d.HasOAuth = true
		case patchbay.AuthSignedToken:
			d.Signed = true
		default:
			d.FormModes = append(d.FormModes, string(m))
		}
	}
	return d
}

// pathConnector returns the connector the path's {slug} names, or answers
// 404 and returns false.
func (h *Handler) pathConnector(w http.ResponseWriter, r *http.Request, rc *reqCtx) (*patchbay.Connector, bool) {
	c, ok := h.cfg.Catalog.Get(r.PathValue("slug"))
	if !ok {
		h.renderError(w, r, rc, http.StatusNotFound, "Not found", "There is no such connector in the library.")
	}
	return c, ok
}

func (h *Handler) connectorPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	c, ok := h.pathConnector(w, r, rc)
	if !ok {
		return
	}
	d := h.connectorData(rc, c)
	if msg := r.URL.Query().Get("message"); msg != "" && len(msg) < 500 {
		d.Error = "The vendor did not complete the connection: " + msg
	}
	allowOAuthForms(w, c)
	h.render(w, r, rc, http.StatusOK, "connector", c.Name, d)
}

type connectedData struct {
	Connection *patchbay.Connection
	Test       connection.TestResult
	Secret     string
}

// connect creates a connection from a form: API key or basic credentials
// from the connector's declared fields, client credentials, or a signed
// token whose secret Patchbay generates and shows once.
func (h *Handler) connect(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	c, ok := h.pathConnector(w, r, rc)
	if !ok {
		return
	}
	fields := map[string]string{}
	for _, f := range c.Fields {
		if v := r.PostFormValue("field_" + f.Name); v != "" {
			fields[f.Name] = v
		}
	}
	res, err := h.cfg.Connections.Create(r.Context(), connection.CreateRequest{Connector: c.Slug,
		AuthMode: patchbay.AuthMode(r.PostFormValue("auth_mode")), DisplayName: strings.TrimSpace(r.PostFormValue("display_name")),
		Fields: fields, Scopes: r.PostForm["scope"]})
	if err != nil {
		if code := patchbay.ErrorCode(err); code == patchbay.EINVALID || code == patchbay.EUNAVAILABLE {
			d := h.connectorData(rc, c)
			d.Error = patchbay.ErrorMessage(err)
			h.render(w, r, rc, http.StatusBadRequest, "connector", c.Name, d)
			return
		}
		h.fail(w, r, rc, err)
		return
	}
	if res.Secret == "" {
		done(w, r, "/connections/"+res.Connection.ID, "connected")
		return
	}
	h.renderSecret(w, r, rc, "connected", "Connected", connectedData{Connection: res.Connection, Test: res.Result, Secret: res.Secret})
}

// authorize starts an OAuth connection and sends the browser to the
// vendor; the callback brings it back to /oauth-return.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	c, ok := h.pathConnector(w, r, rc)
	if !ok {
		return
	}
	a, err := h.cfg.Connections.StartAuthorization(r.Context(), connection.AuthorizeRequest{Connector: c.Slug,
		Scopes: r.PostForm["scope"], DisplayName: strings.TrimSpace(r.PostFormValue("display_name")),
		ReturnTo: "/oauth-return?connector=" + c.Slug})
	if err != nil {
		if patchbay.ErrorCode(err) == patchbay.EINVALID {
			d := h.connectorData(rc, c)
			d.Error = patchbay.ErrorMessage(err)
			h.render(w, r, rc, http.StatusBadRequest, "connector", c.Name, d)
			return
		}
		h.fail(w, r, rc, err)
		return
	}
	http.Redirect(w, r, a.URL, http.StatusSeeOther)
}

// oauthReturn is where the OAuth callback sends the operator: to the new
// connection, or back to the connector with the vendor's error.
func (h *Handler) oauthReturn(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := r.URL.Query()
	if id := q.Get("connection_id"); id != "" && !strings.ContainsAny(id, "/?#") {
		done(w, r, "/connections/"+id, "connected")
		return
	}
	slug := q.Get("connector")
	if _, ok := h.cfg.Catalog.Get(slug); !ok {
		h.renderError(w, r, rc, http.StatusBadRequest, "Connection failed", "The vendor did not complete the connection.")
		return
	}
	http.Redirect(w, r, "/connectors/"+slug+"?"+q.Encode(), http.StatusSeeOther) //nolint:gosec // a path here: slug is a catalog entry

}
