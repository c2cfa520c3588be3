package patchbay

// AuthMode is how a connection proves itself to a vendor.
type AuthMode string

// The auth modes a connector can declare.
const (
	// AuthOAuth2 is the OAuth 2.0 authorization-code grant, with PKCE
	// where the vendor supports it.
	AuthOAuth2 AuthMode = "oauth2"
	// AuthOAuth2ClientCredentials is the OAuth 2.0 client-credentials grant.
	AuthOAuth2ClientCredentials AuthMode = "oauth2_client_credentials"
	// AuthAPIKey is a static key the operator pastes in.
	AuthAPIKey AuthMode = "api_key"
	// AuthBasic is a user name and password (or key and secret) pair.
	AuthBasic AuthMode = "basic"
	// AuthSignedToken is a secret Patchbay generates and shows once; the
	// operator registers it with the receiver, which verifies signatures.
	AuthSignedToken AuthMode = "signed_token"
)

// AuthModes lists every auth mode.
var AuthModes = []AuthMode{AuthOAuth2, AuthOAuth2ClientCredentials, AuthAPIKey, AuthBasic, AuthSignedToken}

// Connector families. A family groups connectors that share a purpose; the
// payment family needs CapManagePaymentCredentials on top of the usual
// capabilities.
const (
	FamilyGoogle    = "google"
	FamilyEmail     = "email"
	FamilyPayment   = "payment"
	FamilyWebhook   = "webhook"
	FamilyAnalytics = "analytics"
	FamilyCRM       = "crm"
	FamilyMessaging = "messaging"
	FamilyDev       = "dev"
	FamilyCommerce  = "commerce"
	FamilyStorage   = "storage"
	FamilySupport   = "support"
)

// Families lists every family.
var Families = []string{FamilyGoogle, FamilyEmail, FamilyPayment, FamilyWebhook, FamilyAnalytics, FamilyCRM,
	FamilyMessaging, FamilyDev, FamilyCommerce, FamilyStorage, FamilySupport}

// Connector is a catalog entry: everything Patchbay needs to know to
// connect to one vendor, declared as data (internal/connector/catalog) and
// shared by every org.
type Connector struct {
	Slug        string     `json:"slug"`        // stable id, e.g. "google_analytics"
	Name        string     `json:"name"`        // display name
	Family      string     `json:"family"`      // one of Families
	Description string     `json:"description"` // one sentence for the connector library
	DocsURL     string     `json:"docs_url"`    // the vendor's API documentation
	AuthModes   []AuthMode `json:"auth_modes"`  // supported modes, preferred first
	OAuth       *OAuthSpec `json:"oauth,omitempty"`
	// Fields is the credential form for api_key and basic modes (and any
	// extra per-connection settings such as a Shopify shop domain).
	Fields []Field `json:"fields,omitempty"`
	// API says where the vendor's API is and how a credential is attached.
	API APISpec `json:"api"`
	// Verify is the low-cost call that tests a credential without changing
	// anything at the vendor, and where the account id is in its answer.
	Verify *VerifySpec `json:"verify,omitempty"`
	// Webhooks describes how the vendor signs the webhooks it sends, when
	// it sends any.
	Webhooks *WebhookSpec `json:"webhooks,omitempty"`
	// RateLimit holds hints for callers; zero values mean unknown.
	RateLimit RateLimitHint `json:"rate_limit,omitempty"`
	// Lists declares list endpoints with pagination, one per entity type,
	// that Patchbay can pull records from itself.
	Lists []ListSpec `json:"lists,omitempty"`
}

// List returns the list endpoint declared for an entity type, or nil.
func (c *Connector) List(entity string) *ListSpec {
	for i := range c.Lists {
		if c.Lists[i].Entity == entity {
			return &c.Lists[i]
		}
	}
	return nil
}

// Pagination styles of a list endpoint.
const (
	// PageAfterID asks for the page after a record: CursorParam carries the
	// last record's id while HasMoreField is true (Stripe's starting_after).
	PageAfterID = "after_id"
	// PageNextCursor follows an opaque cursor the answer carries in
	// NextCursorField; the last page has none (HubSpot's paging.next.after).
	PageNextCursor = "next_cursor"
)

// ListSpec declares a vendor endpoint that lists one entity type, oldest
// first, page by page.
type ListSpec struct {
	Entity string `json:"entity"` // entity type, e.g. "customers"
	Path   string `json:"path"`   // GET path relative to api.base_url; may hold a query
	// ItemsField is the dotted path to the array of records in an answer;
	// IDField the dotted path to a record's id within it.
	ItemsField string `json:"items_field"`
	IDField    string `json:"id_field"`
	// Pagination is PageAfterID or PageNextCursor.
	Pagination string `json:"pagination"`
	// CursorParam is the query parameter that carries the position.
	CursorParam     string `json:"cursor_param"`
	HasMoreField    string `json:"has_more_field,omitempty"`    // for after_id
	NextCursorField string `json:"next_cursor_field,omitempty"` // for next_cursor
	// LimitParam and PageSize ask for pages of PageSize records.
	LimitParam string `json:"limit_param,omitempty"`
	PageSize   int    `json:"page_size,omitempty"`
}

// IsPayment reports whether connecting needs CapManagePaymentCredentials.
func (c *Connector) IsPayment() bool { return c.Family == FamilyPayment }

// Supports reports whether the connector offers an auth mode.
func (c *Connector) Supports(m AuthMode) bool {
	for _, have := range c.AuthModes {
		if have == m {
			return true
		}
	}
	return false
}

