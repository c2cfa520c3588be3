package connection_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/connection"
	"github.com/patchbay/patchbay/internal/fakevendor"
)

func (s *setup) connectKey(key string) *patchbay.Connection {
	s.t.Helper()
	s.vendor.AddAPIKey(key)
	res, err := s.svc.Create(s.ctx, connection.CreateRequest{Connector: fakevendor.Slug, AuthMode: patchbay.AuthAPIKey,
		Fields: map[string]string{"api_key": key}})
	if err != nil {
		s.t.Fatal(err)
	}
	return res.Connection
}

func (s *setup) count() int {
	list, _, err := s.store.ListConnections(context.Background(), s.org.Org.ID, patchbay.ConnectionFilter{IncludeDisconnected: true})
	if err != nil {
		s.t.Fatal(err)
	}
	return len(list)
}

func TestCreateModes(t *testing.T) {
	forEngine(t, func(t *testing.T, s *setup) {
		// API key: tested before storing; sealed; account id read.
		c := s.connectKey("key-good")
		if c.State != patchbay.StateActive || c.AuthMode != patchbay.AuthAPIKey || c.VendorAccountID == "" ||
			strings.Contains(c.Credential, "key-good") || len(c.Config) != 0 {
			t.Fatalf("api key connection %+v", c)
		}
		// Basic, on a connector that sends HTTP Basic: the user name is
		// config, the password sealed.
		s.vendor.AddBasic("ops", "pass-word-1")
		svc := s.newService(s.catalogWith(func(c *patchbay.Connector) {
			c.Slug, c.API.Auth = "fakebasic", patchbay.AuthInjection{Type: "basic", Username: "{username}", Password: "{password}"}
		}))
		res, err := svc.Create(s.ctx, connection.CreateRequest{Connector: "fakebasic", AuthMode: patchbay.AuthBasic,
			Fields: map[string]string{"username": "ops", "password": "pass-word-1"}})
		if err != nil || res.Connection.Config["username"] != "ops" || strings.Contains(res.Connection.Credential, "pass-word-1") ||
			res.Connection.VendorAccountID == "" {
			t.Fatalf("basic connection: %v %+v", err, res)
		}
		if _, err := svc.Create(s.ctx, connection.CreateRequest{Connector: "fakebasic", AuthMode: patchbay.AuthBasic,
			Fields: map[string]string{"username": "ops", "password": "wrong"}}); patchbay.ErrorCode(err) != patchbay.EINVALID {
			t.Fatalf("basic with a wrong password: %v", err)
		}
		before := s.count()
		// A refused key stores nothing and says why, without the key.
		_, err = s.svc.Create(s.ctx, connection.CreateRequest{Connector: fakevendor.Slug, AuthMode: patchbay.AuthAPIKey,
			Fields: map[string]string{"api_key": "key-unknown"}})
		if patchbay.ErrorCode(err) != patchbay.EINVALID || !strings.Contains(patchbay.ErrorMessage(err), "credential_revoked") ||
			strings.Contains(patchbay.ErrorMessage(err), "key-unknown") {
			t.Fatalf("refused key: %v", err)
		}
		for _, tc := range []connection.CreateRequest{
			{Connector: "nope"},
			{Connector: fakevendor.Slug, AuthMode: patchbay.AuthOAuth2},
			{Connector: fakevendor.Slug, AuthMode: patchbay.AuthSignedToken},
			{Connector: fakevendor.Slug, AuthMode: patchbay.AuthAPIKey, Fields: map[string]string{"shop": "x"}},
		} {
			if _, err := s.svc.Create(s.ctx, tc); patchbay.ErrorCode(err) != patchbay.EINVALID {
				t.Errorf("%+v: %v", tc, err)
			}
		}
		if s.count() != before {
			t.Fatal("refused creates stored connections")
		}
		acts, _, _ := s.store.ListActivity(context.Background(), s.org.Org.ID, patchbay.ActivityFilter{Action: "connection.create"})
		failures := 0
		for _, a := range acts {
			if a.Outcome == patchbay.OutcomeFailure {
				failures++
			}
		}
		if failures == 0 {
			t.Fatal("refused create not in the activity log")
		}
	})
}

