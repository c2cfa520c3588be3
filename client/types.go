package client

import "time"

// ErrorBody is the body of every error response: {"error":{"code","message"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong. Code is one of a small fixed set
// ("invalid", "not_found", "conflict", "unauthorized", "forbidden",
// "rate_limited", "too_large", "not_allowed", "unsupported_media_type",
// "insufficient_scope", "unavailable", "internal");
// Message is meant for people; Details lists individual validation problems.
type ErrorDetail struct {
	Code    string   `json:"code" doc:"Machine-readable error code."`
	Message string   `json:"message" doc:"Human-readable explanation."`
	Details []string `json:"details,omitempty" doc:"Individual problems, for validation errors."`
}

// List is one page of a list. NextCursor, when not empty, is passed as the
// cursor query parameter to fetch the following page.
type List[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor,omitempty" doc:"Cursor of the next page; absent on the last page."`
}

// Me describes the caller.
type Me struct {
	OrgID        string   `json:"org_id"`
	OrgName      string   `json:"org_name"`
	ActorType    string   `json:"actor_type" enum:"user,api_key"`
	ActorID      string   `json:"actor_id"`
	ActorName    string   `json:"actor_name"`
	RoleID       string   `json:"role_id"`
	Capabilities []string `json:"capabilities"`
}

// APIKey describes an API key. The secret is never part of it.
type APIKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix" doc:"Public start of the key, to recognise it."`
	RoleID     string     `json:"role_id"`
	Scopes     []string   `json:"scopes" doc:"When not empty, the key holds only these of its role's capabilities."`
	RateLimit  int        `json:"rate_limit" doc:"Requests per minute."`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// CreateAPIKeyRequest creates an API key.
type CreateAPIKeyRequest struct {
	Name      string     `json:"name" maxLength:"200" doc:"What the key is for."`
	RoleID    string     `json:"role_id,omitempty" doc:"Role whose capabilities the key holds; the caller's own role by default."`
	Scopes    []string   `json:"scopes,omitempty" doc:"Narrow the role to these capabilities."`
	RateLimit int        `json:"rate_limit,omitempty" doc:"Requests per minute; 1200 by default."`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// CreatedAPIKey is the answer to a create: the key's description and, this
// once only, the secret itself.
type CreatedAPIKey struct {
	APIKey
	Key string `json:"key" doc:"The secret key. Shown once; store it now."`
}

// User describes a user. The password hash is never part of it.
type User struct {
	ID                 string     `json:"id"`
	Email              string     `json:"email"`
	Name               string     `json:"name"`
	RoleID             string     `json:"role_id"`
	MustChangePassword bool       `json:"must_change_password"`
	LastLoginAt        *time.Time `json:"last_login_at,omitempty"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
}

// CreateUserRequest creates a user.
type CreateUserRequest struct {
	Email    string `json:"email" maxLength:"254"`
	Name     string `json:"name,omitempty" maxLength:"200"`
	RoleID   string `json:"role_id"`
	Password string `json:"password,omitempty" doc:"Initial password; generated (and shown once) when absent."`
}

// CreatedUser is the answer to a create; Password is set, this once only,
// when Patchbay generated it.
type CreatedUser struct {
	User
	Password string `json:"password,omitempty" doc:"Generated password, shown once; to be changed at first login."`
}

// UpdateUserRequest changes a user; absent fields are left as they are.
type UpdateUserRequest struct {
	Name   *string `json:"name,omitempty" maxLength:"200"`
	RoleID *string `json:"role_id,omitempty"`
}

// Role describes a role: built-in (administrator, editor, viewer) or custom.
type Role struct {
	ID           string     `json:"id"`
	Name         string     `json:"name"`
	Description  string     `json:"description"`
	Capabilities []string   `json:"capabilities"`
	Builtin      bool       `json:"builtin"`
	CreatedAt    *time.Time `json:"created_at,omitempty"`
	UpdatedAt    *time.Time `json:"updated_at,omitempty"`
}

// RoleRequest creates or replaces a custom role.
type RoleRequest struct {
	Name         string   `json:"name" maxLength:"100"`
	Description  string   `json:"description,omitempty" maxLength:"1000"`
	Capabilities []string `json:"capabilities"`
}

// Activity is one entry of the activity (audit) log.
type Activity struct {
	ID         string         `json:"id"`
	ActorType  string         `json:"actor_type"`
	ActorID    string         `json:"actor_id"`
	ActorName  string         `json:"actor_name"`
	Action     string         `json:"action"`
	TargetType string         `json:"target_type"`
	TargetID   string         `json:"target_id"`
	Outcome    string         `json:"outcome"`
	Detail     map[string]any `json:"detail,omitempty"`
	CreatedAt  time.Time      `json:"created_at"`
}

// ActivityQuery filters the activity log.
type ActivityQuery struct {
	Actor      string // actor id
	Action     string // exact, or a prefix ending in ".*"
	TargetType string
	TargetID   string
	Since      time.Time // inclusive; zero for no bound
	Until      time.Time // exclusive; zero for no bound
	Cursor     string
	Limit      int
}
