package client

import (
	"context"
	"net/http"
	"net/url"
)

// ListAPIKeysOptions filters ListAPIKeys.
type ListAPIKeysOptions struct {
	IncludeRevoked bool
	ListOptions
}

// ListAPIKeys returns a page of the org's API keys (never their secrets).
func (c *Client) ListAPIKeys(ctx context.Context, opt ListAPIKeysOptions) (*List[APIKey], error) {
	q := opt.values()
	if opt.IncludeRevoked {
		q.Set("include_revoked", "true")
	}
	var out List[APIKey]
	return &out, c.Do(ctx, http.MethodGet, "/v1/api-keys", q, nil, &out)
}

// CreateAPIKey creates an API key; the answer holds the secret, once.
func (c *Client) CreateAPIKey(ctx context.Context, req CreateAPIKeyRequest) (*CreatedAPIKey, error) {
	var out CreatedAPIKey
	return &out, c.Do(ctx, http.MethodPost, "/v1/api-keys", nil, req, &out)
}

// GetAPIKey returns one API key.
func (c *Client) GetAPIKey(ctx context.Context, id string) (*APIKey, error) {
	var out APIKey
	return &out, c.Do(ctx, http.MethodGet, "/v1/api-keys/"+url.PathEscape(id), nil, nil, &out)
}

// RevokeAPIKey revokes an API key at once.
func (c *Client) RevokeAPIKey(ctx context.Context, id string) (*APIKey, error) {
	var out APIKey
	return &out, c.Do(ctx, http.MethodDelete, "/v1/api-keys/"+url.PathEscape(id), nil, nil, &out)
}

// ListUsers returns a page of the org's users.
func (c *Client) ListUsers(ctx context.Context, opt ListOptions) (*List[User], error) {
	var out List[User]
	return &out, c.Do(ctx, http.MethodGet, "/v1/users", opt.values(), nil, &out)
}

// CreateUser creates a user; a generated password is in the answer, once.
func (c *Client) CreateUser(ctx context.Context, req CreateUserRequest) (*CreatedUser, error) {
	var out CreatedUser
	return &out, c.Do(ctx, http.MethodPost, "/v1/users", nil, req, &out)
}

// UpdateUser changes a user's name or role.
func (c *Client) UpdateUser(ctx context.Context, id string, req UpdateUserRequest) (*User, error) {
	var out User
	return &out, c.Do(ctx, http.MethodPatch, "/v1/users/"+url.PathEscape(id), nil, req, &out)
}

// DeleteUser deletes a user.
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodDelete, "/v1/users/"+url.PathEscape(id), nil, nil, nil)
}

// ListRoles returns the built-in and custom roles.
func (c *Client) ListRoles(ctx context.Context) (*List[Role], error) {
	var out List[Role]
	return &out, c.Do(ctx, http.MethodGet, "/v1/roles", nil, nil, &out)
}

// CreateRole creates a custom role.
func (c *Client) CreateRole(ctx context.Context, req RoleRequest) (*Role, error) {
	var out Role
	return &out, c.Do(ctx, http.MethodPost, "/v1/roles", nil, req, &out)
}

// UpdateRole replaces a custom role's name, description and capabilities.
func (c *Client) UpdateRole(ctx context.Context, id string, req RoleRequest) (*Role, error) {
	var out Role
	return &out, c.Do(ctx, http.MethodPut, "/v1/roles/"+url.PathEscape(id), nil, req, &out)
}

// DeleteRole deletes a custom role that no one holds.
func (c *Client) DeleteRole(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodDelete, "/v1/roles/"+url.PathEscape(id), nil, nil, nil)
}

// ListActivity returns a page of the activity log.
func (c *Client) ListActivity(ctx context.Context, q ActivityQuery) (*List[Activity], error) {
	v := ListOptions{Cursor: q.Cursor, Limit: q.Limit}.values()
	setFilled(v, map[string]string{"actor": q.Actor, "action": q.Action,
		"target_type": q.TargetType, "target_id": q.TargetID})
	setTime(v, "since", q.Since)
	setTime(v, "until", q.Until)
	var out List[Activity]
	return &out, c.Do(ctx, http.MethodGet, "/v1/activity", v, nil, &out)
}
