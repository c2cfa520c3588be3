package connection

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/secret"
)

// CreateRequest creates a connection without a browser redirect: API key,
// basic, signed token or OAuth client credentials.
type CreateRequest struct {
	Connector   string
	AuthMode    patchbay.AuthMode // the connector's first such mode when empty
	DisplayName string
	// Fields holds the connector's form fields, secret or not (an API key,
	// a shop domain, a client id and secret).
	Fields map[string]string
	Scopes []string // for client credentials
}

// Created is a new connection; Secret is set, this once, for signed-token
// connections, whose secret Patchbay generated.
type Created struct {
	Connection *patchbay.Connection
	Result     TestResult
	Secret     string
}

// canConnect checks the extra capability payment connectors need.
func (s *Service) canConnect(p *patchbay.Principal, cn *patchbay.Connector) error {
	if cn.IsPayment() && !p.Can(patchbay.CapManagePaymentCredentials) {
		return patchbay.Errorf(patchbay.EFORBIDDEN, "Connecting %s needs the %q capability.", cn.Name, patchbay.CapManagePaymentCredentials)
	}
	return nil
}

// checkFields validates form input against the connector's fields and
// returns the non-secret ones (the connection's config). With secrets
// false, secret fields are refused: they have no place in an OAuth start.
func (s *Service) checkFields(cn *patchbay.Connector, in map[string]string, secrets bool) (map[string]string, error) {
	config := map[string]string{}
	declared := map[string]patchbay.Field{}
	for _, f := range cn.Fields {
		declared[f.Name] = f
	}
	for name, v := range in {
		f, ok := declared[name]
		if !ok {
			return nil, patchbay.Errorf(patchbay.EINVALID, "%s has no field %q.", cn.Name, name)
		}
		if len(v) > 4096 {
			return nil, patchbay.Errorf(patchbay.EINVALID, "Field %q is too long.", name)
		}
		if f.Pattern != "" && v != "" {
			re, err := regexp.Compile("^(?:" + f.Pattern + ")$")
			if err == nil && !re.MatchString(v) {
				// The value may be a secret: say which field, never the value.
				return nil, patchbay.Errorf(patchbay.EINVALID, "Field %q does not have the shape %s expects.", f.Label, cn.Name)
			}
		}
		if !f.Secret {
			config[name] = strings.TrimSpace(v)
		} else if !secrets {
			return nil, patchbay.Errorf(patchbay.EINVALID, "Field %q is a secret and is not taken here.", name)
		}
	}
	return config, nil
}

// requireFields checks the connector's required fields are present.
func requireFields(cn *patchbay.Connector, in map[string]string, mode patchbay.AuthMode) error {
	for _, f := range cn.Fields {
		generated := mode == patchbay.AuthSignedToken && f.Secret // Patchbay makes it
		if f.Required && strings.TrimSpace(in[f.Name]) == "" && !generated {
			return patchbay.Errorf(patchbay.EINVALID, "%s needs the %q field.", cn.Name, f.Label)
		}
	}
	return nil
}

// testFailure is the error a create returns when its test call fails.
func testFailure(cn *patchbay.Connector, r TestResult) error {
	e := &patchbay.Error{Code: patchbay.EINVALID, Message: "The test call to " + cn.Name + " failed (" + string(r.Outcome) + "): " + r.Detail + " Nothing was stored."}
	if r.Outcome == patchbay.TestScopeInsufficient {
		e.Code, e.Details = patchbay.ESCOPE, r.MissingScopes
	}
	return e
}

// Create creates a connection with a credential the operator supplies (or,
// for a signed token, that Patchbay generates). The connector's test call
// runs first; if it fails nothing is stored and the error says why.
func (s *Service) Create(ctx context.Context, req CreateRequest) (*Created, error) {
	p := patchbay.PrincipalFrom(ctx)
	cn, err := s.connector(req.Connector)
	if err != nil {
		return nil, err
	}
	if err := s.canConnect(p, cn); err != nil {
		return nil, err
	}
	mode := req.AuthMode
	if mode == "" {
		for _, m := range cn.AuthModes {
			if m != patchbay.AuthOAuth2 {
				mode = m
				break
			}
		}
	}
	if mode == patchbay.AuthOAuth2 {
		return nil, patchbay.Errorf(patchbay.EINVALID, "OAuth connections start with POST /v1/connections/authorize.")
	} else if mode == "" || !cn.Supports(mode) {
		return nil, patchbay.Errorf(patchbay.EINVALID, "%s does not support auth mode %q.", cn.Name, mode)
	}
	config, err := s.checkFields(cn, req.Fields, true)
	if err != nil {
		return nil, err
	}
	if err := requireFields(cn, req.Fields, mode); err != nil {
		return nil, err
	}
	conn := &patchbay.Connection{ID: patchbay.NewID("con"), OrgID: p.OrgID, ConnectorSlug: cn.Slug,
		DisplayName: req.DisplayName, AuthMode: mode, Config: config, Scopes: req.Scopes}
	cred := credential{Fields: map[string]string{}}
	for _, f := range cn.Fields {
		if f.Secret && req.Fields[f.Name] != "" {
			cred.Fields[f.Name] = req.Fields[f.Name]
		}
	}
	out := &Created{}
	var expires *time.Time
	switch mode {
	case patchbay.AuthSignedToken:
		out.Secret = secret.NewSigningSecret()
		cred.Fields["signing_secret"] = out.Secret
	case patchbay.AuthOAuth2ClientCredentials:
		if cred.Fields["client_id"] == "" {
			cred.Fields["client_id"] = config["client_id"]
		}
		if cred.Fields["client_id"] == "" || cred.Fields["client_secret"] == "" {
			return nil, patchbay.Errorf(patchbay.EINVALID, "%s needs a client_id and client_secret.", cn.Name)
		}
		tok, err := s.clientCredentialsToken(ctx, cn, conn, cred)
		if err != nil {
			s.auditFailure(ctx, "connection.create", conn, err)
			return nil, err
		}
		cred.AccessToken, cred.TokenType, expires = tok.AccessToken, tok.TokenType, s.expiry(tok)
	}
	out.Result = s.verify(ctx, cn, conn, cred)
	if out.Result.Outcome != patchbay.TestConnected {
		err := testFailure(cn, out.Result)
		s.auditFailure(ctx, "connection.create", conn, err)
		return nil, err
	}
	if out.Connection, err = s.createConnection(ctx, cn, conn, cred, "", expires, out.Result); err != nil {
		return nil, err
	}
	return out, nil
}

