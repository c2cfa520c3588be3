package patchbay

import (
	"context"
	"time"
)

// ConnectionState is the observed state of a connection: refreshes, tests
// and deliveries move it; pause and resume are the only manual overrides.
type ConnectionState string

// Connection states (the state diagram of seed 002, plus disconnected: the
// credential is gone but the row stays so history keeps its references).
const (
	StateActive       ConnectionState = "active"
	StatePaused       ConnectionState = "paused"
	StateAuthExpired  ConnectionState = "auth_expired"
	StateAuthRevoked  ConnectionState = "auth_revoked"
	StateError        ConnectionState = "error"
	StateDisconnected ConnectionState = "disconnected"
)

// ConnectionStates lists every state.
var ConnectionStates = []ConnectionState{StateActive, StatePaused, StateAuthExpired, StateAuthRevoked, StateError, StateDisconnected}

// Health summarises recent failures of a connection.
type Health string

// Health levels, by consecutive failures (see HealthFor).
const (
	HealthHealthy  Health = "healthy"
	HealthDegraded Health = "degraded"
	HealthFailing  Health = "failing"
	HealthDisabled Health = "disabled"
)

// Thresholds of consecutive failures for each health level.
const (
	DegradedAfter = 1
	FailingAfter  = 3
	DisabledAfter = 10
)

// HealthFor returns the health for a count of consecutive failures.
func HealthFor(consecutiveFailures int) Health {
	switch {
	case consecutiveFailures >= DisabledAfter:
		return HealthDisabled
	case consecutiveFailures >= FailingAfter:
		return HealthFailing
	case consecutiveFailures >= DegradedAfter:
		return HealthDegraded
	}
	return HealthHealthy
}

// TestOutcome is the answer of a connection test.
type TestOutcome string

// The six outcomes of a test.
const (
	TestConnected         TestOutcome = "connected"
	TestCredentialExpired TestOutcome = "credential_expired"
	TestCredentialRevoked TestOutcome = "credential_revoked"
	TestScopeInsufficient TestOutcome = "scope_insufficient"
	TestVendorError       TestOutcome = "vendor_error"
	TestNetworkError      TestOutcome = "network_error"
)

// Connection is one org's live link to one vendor. Credential and
// RefreshToken hold sealed values (internal/secret): they are opened only
// when used, and never shown.
type Connection struct {
	ID                string
	OrgID             string
	ConnectorSlug     string
	DisplayName       string
	State             ConnectionState
	AuthMode          AuthMode
	VendorAccountID   string
	VendorAccountName string
	Scopes            []string
	// Config holds the connector's non-secret fields (a shop domain, a
	// webhook URL).
	Config map[string]string

	Credential   string // sealed; empty once disconnected
	RefreshToken string // sealed; empty when the vendor issues none
	ExpiresAt    *time.Time

	LastTestAt          *time.Time
	LastTestOutcome     TestOutcome
	LastTestDetail      string
	Health              Health
	ConsecutiveFailures int
	LastDeliveryAt      *time.Time
	OperatorOfRecord    string // actor that created the connection
	CreatedAt           time.Time
	UpdatedAt           time.Time
	DisconnectedAt      *time.Time
}

// Usable reports whether the connection may be offered in pickers and used
// for calls: active, and not failing.
func (c *Connection) Usable() bool {
	return c.State == StateActive && (c.Health == HealthHealthy || c.Health == HealthDegraded || c.Health == "")
}

// MissingScopes returns the scopes of want the connection does not hold.
func (c *Connection) MissingScopes(want []string) []string {
	held := map[string]bool{}
	for _, s := range c.Scopes {
		held[s] = true
	}
	var missing []string
	for _, s := range want {
		if !held[s] {
			missing = append(missing, s)
		}
	}
	return missing
}

// ConnectionFilter selects connections of one org.
type ConnectionFilter struct {
	// Slugs restricts the list to these connectors (a family, resolved by
	// the caller from the catalog).
	Slugs []string
	State ConnectionState
	Query string // free text on display name, connector and account
	// IncludeDisconnected lists disconnected connections too.
	IncludeDisconnected bool
	Page
}