func TestPaymentConnectorsNeedTheCapability(t *testing.T) {
	forEngine(t, func(t *testing.T, s *setup) {
		s.vendor.AddAPIKey("pay-key")
		creator := patchbay.WithPrincipal(context.Background(), &patchbay.Principal{OrgID: s.org.Org.ID,
			ActorType: patchbay.ActorAPIKey, ActorID: "key_creator",
			Capabilities: patchbay.NewCapabilitySet(patchbay.CapConnectionsCreate)})
		req := connection.CreateRequest{Connector: fakevendor.PaymentSlug, AuthMode: patchbay.AuthAPIKey,
			Fields: map[string]string{"api_key": "pay-key"}}
		if _, err := s.svc.Create(creator, req); patchbay.ErrorCode(err) != patchbay.EFORBIDDEN {
			t.Fatalf("payment connector without the capability: %v", err)
		}
		if _, err := s.svc.StartAuthorization(creator, connection.AuthorizeRequest{Connector: fakevendor.PaymentSlug}); patchbay.ErrorCode(err) != patchbay.EFORBIDDEN {
			t.Fatalf("payment OAuth without the capability: %v", err)
		}
		if _, err := s.svc.Create(creator, connection.CreateRequest{Connector: fakevendor.Slug, AuthMode: patchbay.AuthAPIKey,
			Fields: map[string]string{"api_key": "pay-key"}}); err != nil {
			t.Fatalf("non-payment connector: %v", err)
		}
		if _, err := s.svc.Create(s.ctx, req); err != nil {
			t.Fatalf("Administrator: %v", err)
		}
	})
}

func TestTestOutcomes(t *testing.T) {
	forEngine(t, func(t *testing.T, s *setup) {
		c := s.connectKey("key-outcomes")
		for _, tc := range []struct {
			name  string
			fault func()
			want  patchbay.TestOutcome
		}{
			{"vendor error", func() { s.vendor.FailNext(1, 503) }, patchbay.TestVendorError},
			{"rate limited", func() { s.vendor.RateLimitNext(1, time.Second) }, patchbay.TestVendorError},
			{"wrong scope", func() { s.vendor.SetWrongScope(true) }, patchbay.TestScopeInsufficient},
			{"connected", func() {}, patchbay.TestConnected},
		} {
			s.vendor.ClearFaults()
			tc.fault()
			_, r, err := s.svc.Test(s.ctx, c.ID)
			if err != nil || r.Outcome != tc.want {
				t.Errorf("%s: %v %+v", tc.name, err, r)
			}
			if tc.want == patchbay.TestScopeInsufficient && (len(r.MissingScopes) == 0 || r.MissingScopes[0] != "profile") {
				t.Errorf("missing scopes %v, want [profile]", r.MissingScopes)
			}
		}
		s.vendor.ClearFaults()
		// Three failures in a row: failing, and the connection moves to error.
		s.vendor.FailNext(3, 500)
		var got *patchbay.Connection
		for i := 0; i < 3; i++ {
			got, _, _ = s.svc.Test(s.ctx, c.ID)
		}
		if got.Health != patchbay.HealthFailing || got.ConsecutiveFailures != 3 || got.State != patchbay.StateError {
			t.Fatalf("after 3 failures: health %s, failures %d, state %s", got.Health, got.ConsecutiveFailures, got.State)
		}
		// A passing test heals it.
		got, _, _ = s.svc.Test(s.ctx, c.ID)
		if got.Health != patchbay.HealthHealthy || got.State != patchbay.StateActive {
			t.Fatalf("after a pass: health %s, state %s", got.Health, got.State)
		}
		// An unreachable vendor is a network error.
		s.vendor.Close()
		if _, r, err := s.svc.Test(s.ctx, c.ID); err != nil || r.Outcome != patchbay.TestNetworkError {
			t.Fatalf("vendor down: %v %+v", err, r)
		}
	})
}