// OAuthSpec declares a vendor's OAuth 2.0 endpoints and behaviour.
type OAuthSpec struct {
	AuthorizationURL string `json:"authorization_url"`
	TokenURL         string `json:"token_url"`
	// RevocationURL is the RFC 7009 endpoint; empty when the vendor has none.
	RevocationURL string `json:"revocation_url,omitempty"`
	// PKCE is "S256" when the vendor supports PKCE, "" when it does not.
	PKCE string `json:"pkce,omitempty"`
	// ScopeSeparator joins scopes in the authorization URL; " " by default.
	ScopeSeparator string `json:"scope_separator,omitempty"`
	// DefaultScopes are requested when the operator picks none.
	DefaultScopes []string `json:"default_scopes,omitempty"`
	// Scopes lists every scope the vendor offers that Patchbay knows of.
	Scopes []Scope `json:"scopes,omitempty"`
	// AuthParams are extra authorization-URL parameters (Google's
	// access_type=offline and prompt=consent, for instance).
	AuthParams map[string]string `json:"auth_params,omitempty"`
	// TokenAuth is how the client authenticates to the token endpoint:
	// "basic" (HTTP Basic) or "body" (client_id/client_secret in the form);
	// empty lets the OAuth library find out.
	TokenAuth string `json:"token_auth,omitempty"`
	// RefreshTokenRotates is true when every refresh returns a new refresh
	// token and invalidates the old one.
	RefreshTokenRotates bool `json:"refresh_token_rotates,omitempty"`
}

// Scope is one OAuth scope a vendor offers.
type Scope struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Field is one input of a connector's credential form.
type Field struct {
	Name        string `json:"name"`  // key in the credential, e.g. "api_key"
	Label       string `json:"label"` // shown to the operator
	Secret      bool   `json:"secret,omitempty"`
	Required    bool   `json:"required,omitempty"`
	Pattern     string `json:"pattern,omitempty"` // a Go regexp the value must match, anchored
	Placeholder string `json:"placeholder,omitempty"`
	Help        string `json:"help,omitempty"`
}

// APISpec says where a vendor's API lives and how a credential is sent.
type APISpec struct {
	// BaseURL is the API's root; it may hold {field} placeholders filled
	// from the connection's fields (e.g. "https://{shop}.myshopify.com").
	BaseURL string `json:"base_url"`
	// Auth is how the credential is attached to a request.
	Auth AuthInjection `json:"auth"`
	// Headers are sent with every request (API versions, for instance).
	Headers map[string]string `json:"headers,omitempty"`
	// IdempotencyHeader names the request header in which the vendor
	// accepts an idempotency key (Stripe: Idempotency-Key); empty when it
	// takes none. The proxy forwards a caller's key in it.
	IdempotencyHeader string `json:"idempotency_header,omitempty"`
}

// AuthInjection describes how a credential is attached to a request.
type AuthInjection struct {
	// Type is "bearer" (Authorization: Bearer <token>), "header" (a named
	// header), "query" (a named query parameter), "basic" (HTTP Basic from
	// the username/password fields) or "none".
	Type string `json:"type"`
	// Name is the header or query parameter for "header" and "query".
	Name string `json:"name,omitempty"`
	// Format formats the value, with {token} or {field} placeholders,
	// e.g. "Token token={api_key}"; "{token}" by default.
	Format string `json:"format,omitempty"`
	// Username and Password are the fields (or literal values) used for
	// "basic", with {field} placeholders, e.g. "{api_key}" and "".
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// VerifySpec is the low-cost, read-only call that tests a credential.
type VerifySpec struct {
	Method string `json:"method"` // GET unless the vendor's whoami needs POST
	Path   string `json:"path"`   // relative to the API base URL, or absolute
	// AccountID and AccountName are dotted paths into the JSON answer
	// ("data.id", "account.name"); AccountID may be empty when the answer
	// carries no id.
	AccountID   string `json:"account_id,omitempty"`
	AccountName string `json:"account_name,omitempty"`
	// RequiredScopes are scopes the verification call itself needs.
	RequiredScopes []string `json:"required_scopes,omitempty"`
}

// WebhookSpec describes how a vendor signs the webhooks it sends.
type WebhookSpec struct {
	// Scheme is one of "stripe", "github", "slack", "shopify",
	// "standard_webhooks", "hmac_sha256" (hex HMAC in Header).
	Scheme string `json:"scheme"`
	// Header carries the signature for "hmac_sha256".
	Header string `json:"header,omitempty"`
	// EventTypeHeader / EventTypeField say where the event type is.
	EventTypeHeader string `json:"event_type_header,omitempty"`
	EventTypeField  string `json:"event_type_field,omitempty"`
	// DeliveryIDHeader / DeliveryIDField say where the delivery id is.
	DeliveryIDHeader string `json:"delivery_id_header,omitempty"`
	DeliveryIDField  string `json:"delivery_id_field,omitempty"`
	// ToleranceSeconds bounds timestamp age where the scheme has one.
	ToleranceSeconds int `json:"tolerance_seconds,omitempty"`
}

// RateLimitHint tells callers how hard a vendor may be called.
type RateLimitHint struct {
	RequestsPerSecond float64 `json:"requests_per_second,omitempty"`
	// RetryAfterHeader names the header holding the wait on 429, when it is
	// not Retry-After.
	RetryAfterHeader string `json:"retry_after_header,omitempty"`
}