// createConnection seals the credential and stores a tested connection as
// active, with its activity entry, in one transaction.
func (s *Service) createConnection(ctx context.Context, cn *patchbay.Connector, conn *patchbay.Connection, cred credential,
	refreshToken string, expires *time.Time, r TestResult) (*patchbay.Connection, error) {
	if conn.ID == "" {
		conn.ID = patchbay.NewID("con")
	}
	if strings.TrimSpace(conn.DisplayName) == "" {
		conn.DisplayName = cn.Name
	}
	if len(conn.DisplayName) > 200 {
		return nil, patchbay.Errorf(patchbay.EINVALID, "Display name must be at most 200 characters.")
	}
	now := s.now()
	conn.State, conn.Health, conn.ExpiresAt = patchbay.StateActive, patchbay.HealthHealthy, expires
	conn.VendorAccountID, conn.VendorAccountName = r.AccountID, r.AccountName
	conn.LastTestAt, conn.LastTestOutcome, conn.LastTestDetail = &now, r.Outcome, r.Detail
	conn.OperatorOfRecord = patchbay.PrincipalFrom(ctx).Actor()
	if err := s.sealCredential(conn, cred); err != nil {
		return nil, err
	}
	var err error
	if conn.RefreshToken, err = s.seal(refreshColumn, conn.ID, refreshToken); err != nil {
		return nil, err
	}
	err = s.store.WithTx(ctx, func(tx patchbay.Store) error {
		if err := tx.CreateConnection(ctx, conn); err != nil {
			return err
		}
		return s.audit(ctx, tx, "connection.create", conn, patchbay.OutcomeSuccess, map[string]any{
			"auth_mode": conn.AuthMode, "scopes": conn.Scopes, "vendor_account_id": conn.VendorAccountID})
	})
	if err != nil {
		return nil, err
	}
	return conn, nil
}

// reauthorize stores a fresh grant on an existing connection (a scope
// edit, or a re-authorization after auth_expired / auth_revoked).
func (s *Service) reauthorize(ctx context.Context, cn *patchbay.Connector, probe *patchbay.Connection, cred credential,
	refreshToken string, expires *time.Time, r TestResult) (*patchbay.Connection, error) {
	var conn *patchbay.Connection
	err := s.store.WithTx(ctx, func(tx patchbay.Store) error {
		var err error
		if conn, err = tx.LockConnection(ctx, probe.OrgID, probe.ID); err != nil {
			return err
		}
		previous := conn.Scopes
		now := s.now()
		conn.Scopes, conn.ExpiresAt = probe.Scopes, expires
		conn.State, conn.Health, conn.ConsecutiveFailures = patchbay.StateActive, patchbay.HealthHealthy, 0
		conn.LastTestAt, conn.LastTestOutcome, conn.LastTestDetail = &now, r.Outcome, r.Detail
		if r.AccountID != "" {
			conn.VendorAccountID, conn.VendorAccountName = r.AccountID, r.AccountName
		}
		if err := s.sealCredential(conn, cred); err != nil {
			return err
		}
		if conn.RefreshToken, err = s.seal(refreshColumn, conn.ID, refreshToken); err != nil {
			return err
		}
		if err := tx.UpdateConnection(ctx, conn); err != nil {
			return err
		}
		return s.audit(ctx, tx, "connection.reauthorize", conn, patchbay.OutcomeSuccess,
			map[string]any{"scopes": conn.Scopes, "previous_scopes": previous})
	})
	return conn, err
}

// auditFailure records a failed action; a failure to record it is logged,
// not returned, so the caller sees the original error.
func (s *Service) auditFailure(ctx context.Context, action string, conn *patchbay.Connection, cause error) {
	a := patchbay.NewActivity(ctx, action, "connection", conn.ID, patchbay.OutcomeFailure)
	a.OrgID = conn.OrgID
	a.Detail = map[string]any{"connector": conn.ConnectorSlug, "error": patchbay.ErrorMessage(cause)}
	if err := s.store.RecordActivity(ctx, a); err != nil {
		s.logger.WarnContext(ctx, "record activity", "action", action, "error", err.Error())
	}
}