// OAuthClient is the OAuth client registration Patchbay uses for one
// connector: an org's own, or a platform-wide one (empty OrgID) that every
// org without its own shares.
type OAuthClient struct {
	ID            string
	OrgID         string
	ConnectorSlug string
	ClientID      string
	ClientSecret  string // sealed
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// OAuthState is an authorization flow in progress. It is found by the hash
// of the state parameter sent to the vendor, used once, and expires.
type OAuthState struct {
	StateHash     string
	OrgID         string
	ConnectorSlug string
	ConnectionID  string // set when re-authorizing an existing connection
	CodeVerifier  string // sealed PKCE verifier
	RedirectURI   string
	Scopes        []string
	DisplayName   string
	Config        map[string]string
	ReturnTo      string
	Actor         string
	ActorName     string
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

// ConnectionReport counts an org's connections for the reports of seed 000.
type ConnectionReport struct {
	// ActiveByConnector counts active connections per connector slug.
	ActiveByConnector map[string]int
	// ByState counts connections per state (disconnected excluded).
	ByState map[ConnectionState]int
	// Tokens counts connections with an expiring credential.
	TokensExpired      int
	TokensExpiringSoon int // within 7 days
	TokensValid        int
	TokensNoExpiry     int
}

// ConnectionStore stores connections, OAuth clients and OAuth states.
type ConnectionStore interface {
	// CreateConnection stores c; it keeps a preset ID (sealed values are
	// bound to it) and fills timestamps.
	CreateConnection(ctx context.Context, c *Connection) error
	// FindConnection returns a connection of the org or ENOTFOUND.
	FindConnection(ctx context.Context, orgID, id string) (*Connection, error)
	// LockConnection is FindConnection that, inside WithTx, keeps other
	// writers of the row waiting until the transaction ends.
	LockConnection(ctx context.Context, orgID, id string) (*Connection, error)
	// ListConnections returns a page of the org's connections, newest first.
	ListConnections(ctx context.Context, orgID string, f ConnectionFilter) ([]*Connection, string, error)
	// UpdateConnection saves every mutable field of c.
	UpdateConnection(ctx context.Context, c *Connection) error
	// ClaimRefresh takes the refresh lease of a connection, if nobody holds
	// a live one and its credential still expires at expiresAt (so a
	// refresh that already happened is not repeated). It reports whether
	// the lease is now claim's, until until.
	ClaimRefresh(ctx context.Context, orgID, id string, expiresAt *time.Time, claim string, until time.Time) (bool, error)
	// ReleaseRefresh drops the lease if claim holds it.
	ReleaseRefresh(ctx context.Context, orgID, id, claim string) error
	// ListExpiring returns active connections of every org holding a refresh
	// token whose credential expires before before, soonest first.
	ListExpiring(ctx context.Context, before time.Time, limit int) ([]*Connection, error)
	// ReportConnections counts the org's connections at time now.
	ReportConnections(ctx context.Context, orgID string, now time.Time) (*ConnectionReport, error)

	// SetOAuthClient creates or replaces the client of (OrgID, ConnectorSlug).
	SetOAuthClient(ctx context.Context, c *OAuthClient) error
	// FindOAuthClient returns the org's client for a connector, else the
	// platform-wide one, else ENOTFOUND.
	FindOAuthClient(ctx context.Context, orgID, slug string) (*OAuthClient, error)
	// ListOAuthClients returns the org's own clients.
	ListOAuthClients(ctx context.Context, orgID string) ([]*OAuthClient, error)
	// DeleteOAuthClient removes the org's client for a connector.
	DeleteOAuthClient(ctx context.Context, orgID, slug string) error

	// CreateOAuthState stores a flow in progress.
	CreateOAuthState(ctx context.Context, s *OAuthState) error
	// TakeOAuthState removes and returns the state with that hash, once;
	// ENOTFOUND when it is unknown, used or expired at now.
	TakeOAuthState(ctx context.Context, stateHash string, now time.Time) (*OAuthState, error)
}
