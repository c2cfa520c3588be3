package connection

import (
	"context"
	"errors"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/patchbay/patchbay"
)

// due reports whether a connection's credential expires within ahead and
// can be refreshed.
func (s *Service) due(c *patchbay.Connection, ahead time.Duration) bool {
	if c.ExpiresAt == nil {
		return false
	}
	refreshable := c.RefreshToken != "" || c.AuthMode == patchbay.AuthOAuth2ClientCredentials
	return refreshable && !s.now().Add(ahead).Before(*c.ExpiresAt)
}

// unusable is the error for a connection whose state forbids calls.
func unusable(c *patchbay.Connection) error {
	switch c.State {
	case patchbay.StateAuthExpired, patchbay.StateAuthRevoked:
		return patchbay.Errorf(patchbay.ECONFLICT, "Connection %s is %s: re-authorize it.", c.ID, c.State)
	case patchbay.StateDisconnected:
		return patchbay.Errorf(patchbay.ECONFLICT, "Connection %s is disconnected.", c.ID)
	}
	return nil
}

// credentialFor returns a connection with a current credential, refreshing
// it first when it is due. Of all callers that find it due at once — in
// this process or any replica — exactly one refreshes: it takes the lease
// (a conditional UPDATE on the row's expiry), and the others wait for the
// new expiry to appear. A credential is due when it expires within ahead;
// force refreshes it even when not due.
func (s *Service) credentialFor(ctx context.Context, c *patchbay.Connection, ahead time.Duration, force bool) (*patchbay.Connection, credential, error) {
	deadline := s.now().Add(s.RefreshLease + 5*time.Second)
	seen := c.ExpiresAt
	for wait := 10 * time.Millisecond; ; wait = min(wait*2, 200*time.Millisecond) {
		if err := unusable(c); err != nil {
			return c, credential{}, err
		}
		refreshed := !sameTime(seen, c.ExpiresAt)
		if (!force || refreshed) && !s.due(c, ahead) {
			cred, err := s.openCredential(c)
			return c, cred, err
		}
		claim := randomString(16)
		ok, err := s.store.ClaimRefresh(ctx, c.OrgID, c.ID, c.ExpiresAt, claim, s.now().Add(s.RefreshLease))
		if err != nil {
			return c, credential{}, err
		}
		if ok {
			return s.refresh(ctx, c, claim)
		}
		if s.now().After(deadline) {
			return c, credential{}, patchbay.Errorf(patchbay.EUNAVAILABLE, "Timed out waiting for another refresh of connection %s.", c.ID)
		}
		select {
		case <-ctx.Done():
			return c, credential{}, ctx.Err()
		case <-time.After(wait):
		}
		if c, err = s.store.FindConnection(ctx, c.OrgID, c.ID); err != nil {
			return c, credential{}, err
		}
	}
}

func sameTime(a, b *time.Time) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && a.Equal(*b))
}

// refresh runs a refresh under a lease the caller holds, saves the new
// access and refresh tokens in one update, and releases the lease. A
// refused grant moves the connection to auth_expired, or auth_revoked when
// the vendor says it was revoked.
func (s *Service) refresh(ctx context.Context, c *patchbay.Connection, claim string) (*patchbay.Connection, credential, error) {
	defer func() {
		if err := s.store.ReleaseRefresh(context.WithoutCancel(ctx), c.OrgID, c.ID, claim); err != nil {
			s.logger.WarnContext(ctx, "release refresh lease", "connection", c.ID, "error", err.Error())
		}
	}()
	cn, err := s.connector(c.ConnectorSlug)
	if err != nil {
		return c, credential{}, err
	}
	cred, err := s.openCredential(c)
	if err != nil {
		return c, credential{}, err
	}
	var tok *oauth2.Token
	if c.AuthMode == patchbay.AuthOAuth2ClientCredentials {
		tok, err = s.clientCredentialsToken(ctx, cn, c, cred)
	} else {
		tok, err = s.refreshToken(ctx, cn, c, cred)
	}
	if err != nil {
		return c, cred, s.refreshFailed(ctx, c, err)
	}
	cred.AccessToken, cred.TokenType = tok.AccessToken, tok.TokenType
	var saved *patchbay.Connection
	err = s.store.WithTx(ctx, func(tx patchbay.Store) error {
		cur, err := tx.LockConnection(ctx, c.OrgID, c.ID)
		if err != nil {
			return err
		}
		if err := s.sealCredential(cur, cred); err != nil {
			return err
		}
		// Rotating vendors return a new refresh token and invalidate the
		// old one: it is saved in the same UPDATE as the access token.
		if tok.RefreshToken != "" {
			if cur.RefreshToken, err = s.seal(refreshColumn, cur.ID, tok.RefreshToken); err != nil {
				return err
			}
		}
		cur.ExpiresAt = s.expiry(tok)
		if raw, _ := tok.Extra("scope").(string); raw != "" {
			cur.Scopes = grantedScopes(cn, tok, cur.Scopes)
		}
		if cur.State == patchbay.StateAuthExpired {
			cur.State = patchbay.StateActive
		}
		saved = cur
		return tx.UpdateConnection(ctx, cur)
	})
	if err != nil {
		return c, cred, err
	}
	return saved, cred, nil
}

