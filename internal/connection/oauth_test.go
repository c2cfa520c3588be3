package connection_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/connection"
	"github.com/patchbay/patchbay/internal/fakevendor"
)

func TestOAuthConnect(t *testing.T) {
	forEngine(t, func(t *testing.T, s *setup) {
		a, err := s.svc.StartAuthorization(s.ctx, connection.AuthorizeRequest{Connector: fakevendor.Slug, DisplayName: "Vendor prod"})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(a.URL)
		q := u.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" ||
			q.Get("scope") != "profile items:read" || q.Get("redirect_uri") != s.svc.RedirectURI() {
			t.Fatalf("authorization URL %s", a.URL)
		}
		state, code, _ := s.authorize(a.URL)
		res, err := s.svc.CompleteAuthorization(context.Background(), state, code, "")
		if err != nil {
			t.Fatal(err)
		}
		c := res.Connection
		if c.State != patchbay.StateActive || c.DisplayName != "Vendor prod" || c.VendorAccountID == "" ||
			c.LastTestOutcome != patchbay.TestConnected || !slices.Equal(c.Scopes, []string{"profile", "items:read"}) ||
			c.ExpiresAt == nil || c.OperatorOfRecord != "api_key:key_test_administrator" {
			t.Fatalf("connection %+v", c)
		}
		if !strings.HasPrefix(c.Credential, "pbs1:k1:") || !strings.HasPrefix(c.RefreshToken, "pbs1:k1:") {
			t.Fatal("credential not sealed")
		}
		// The state is single-use.
		if _, err := s.svc.CompleteAuthorization(context.Background(), state, code, ""); patchbay.ErrorCode(err) != patchbay.EINVALID {
			t.Fatalf("second callback with the same state: %v", err)
		}
		acts, _, _ := s.store.ListActivity(context.Background(), s.org.Org.ID, patchbay.ActivityFilter{TargetID: c.ID})
		if len(acts) != 1 || acts[0].Action != "connection.create" || acts[0].ActorID != "key_test_administrator" {
			t.Fatalf("activity %+v", acts)
		}
	})
}

func TestOAuthCallbackRefusals(t *testing.T) {
	forEngine(t, func(t *testing.T, s *setup) {
		count := func() int {
			list, _, _ := s.store.ListConnections(context.Background(), s.org.Org.ID, patchbay.ConnectionFilter{IncludeDisconnected: true})
			return len(list)
		}
		start := func() string {
			a, err := s.svc.StartAuthorization(s.ctx, connection.AuthorizeRequest{Connector: fakevendor.Slug})
			if err != nil {
				t.Fatal(err)
			}
			return a.URL
		}
		// Forged state.
		if _, err := s.svc.CompleteAuthorization(context.Background(), "forged", "code", ""); patchbay.ErrorCode(err) != patchbay.EINVALID {
			t.Fatalf("forged state: %v", err)
		}
		// Operator denies at the vendor.
		s.vendor.SetDenyAuthorization(true)
		state, code, verr := s.authorize(start())
		if _, err := s.svc.CompleteAuthorization(context.Background(), state, code, verr); err == nil || !strings.Contains(err.Error(), "access_denied") {
			t.Fatalf("denied: %v", err)
		}
		s.vendor.SetDenyAuthorization(false)
		// A code for another flow's state: PKCE verifier mismatch at the vendor.
		state1, _, _ := s.authorize(start())
		_, code2, _ := s.authorize(start())
		if _, err := s.svc.CompleteAuthorization(context.Background(), state1, code2, ""); err == nil {
			t.Fatal("mismatched code accepted")
		}
		// Expired state.
		state, code, _ = s.authorize(start())
		s.clock.Advance(s.svc.StateTTL + time.Second)
		if _, err := s.svc.CompleteAuthorization(context.Background(), state, code, ""); patchbay.ErrorCode(err) != patchbay.EINVALID {
			t.Fatalf("expired state: %v", err)
		}
		// The test call fails after a good exchange: nothing is stored.
		s.vendor.SetWrongScope(true)
		state, code, _ = s.authorize(start())
		_, err := s.svc.CompleteAuthorization(context.Background(), state, code, "")
		if patchbay.ErrorCode(err) != patchbay.ESCOPE {
			t.Fatalf("failing test call: %v", err)
		}
		if n := count(); n != 0 {
			t.Fatalf("%d connections stored by failed flows", n)
		}
		// An open redirect is refused up front.
		if _, err := s.svc.StartAuthorization(s.ctx, connection.AuthorizeRequest{Connector: fakevendor.Slug,
			ReturnTo: "https://evil.example/"}); patchbay.ErrorCode(err) != patchbay.EINVALID {
			t.Fatalf("foreign return_to: %v", err)
		}
		if _, err := s.svc.StartAuthorization(s.ctx, connection.AuthorizeRequest{Connector: fakevendor.Slug,
			Scopes: []string{"admin:everything"}}); patchbay.ErrorCode(err) != patchbay.EINVALID {
			t.Fatalf("unknown scope: %v", err)
		}
	})
}

