// Package connection runs the connections plane: connect flows (OAuth 2.0
// code + PKCE, client credentials, API key, basic, signed token), tests,
// pause / resume / disconnect, scope edits, and token refresh exactly once
// per expiry across callers and replicas.
//
// Credentials are sealed with internal/secret as soon as they arrive and
// opened only for the call that needs them; nothing here returns, logs or
// wraps a cleartext credential in an error.
package connection

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/secret"
)

// Catalog finds connectors; *connector.Catalog implements it.
type Catalog interface {
	Get(slug string) (*patchbay.Connector, bool)
}

// Config configures a Service.
type Config struct {
	Store   patchbay.Store
	Catalog Catalog
	Ring    *secret.Ring
	// PublicURL is where vendors reach Patchbay; the OAuth redirect URI is
	// PublicURL + "/oauth/callback".
	PublicURL string
	// HTTPClient makes every vendor call; a client with a 30 s timeout
	// when nil.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
}

// Service is the connections plane.
type Service struct {
	store   patchbay.Store
	catalog Catalog
	ring    *secret.Ring
	public  string
	client  *http.Client
	logger  *slog.Logger
	now     func() time.Time

	// RefreshSkew is how long before expiry a credential is refreshed.
	RefreshSkew time.Duration
	// RefreshLease bounds how long one caller may hold a refresh.
	RefreshLease time.Duration
	// StateTTL is how long an authorization flow may take.
	StateTTL time.Duration

	stop chan struct{}
	done chan struct{}
}

// New returns a Service.
func New(cfg Config) *Service {
	s := &Service{store: cfg.Store, catalog: cfg.Catalog, ring: cfg.Ring, public: strings.TrimRight(cfg.PublicURL, "/"),
		client: cfg.HTTPClient, logger: cfg.Logger, now: cfg.Now,
		RefreshSkew: 2 * time.Minute, RefreshLease: 30 * time.Second, StateTTL: 15 * time.Minute}
	if s.client == nil {
		s.client = &http.Client{Timeout: 30 * time.Second}
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.now == nil {
		s.now = patchbay.Now
	}
	return s
}

// RedirectURI is the OAuth callback vendors send operators back to.
func (s *Service) RedirectURI() string { return s.public + "/oauth/callback" }

// connector returns the catalog entry of slug or EINVALID.
func (s *Service) connector(slug string) (*patchbay.Connector, error) {
	c, ok := s.catalog.Get(slug)
	if !ok {
		return nil, patchbay.Errorf(patchbay.EINVALID, "Unknown connector %q.", slug)
	}
	return c, nil
}

// credential is the cleartext inside a connection's sealed Credential.
type credential struct {
	AccessToken string            `json:"access_token,omitempty"`
	TokenType   string            `json:"token_type,omitempty"`
	Fields      map[string]string `json:"fields,omitempty"`
}

var (
	credentialColumn   = patchbay.SealedColumn{Table: "connections", Column: "credential", Key: "id"}
	refreshColumn      = patchbay.SealedColumn{Table: "connections", Column: "refresh_token", Key: "id"}
	clientSecretColumn = patchbay.SealedColumn{Table: "oauth_clients", Column: "client_secret", Key: "id"}
	verifierColumn     = patchbay.SealedColumn{Table: "oauth_states", Column: "code_verifier", Key: "state"}
)

// seal encrypts a value for one column of one row.
func (s *Service) seal(col patchbay.SealedColumn, rowKey, plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	return s.ring.Seal([]byte(plain), col.AssociatedData(rowKey))
}

// open decrypts a value sealed by seal.
func (s *Service) open(col patchbay.SealedColumn, rowKey, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	b, err := s.ring.Open(sealed, col.AssociatedData(rowKey))
	if err != nil {
		return "", &patchbay.Error{Code: patchbay.EINTERNAL, Message: "A stored credential cannot be decrypted.",
			Err: err}
	}
	return string(b), nil
}

func (s *Service) sealCredential(c *patchbay.Connection, cred credential) error {
	b, err := json.Marshal(cred)
	if err != nil {
		return err
	}
	c.Credential, err = s.seal(credentialColumn, c.ID, string(b))
	return err
}

func (s *Service) openCredential(c *patchbay.Connection) (credential, error) {
	var cred credential
	plain, err := s.open(credentialColumn, c.ID, c.Credential)
	if err != nil || plain == "" {
		return cred, err
	}
	return cred, json.Unmarshal([]byte(plain), &cred)
}

// audit records an action on a connection in the activity log.
func (s *Service) audit(ctx context.Context, tx patchbay.Store, action string, c *patchbay.Connection, outcome string, detail map[string]any) error {
	a := patchbay.NewActivity(ctx, action, "connection", c.ID, outcome)
	a.OrgID = c.OrgID
	if detail == nil {
		detail = map[string]any{}
	}
	detail["connector"] = c.ConnectorSlug
	a.Detail = detail
	return tx.RecordActivity(ctx, a)
}

// Get returns a connection of the caller's org.
func (s *Service) Get(ctx context.Context, id string) (*patchbay.Connection, error) {
	return s.store.FindConnection(ctx, patchbay.PrincipalFrom(ctx).OrgID, id)
}

// List returns a page of the caller's org's connections.
func (s *Service) List(ctx context.Context, f patchbay.ConnectionFilter) ([]*patchbay.Connection, string, error) {
	return s.store.ListConnections(ctx, patchbay.PrincipalFrom(ctx).OrgID, f)
}

// Catalog returns the catalog the service uses.
func (s *Service) Catalog() Catalog { return s.catalog }