// refreshToken uses the connection's refresh token.
func (s *Service) refreshToken(ctx context.Context, cn *patchbay.Connector, c *patchbay.Connection, cred credential) (*oauth2.Token, error) {
	rt, err := s.open(refreshColumn, c.ID, c.RefreshToken)
	if err != nil {
		return nil, err
	}
	cfg, err := s.oauthConfig(ctx, c.OrgID, cn, c, cred)
	if err != nil {
		return nil, err
	}
	// An expired token forces the source to refresh.
	return cfg.TokenSource(s.withClient(ctx), &oauth2.Token{RefreshToken: rt, Expiry: time.Unix(1, 0)}).Token()
}

// refreshFailed records a failed refresh and returns the error to report.
func (s *Service) refreshFailed(ctx context.Context, c *patchbay.Connection, cause error) error {
	cn, _ := s.connector(c.ConnectorSlug)
	var re *oauth2.RetrieveError
	next := c.State
	if errors.As(cause, &re) && re.ErrorCode == "invalid_grant" {
		next = patchbay.StateAuthExpired
		if strings.Contains(strings.ToLower(re.ErrorDescription), "revoked") {
			next = patchbay.StateAuthRevoked
		}
	} else if errors.As(cause, &re) && (re.ErrorCode == "unauthorized_client" || re.ErrorCode == "invalid_client") {
		next = patchbay.StateError
	}
	var name string
	if cn != nil {
		name = cn.Name
	}
	err := s.store.WithTx(ctx, func(tx patchbay.Store) error {
		cur, err := tx.LockConnection(ctx, c.OrgID, c.ID)
		if err != nil {
			return err
		}
		prev := cur.State
		if next != prev && cur.State != patchbay.StatePaused {
			cur.State = next
		}
		cur.ConsecutiveFailures++
		cur.Health = patchbay.HealthFor(cur.ConsecutiveFailures)
		if err := tx.UpdateConnection(ctx, cur); err != nil {
			return err
		}
		*c = *cur
		return s.audit(ctx, tx, "connection.refresh", cur, patchbay.OutcomeFailure,
			map[string]any{"error": refreshMessage(name, cause), "state": cur.State, "previous_state": prev})
	})
	if err != nil {
		return err
	}
	if c.State == patchbay.StateAuthExpired || c.State == patchbay.StateAuthRevoked {
		return patchbay.Errorf(patchbay.ECONFLICT, "The refresh was refused: connection %s is now %s and must be re-authorized.", c.ID, c.State)
	}
	return &patchbay.Error{Code: patchbay.EUNAVAILABLE, Message: refreshMessage(name, cause)}
}

func refreshMessage(name string, cause error) string {
	var re *oauth2.RetrieveError
	if errors.As(cause, &re) {
		return name + " refused the refresh (" + re.ErrorCode + ")."
	}
	return patchbay.ErrorMessage(cause)
}

// RefreshDue refreshes every connection whose credential expires within
// horizon, and returns how many it refreshed. Replicas may run it at once:
// the lease makes each refresh happen once.
func (s *Service) RefreshDue(ctx context.Context, horizon time.Duration) (int, error) {
	list, err := s.store.ListExpiring(ctx, s.now().Add(horizon), 100)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range list {
		before := c.ExpiresAt
		after, _, err := s.credentialFor(ctx, c, horizon, false)
		if err != nil {
			s.logger.WarnContext(ctx, "scheduled refresh failed", "connection", c.ID, "error", patchbay.ErrorMessage(err))
			continue
		}
		if !sameTime(before, after.ExpiresAt) {
			n++
		}
	}
	return n, nil
}

// Start runs the refresh scheduler until Stop: every interval it
// refreshes credentials expiring within the next two intervals (plus the
// skew), so tokens are renewed before they expire rather than on first use.
func (s *Service) Start(ctx context.Context, interval time.Duration) {
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if _, err := s.RefreshDue(ctx, 2*interval+s.RefreshSkew); err != nil && ctx.Err() == nil {
				s.logger.WarnContext(ctx, "refresh scheduler", "error", err.Error())
			}
			select {
			case <-s.stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Stop ends the scheduler started by Start and waits for it.
func (s *Service) Stop() {
	if s.stop != nil {
		close(s.stop)
		<-s.done
		s.stop = nil
	}
}