// TestRefreshExactlyOnce has many callers on two replicas find the token
// due at once: exactly one refresh reaches the vendor, and all of them get
// a working credential.
func TestRefreshExactlyOnce(t *testing.T) {
	forEngine(t, func(t *testing.T, s *setup) {
		c := s.connectOAuth(connection.AuthorizeRequest{})
		replica := s.newService(s.svc.Catalog())
		s.clock.Advance(time.Until(*c.ExpiresAt))
		before := s.vendor.RefreshRequests()
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := 0; i < 40; i++ {
			svc := s.svc
			if i%2 == 1 {
				svc = replica
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, r, err := svc.Test(s.ctx, c.ID)
				if err == nil && r.Outcome != patchbay.TestConnected {
					err = patchbay.Errorf(patchbay.EINTERNAL, "outcome %s: %s", r.Outcome, r.Detail)
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if n := s.vendor.RefreshRequests() - before; n != 1 {
			t.Fatalf("%d refresh requests for one expiry, want 1", n)
		}
		// The rotated refresh token was saved: the next expiry refreshes
		// again (reusing the old one would make the vendor revoke the grant).
		after, _ := s.store.FindConnection(context.Background(), s.org.Org.ID, c.ID)
		if !after.ExpiresAt.After(*c.ExpiresAt) {
			t.Fatal("expiry did not move")
		}
		s.clock.Advance(time.Until(*after.ExpiresAt) + time.Hour)
		if _, r, err := s.svc.Test(s.ctx, c.ID); err != nil || r.Outcome != patchbay.TestConnected {
			t.Fatalf("second refresh: %v %+v", err, r)
		}
		if n := s.vendor.RefreshRequests() - before; n != 2 {
			t.Fatalf("%d refresh requests for two expiries, want 2", n)
		}
	})
}

// TestRefreshScheduler renews credentials before they expire, once, even
// with two replicas' schedulers running.
func TestRefreshScheduler(t *testing.T) {
	forEngine(t, func(t *testing.T, s *setup) {
		c := s.connectOAuth(connection.AuthorizeRequest{})
		replica := s.newService(s.svc.Catalog())
		if n, err := s.svc.RefreshDue(context.Background(), time.Minute); err != nil || n != 0 {
			t.Fatalf("nothing due yet: %d %v", n, err)
		}
		s.clock.Advance(time.Until(*c.ExpiresAt) - 5*time.Minute) // not due on use yet, due within the horizon
		var wg sync.WaitGroup
		counts := make([]int, 2)
		for i, svc := range []*connection.Service{s.svc, replica} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				counts[i], _ = svc.RefreshDue(context.Background(), 10*time.Minute)
			}()
		}
		wg.Wait()
		if counts[0]+counts[1] < 1 || s.vendor.RefreshRequests() != 1 {
			t.Fatalf("refreshed %v, vendor saw %d refreshes; want exactly 1", counts, s.vendor.RefreshRequests())
		}
	})
}

func TestRefreshRefused(t *testing.T) {
	forEngine(t, func(t *testing.T, s *setup) {
		c := s.connectOAuth(connection.AuthorizeRequest{})
		s.vendor.SetInvalidGrant(true)
		s.clock.Advance(time.Until(*c.ExpiresAt))
		_, r, err := s.svc.Test(s.ctx, c.ID)
		if err != nil || r.Outcome != patchbay.TestCredentialExpired {
			t.Fatalf("test after refused refresh: %v %+v", err, r)
		}
		got, _ := s.svc.Get(s.ctx, c.ID)
		if got.State != patchbay.StateAuthExpired {
			t.Fatalf("state %s, want auth_expired", got.State)
		}
		if list, _ := s.svc.Usable(s.ctx, nil, nil); len(list) != 0 {
			t.Fatal("auth_expired connection offered by pickers")
		}
		acts, _, _ := s.store.ListActivity(context.Background(), s.org.Org.ID, patchbay.ActivityFilter{Action: "connection.refresh"})
		if len(acts) == 0 || acts[0].Outcome != patchbay.OutcomeFailure {
			t.Fatalf("refresh failure not in activity: %+v", acts)
		}
		// Re-authorizing brings it back.
		s.vendor.SetInvalidGrant(false)
		a, err := s.svc.StartAuthorization(s.ctx, connection.AuthorizeRequest{Connector: fakevendor.Slug, ConnectionID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		state, code, _ := s.authorize(a.URL)
		res, err := s.svc.CompleteAuthorization(context.Background(), state, code, "")
		if err != nil || res.Connection.State != patchbay.StateActive || res.Connection.ID != c.ID {
			t.Fatalf("re-authorize: %v %+v", err, res)
		}
	})
}

func TestVendorRevokesGrant(t *testing.T) {
	forEngine(t, func(t *testing.T, s *setup) {
		c := s.connectOAuth(connection.AuthorizeRequest{})
		s.vendor.RevokeAll()
		_, r, err := s.svc.Test(s.ctx, c.ID)
		if err != nil || r.Outcome != patchbay.TestCredentialRevoked {
			t.Fatalf("test after vendor revocation: %v %+v", err, r)
		}
		got, _ := s.svc.Get(s.ctx, c.ID)
		if got.State != patchbay.StateAuthRevoked {
			t.Fatalf("state %s, want auth_revoked", got.State)
		}
	})
}

func TestEditScopes(t *testing.T) {
	forEngine(t, func(t *testing.T, s *setup) {
		c := s.connectOAuth(connection.AuthorizeRequest{})
		var pe *patchbay.Error
		if err := connection.RequireScopes(c, "items:write"); !errors.As(err, &pe) || pe.Code != patchbay.ESCOPE ||
			!slices.Equal(pe.Details, []string{"items:write"}) {
			t.Fatalf("RequireScopes: %v", err)
		}
		a, err := s.svc.StartAuthorization(s.ctx, connection.AuthorizeRequest{Connector: fakevendor.Slug, ConnectionID: c.ID,
			Scopes: []string{"profile", "items:read", "items:write"}})
		if err != nil {
			t.Fatal(err)
		}
		// The vendor grants less than asked: what is held is what was granted.
		s.vendor.SetGrantScopes("profile", "items:write")
		state, code, _ := s.authorize(a.URL)
		res, err := s.svc.CompleteAuthorization(context.Background(), state, code, "")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Connection.Scopes, []string{"profile", "items:write"}) {
			t.Fatalf("scopes %v", res.Connection.Scopes)
		}
		usable, _ := s.svc.Usable(s.ctx, nil, []string{"items:read"})
		if len(usable) != 0 {
			t.Fatal("picker offers a connection without the scope")
		}
		usable, _ = s.svc.Usable(s.ctx, []string{fakevendor.Slug}, []string{"items:write"})
		if len(usable) != 1 {
			t.Fatal("picker misses the connection holding the scope")
		}
	})
}