func TestPauseResume(t *testing.T) {
	forEngine(t, func(t *testing.T, s *setup) {
		c := s.connectKey("key-pause")
		if _, _, err := s.svc.Resume(s.ctx, c.ID); patchbay.ErrorCode(err) != patchbay.ECONFLICT {
			t.Fatalf("resume of an active connection: %v", err)
		}
		p, err := s.svc.Pause(s.ctx, c.ID)
		if err != nil || p.State != patchbay.StatePaused {
			t.Fatalf("pause: %v %+v", err, p)
		}
		if list, _ := s.svc.Usable(s.ctx, nil, nil); len(list) != 0 {
			t.Fatal("paused connection offered by pickers")
		}
		// A test while paused records the outcome and stays paused.
		if got, _, _ := s.svc.Test(s.ctx, c.ID); got.State != patchbay.StatePaused {
			t.Fatalf("test unpaused the connection: %s", got.State)
		}
		// Resume tests first; a failed test lands in error.
		s.vendor.FailNext(1, 500)
		got, r, err := s.svc.Resume(s.ctx, c.ID)
		if err != nil || got.State != patchbay.StateError || r.Outcome != patchbay.TestVendorError {
			t.Fatalf("failed resume: %v %s %+v", err, got.State, r)
		}
		// From error, a passing test brings it back.
		if got, _, _ = s.svc.Test(s.ctx, c.ID); got.State != patchbay.StateActive {
			t.Fatalf("test after fix: %s", got.State)
		}
		if _, err := s.svc.Pause(s.ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if got, _, err = s.svc.Resume(s.ctx, c.ID); err != nil || got.State != patchbay.StateActive {
			t.Fatalf("resume: %v %s", err, got.State)
		}
		// Disconnect keeps the row and its history, removes the credential.
		d, revocation, err := s.svc.Disconnect(s.ctx, c.ID)
		if err != nil || d.State != patchbay.StateDisconnected || d.Credential != "" || revocation != "not_supported" {
			t.Fatalf("disconnect: %v %+v %s", err, d, revocation)
		}
		if _, _, err := s.svc.Test(s.ctx, c.ID); patchbay.ErrorCode(err) != patchbay.ECONFLICT {
			t.Fatalf("test after disconnect: %v", err)
		}
		acts, _, _ := s.store.ListActivity(context.Background(), s.org.Org.ID, patchbay.ActivityFilter{TargetID: c.ID, Page: patchbay.Page{Limit: 100}})
		seen := map[string]bool{}
		for _, a := range acts {
			seen[a.Action] = true
		}
		for _, action := range []string{"connection.create", "connection.pause", "connection.resume", "connection.test", "connection.disconnect"} {
			if !seen[action] {
				t.Errorf("no %s in the activity log", action)
			}
		}
		rep, err := s.store.ReportConnections(context.Background(), s.org.Org.ID, s.clock.Now())
		if err != nil || rep.ByState[patchbay.StateActive] != 0 {
			t.Fatalf("report after disconnect: %+v %v", rep, err)
		}
	})
}

func TestSignedToken(t *testing.T) {
	forEngine(t, func(t *testing.T, s *setup) {
		cat, err := s.catalogWithReal("webhook_generic")
		if err != nil {
			t.Fatal(err)
		}
		svc := s.newService(cat)
		if _, err := svc.Create(s.ctx, connection.CreateRequest{Connector: "webhook_generic"}); patchbay.ErrorCode(err) != patchbay.EINVALID {
			t.Fatalf("without its URL: %v", err)
		}
		res, err := svc.Create(s.ctx, connection.CreateRequest{Connector: "webhook_generic",
			Fields: map[string]string{"url": "https://receiver.example/hooks"}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(res.Secret, "whsec_") || strings.Contains(res.Connection.Credential, res.Secret) ||
			res.Connection.AuthMode != patchbay.AuthSignedToken || res.Connection.Config["url"] != "https://receiver.example/hooks" {
			t.Fatalf("signed token %+v", res)
		}
	})
}

func TestClientCredentials(t *testing.T) {
	forEngine(t, func(t *testing.T, s *setup) {
		svc := s.newService(s.catalogWith(func(c *patchbay.Connector) {
			c.Slug, c.AuthModes = "fakecc", []patchbay.AuthMode{patchbay.AuthOAuth2ClientCredentials}
			c.Fields = []patchbay.Field{{Name: "client_id", Label: "Client id", Required: true},
				{Name: "client_secret", Label: "Client secret", Secret: true, Required: true}}
		}))
		res, err := svc.Create(s.ctx, connection.CreateRequest{Connector: "fakecc", Scopes: []string{"profile"},
			Fields: map[string]string{"client_id": fakevendor.DefaultClientID, "client_secret": fakevendor.DefaultClientSecret}})
		if err != nil {
			t.Fatal(err)
		}
		c := res.Connection
		if c.AuthMode != patchbay.AuthOAuth2ClientCredentials || c.ExpiresAt == nil || c.RefreshToken != "" ||
			strings.Contains(c.Credential, fakevendor.DefaultClientSecret) {
			t.Fatalf("client credentials connection %+v", c)
		}
		// On expiry a new token is fetched with the stored client secret.
		before := s.vendor.TokenRequests()
		s.clock.Advance(time.Until(*c.ExpiresAt))
		got, r, err := svc.Test(s.ctx, c.ID)
		if err != nil || r.Outcome != patchbay.TestConnected || s.vendor.TokenRequests() != before+1 || !got.ExpiresAt.After(*c.ExpiresAt) {
			t.Fatalf("re-fetch on expiry: %v %+v, %d token requests", err, r, s.vendor.TokenRequests()-before)
		}
		if _, err := svc.Create(s.ctx, connection.CreateRequest{Connector: "fakecc",
			Fields: map[string]string{"client_id": fakevendor.DefaultClientID, "client_secret": "wrong"}}); patchbay.ErrorCode(err) != patchbay.EINVALID {
			t.Fatalf("wrong client secret: %v", err)
		}
	})
}
