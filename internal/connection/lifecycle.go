package connection

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/patchbay/patchbay"
)

// applyTest records a test result on a locked connection and moves its
// state as the seed's diagram says: a pass heals error and auth_expired; an
// expired or revoked credential moves to auth_expired / auth_revoked;
// vendor and network errors count against health, and a failing
// connection lands in error. Paused connections stay paused.
func (s *Service) applyTest(c *patchbay.Connection, r TestResult) {
	now := s.now()
	c.LastTestAt, c.LastTestOutcome, c.LastTestDetail = &now, r.Outcome, r.Detail
	if r.AccountID != "" {
		c.VendorAccountID, c.VendorAccountName = r.AccountID, r.AccountName
	}
	switch r.Outcome {
	case patchbay.TestConnected:
		c.ConsecutiveFailures = 0
		if c.State == patchbay.StateError || c.State == patchbay.StateAuthExpired {
			c.State = patchbay.StateActive
		}
	case patchbay.TestCredentialExpired, patchbay.TestCredentialRevoked:
		c.ConsecutiveFailures++
		if c.State != patchbay.StatePaused {
			c.State = patchbay.StateAuthExpired
			if r.Outcome == patchbay.TestCredentialRevoked {
				c.State = patchbay.StateAuthRevoked
			}
		}
	default:
		c.ConsecutiveFailures++
	}
	c.Health = patchbay.HealthFor(c.ConsecutiveFailures)
	if c.State == patchbay.StateActive && (c.Health == patchbay.HealthFailing || c.Health == patchbay.HealthDisabled) {
		c.State = patchbay.StateError
	}
}

// runTest tests a connection's credential, refreshing it first if due.
// A refused refresh is a test result, not an error.
func (s *Service) runTest(ctx context.Context, c *patchbay.Connection) (TestResult, error) {
	cn, err := s.connector(c.ConnectorSlug)
	if err != nil {
		return TestResult{}, err
	}
	fresh, cred, err := s.credentialFor(ctx, c, s.RefreshSkew, false)
	switch {
	case err == nil:
		return s.verify(ctx, cn, fresh, cred), nil
	case fresh.State == patchbay.StateAuthRevoked:
		return TestResult{Outcome: patchbay.TestCredentialRevoked, Detail: patchbay.ErrorMessage(err)}, nil
	case fresh.State == patchbay.StateAuthExpired:
		return TestResult{Outcome: patchbay.TestCredentialExpired, Detail: patchbay.ErrorMessage(err)}, nil
	case patchbay.ErrorCode(err) == patchbay.EUNAVAILABLE:
		return TestResult{Outcome: patchbay.TestNetworkError, Detail: patchbay.ErrorMessage(err)}, nil
	}
	return TestResult{}, err
}

// Test calls the vendor's test endpoint for a connection and records the
// outcome; it never changes anything at the vendor.
func (s *Service) Test(ctx context.Context, id string) (*patchbay.Connection, TestResult, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return nil, TestResult{}, err
	}
	if c.State == patchbay.StateDisconnected {
		return nil, TestResult{}, patchbay.Errorf(patchbay.ECONFLICT, "Connection %s is disconnected.", c.ID)
	}
	r, err := s.runTest(ctx, c)
	if err != nil {
		return nil, r, err
	}
	c, err = s.record(ctx, c.ID, "connection.test", func(_ patchbay.Store, c *patchbay.Connection) (map[string]any, error) {
		s.applyTest(c, r)
		return map[string]any{"outcome": r.Outcome, "detail": r.Detail, "missing_scopes": r.MissingScopes}, nil
	}, outcomeOf(r))
	return c, r, err
}

func outcomeOf(r TestResult) string {
	if r.Outcome == patchbay.TestConnected {
		return patchbay.OutcomeSuccess
	}
	return patchbay.OutcomeFailure
}

