package client

import "time"

// Connector is a connector catalog entry, as the library shows it.
type Connector struct {
	Slug          string      `json:"slug"`
	Name          string      `json:"name"`
	Family        string      `json:"family"`
	Description   string      `json:"description"`
	DocsURL       string      `json:"docs_url"`
	AuthModes     []string    `json:"auth_modes"`
	Scopes        []ScopeInfo `json:"scopes,omitempty"`
	DefaultScopes []string    `json:"default_scopes,omitempty"`
	PKCE          bool        `json:"pkce"`
	Revocable     bool        `json:"revocable" doc:"Disconnect revokes the grant at the vendor."`
	Fields        []FieldInfo `json:"fields,omitempty"`
	Webhooks      string      `json:"webhook_scheme,omitempty"`
	Payment       bool        `json:"payment" doc:"Connecting needs the manage_payment_credentials capability."`
}

// ScopeInfo is one OAuth scope a connector offers.
type ScopeInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// FieldInfo is one input of a connector's credential form.
type FieldInfo struct {
	Name        string `json:"name"`
	Label       string `json:"label"`
	Secret      bool   `json:"secret"`
	Required    bool   `json:"required"`
	Pattern     string `json:"pattern,omitempty"`
	Placeholder string `json:"placeholder,omitempty"`
	Help        string `json:"help,omitempty"`
}

// Connection is an org's link to a vendor. Its credential is never part
// of it.
type Connection struct {
	ID                  string            `json:"id"`
	Connector           string            `json:"connector"`
	DisplayName         string            `json:"display_name"`
	State               string            `json:"state" enum:"active,paused,auth_expired,auth_revoked,error,disconnected"`
	AuthMode            string            `json:"auth_mode"`
	VendorAccountID     string            `json:"vendor_account_id"`
	VendorAccountName   string            `json:"vendor_account_name"`
	Scopes              []string          `json:"scopes"`
	Config              map[string]string `json:"config,omitempty" doc:"Non-secret settings, such as a shop domain."`
	ExpiresAt           *time.Time        `json:"expires_at,omitempty" doc:"When the access credential expires; it is refreshed before."`
	LastTestAt          *time.Time        `json:"last_test_at,omitempty"`
	LastTestOutcome     string            `json:"last_test_outcome,omitempty"`
	LastTestDetail      string            `json:"last_test_detail,omitempty"`
	Health              string            `json:"health" enum:"healthy,degraded,failing,disabled"`
	ConsecutiveFailures int               `json:"consecutive_failures"`
	LastDeliveryAt      *time.Time        `json:"last_delivery_at,omitempty"`
	OperatorOfRecord    string            `json:"operator_of_record"`
	CreatedAt           time.Time         `json:"created_at"`
	UpdatedAt           time.Time         `json:"updated_at"`
	DisconnectedAt      *time.Time        `json:"disconnected_at,omitempty"`
}

// TestResult is the outcome of a connection test.
type TestResult struct {
	Outcome       string   `json:"outcome" enum:"connected,credential_expired,credential_revoked,scope_insufficient,vendor_error,network_error"`
	AccountID     string   `json:"account_id,omitempty"`
	AccountName   string   `json:"account_name,omitempty"`
	MissingScopes []string `json:"missing_scopes,omitempty"`
	VendorStatus  int      `json:"vendor_status,omitempty"`
	Detail        string   `json:"detail"`
}

// CreateConnectionRequest creates a connection with an API key, basic
// credentials, client credentials or a generated signed token.
type CreateConnectionRequest struct {
	Connector   string            `json:"connector"`
	AuthMode    string            `json:"auth_mode,omitempty" doc:"The connector's first non-OAuth mode by default."`
	DisplayName string            `json:"display_name,omitempty" maxLength:"200"`
	Fields      map[string]string `json:"fields,omitempty" doc:"The connector's form fields; secret ones are sealed and never shown again."`
	Scopes      []string          `json:"scopes,omitempty"`
}

// ConnectionResult is a connection with the test that accompanied an
// action on it. Secret is set once only, for a new signed-token connection;
// Revocation says how revoking at the vendor went on disconnect.
type ConnectionResult struct {
	Connection Connection  `json:"connection"`
	Test       *TestResult `json:"test,omitempty"`
	Secret     string      `json:"secret,omitempty" doc:"Generated signing secret, shown once."`
	Revocation string      `json:"revocation,omitempty"`
}

// AuthorizeRequest starts an OAuth connection.
type AuthorizeRequest struct {
	Connector   string            `json:"connector"`
	Scopes      []string          `json:"scopes,omitempty" doc:"The connector's default scopes when empty."`
	DisplayName string            `json:"display_name,omitempty" maxLength:"200"`
	Config      map[string]string `json:"config,omitempty" doc:"Non-secret fields the vendor's URLs need, such as a Shopify shop."`
	ReturnTo    string            `json:"return_to,omitempty" doc:"Where the callback sends the operator: a path on Patchbay or a URL under its public URL."`
}

// ScopesRequest re-authorizes a connection with a new scope set.
type ScopesRequest struct {
	Scopes   []string `json:"scopes" minItems:"1"`
	ReturnTo string   `json:"return_to,omitempty"`
}

// Authorization is a started OAuth flow: send the operator to URL.
type Authorization struct {
	URL       string    `json:"authorization_url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// OAuthClient is an org's OAuth client registration for one connector.
// The secret is never part of it.
type OAuthClient struct {
	Connector string    `json:"connector"`
	ClientID  string    `json:"client_id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// OAuthClientRequest sets an org's OAuth client for a connector.
type OAuthClientRequest struct {
	ClientID     string `json:"client_id" minLength:"1" maxLength:"500"`
	ClientSecret string `json:"client_secret" minLength:"1" maxLength:"2000"`
}

// ConnectionsReport counts an org's connections.
type ConnectionsReport struct {
	ActiveByConnector map[string]int `json:"active_by_connector"`
	ByState           map[string]int `json:"by_state"`
	Tokens            TokenReport    `json:"tokens"`
}

// TokenReport counts credentials by expiry.
type TokenReport struct {
	Expired      int `json:"expired"`
	ExpiringSoon int `json:"expiring_within_7_days"`
	Valid        int `json:"valid"`
	NoExpiry     int `json:"no_expiry"`
}