// record changes a connection inside a transaction holding its row, and
// writes the activity entry in the same transaction.
func (s *Service) record(ctx context.Context, id, action string, change func(patchbay.Store, *patchbay.Connection) (map[string]any, error), outcome string) (*patchbay.Connection, error) {
	orgID := patchbay.PrincipalFrom(ctx).OrgID
	var out *patchbay.Connection
	err := s.store.WithTx(ctx, func(tx patchbay.Store) error {
		c, err := tx.LockConnection(ctx, orgID, id)
		if err != nil {
			return err
		}
		prev := c.State
		detail, err := change(tx, c)
		if err != nil {
			return err
		}
		if err := tx.UpdateConnection(ctx, c); err != nil {
			return err
		}
		if detail == nil {
			detail = map[string]any{}
		}
		detail["state"] = c.State
		if prev != c.State {
			detail["previous_state"] = prev
		}
		out = c
		return s.audit(ctx, tx, action, c, outcome, detail)
	})
	return out, err
}

// Pause stops deliveries over a connection and removes it from pickers; the
// credential is kept.
func (s *Service) Pause(ctx context.Context, id string) (*patchbay.Connection, error) {
	return s.record(ctx, id, "connection.pause", func(_ patchbay.Store, c *patchbay.Connection) (map[string]any, error) {
		if c.State == patchbay.StateDisconnected {
			return nil, patchbay.Errorf(patchbay.ECONFLICT, "Connection %s is disconnected.", c.ID)
		}
		c.State = patchbay.StatePaused
		return nil, nil
	}, patchbay.OutcomeSuccess)
}

// Resume tests a paused connection and makes it active if the test passes;
// a failed test leaves it in error.
func (s *Service) Resume(ctx context.Context, id string) (*patchbay.Connection, TestResult, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return nil, TestResult{}, err
	}
	if c.State != patchbay.StatePaused {
		return nil, TestResult{}, patchbay.Errorf(patchbay.ECONFLICT, "Connection %s is %s, not paused.", c.ID, c.State)
	}
	// Test as if active, so a due refresh may run.
	probe := *c
	probe.State = patchbay.StateActive
	r, err := s.runTest(ctx, &probe)
	if err != nil {
		return nil, r, err
	}
	c, err = s.record(ctx, id, "connection.resume", func(tx patchbay.Store, c *patchbay.Connection) (map[string]any, error) {
		if c.State != patchbay.StatePaused {
			return nil, patchbay.Errorf(patchbay.ECONFLICT, "Connection %s is %s, not paused.", c.ID, c.State)
		}
		c.State = patchbay.StateActive
		s.applyTest(c, r)
		if r.Outcome != patchbay.TestConnected {
			c.State = patchbay.StateError
			return map[string]any{"outcome": r.Outcome, "detail": r.Detail}, nil
		}
		// Vendor calls held while it was paused go out now.
		n, err := tx.ReleaseConnectionCalls(ctx, c.OrgID, c.ID, s.now())
		return map[string]any{"outcome": r.Outcome, "detail": r.Detail, "released": n}, err
	}, outcomeOf(r))
	return c, r, err
}

// Refresh refreshes a connection's credential now (for a token the vendor
// invalidated out of band) and tests it.
func (s *Service) Refresh(ctx context.Context, id string) (*patchbay.Connection, TestResult, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return nil, TestResult{}, err
	}
	if c.RefreshToken == "" && c.AuthMode != patchbay.AuthOAuth2ClientCredentials {
		return nil, TestResult{}, patchbay.Errorf(patchbay.EINVALID, "Connection %s has no refresh token to use.", c.ID)
	}
	if c.State == patchbay.StateAuthExpired {
		c.State = patchbay.StateActive // a manual refresh is the way out of auth_expired
	}
	fresh, _, err := s.credentialFor(ctx, c, s.RefreshSkew, true)
	if err != nil {
		return nil, TestResult{}, err
	}
	r, err := s.runTest(ctx, fresh)
	if err != nil {
		return nil, r, err
	}
	c, err = s.record(ctx, id, "connection.refresh", func(_ patchbay.Store, c *patchbay.Connection) (map[string]any, error) {
		s.applyTest(c, r)
		return map[string]any{"outcome": r.Outcome, "expires_at": c.ExpiresAt}, nil
	}, outcomeOf(r))
	return c, r, err
}

// Disconnect revokes the grant at the vendor (RFC 7009, where the connector
// declares a revocation endpoint), then removes the credential. The row
// stays, disconnected, so history keeps its references. It returns how the
// revocation went: "revoked", "not_supported" or "failed: …".
func (s *Service) Disconnect(ctx context.Context, id string) (*patchbay.Connection, string, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if c.State == patchbay.StateDisconnected {
		return nil, "", patchbay.Errorf(patchbay.ECONFLICT, "Connection %s is already disconnected.", c.ID)
	}
	revocation := s.revoke(ctx, c)
	c, err = s.record(ctx, id, "connection.disconnect", func(_ patchbay.Store, c *patchbay.Connection) (map[string]any, error) {
		now := s.now()
		c.State, c.DisconnectedAt = patchbay.StateDisconnected, &now
		c.Credential, c.RefreshToken, c.ExpiresAt = "", "", nil
		return map[string]any{"revocation": revocation}, nil
	}, patchbay.OutcomeSuccess)
	return c, revocation, err
}

// revoke posts the connection's refresh token (else its access token) to
// the connector's RFC 7009 endpoint.
func (s *Service) revoke(ctx context.Context, c *patchbay.Connection) string {
	cn, err := s.connector(c.ConnectorSlug)
	if err != nil || cn.OAuth == nil || cn.OAuth.RevocationURL == "" || c.AuthMode != patchbay.AuthOAuth2 {
		return "not_supported"
	}
	cred, err := s.openCredential(c)
	if err != nil {
		return "failed: " + patchbay.ErrorMessage(err)
	}
	token, hint := cred.AccessToken, "access_token"
	if rt, err := s.open(refreshColumn, c.ID, c.RefreshToken); err == nil && rt != "" {
		token, hint = rt, "refresh_token"
	}
	cfg, err := s.oauthConfig(ctx, c.OrgID, cn, c, cred)
	if err != nil {
		return "failed: " + patchbay.ErrorMessage(err)
	}
	endpoint, err := expand(cn.OAuth.RevocationURL, c, cred, "")
	if err != nil {
		return "failed: " + patchbay.ErrorMessage(err)
	}
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	if cn.OAuth.TokenAuth == "body" {
		form.Set("client_id", cfg.ClientID)
		form.Set("client_secret", cfg.ClientSecret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "failed: invalid revocation URL"
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cn.OAuth.TokenAuth != "body" {
		req.SetBasicAuth(url.QueryEscape(cfg.ClientID), url.QueryEscape(cfg.ClientSecret))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return "failed: " + safeTransportError(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return "failed: the vendor answered " + resp.Status
	}
	return "revoked"
}

// Usable returns the caller's org's connections that pickers may offer:
// active, not failing, of the given connectors (all when nil), holding
// every scope in scopes.
func (s *Service) Usable(ctx context.Context, slugs []string, scopes []string) ([]*patchbay.Connection, error) {
	orgID := patchbay.PrincipalFrom(ctx).OrgID
	var out []*patchbay.Connection
	f := patchbay.ConnectionFilter{State: patchbay.StateActive, Slugs: slugs, Page: patchbay.Page{Limit: patchbay.MaxPageLimit}}
	for {
		page, next, err := s.store.ListConnections(ctx, orgID, f)
		if err != nil {
			return nil, err
		}
		for _, c := range page {
			if c.Usable() && len(c.MissingScopes(scopes)) == 0 {
				out = append(out, c)
			}
		}
		if next == "" {
			return out, nil
		}
		f.Cursor = next
	}
}

// RequireScopes returns an ESCOPE error naming the scopes a connection
// lacks for a call, or nil.
func RequireScopes(c *patchbay.Connection, scopes ...string) error {
	missing := c.MissingScopes(scopes)
	if len(missing) == 0 {
		return nil
	}
	return &patchbay.Error{Code: patchbay.ESCOPE, Details: missing,
		Message: "Connection " + c.ID + " lacks the scopes this call needs: " + strings.Join(missing, ", ") + "."}
}
