package patchbay

import (
	"context"
	"time"
)

// Store is Patchbay's persistence. internal/sqlite and internal/postgres
// implement it and internal/storetest holds the one suite both must pass.
//
// Every method that reads or changes an org's rows takes the org id and
// filters on it: a row of another org is reported as ENOTFOUND, never
// returned or changed. Methods return ENOTFOUND, ECONFLICT (a unique value
// taken, a row still in use) or EINVALID as *Error; anything else is a
// driver fault.
type Store interface {
	// WithTx runs fn with a Store whose every call belongs to one
	// transaction, committed when fn returns nil and rolled back otherwise.
	// Called on a Store that is already in a transaction, it joins it.
	// fn may run on another goroutine (SQLite's group commit runs queued
	// transactions together); a panic in fn is raised again in the caller.
	WithTx(ctx context.Context, fn func(tx Store) error) error

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error

	OrgStore
	UserStore
	RoleStore
	APIKeyStore
	ActivityStore
	ConnectionStore
	DeliveryStore
	SettingsStore
	MappingStore
	InboundStore
	RequestStore
	SyncStore
	SealedStore
	SessionStore
	DeliveryStatsStore
}

// OrgStore stores orgs.
type OrgStore interface {
	// CreateOrg stores o, filling ID and timestamps.
	CreateOrg(ctx context.Context, o *Org) error
	// FindOrg returns the org with the given id or ENOTFOUND.
	FindOrg(ctx context.Context, id string) (*Org, error)
	// CountOrgs returns how many orgs exist; zero means a fresh database.
	CountOrgs(ctx context.Context) (int, error)
	// MarkBootstrapped records, once per database, that first-start set-up
	// ran. A second call returns ECONFLICT, which keeps two replicas starting
	// at once from both creating a first org.
	MarkBootstrapped(ctx context.Context) error
}

// UserStore stores users.
type UserStore interface {
	// CreateUser stores u, filling ID and timestamps; ECONFLICT if the
	// e-mail address is taken.
	CreateUser(ctx context.Context, u *User) error
	// FindUser returns a user of the org or ENOTFOUND.
	FindUser(ctx context.Context, orgID, id string) (*User, error)
	// FindUserByEmail returns the user with that address in any org, for
	// sign-in, or ENOTFOUND.
	FindUserByEmail(ctx context.Context, email string) (*User, error)
	// ListUsers returns a page of the org's users, newest first, and the
	// cursor of the next page ("" on the last).
	ListUsers(ctx context.Context, orgID string, f UserFilter) ([]*User, string, error)
	// UpdateUser saves u's name, role, password hash, flags and last login.
	UpdateUser(ctx context.Context, u *User) error
	// DeleteUser removes a user of the org.
	DeleteUser(ctx context.Context, orgID, id string) error
}

// RoleStore stores custom roles. Built-in roles live in code (BuiltinRoles)
// and are never stored.
type RoleStore interface {
	// CreateRole stores r; ECONFLICT if the org has a role of that name.
	CreateRole(ctx context.Context, r *Role) error
	// FindRole returns a custom role of the org or ENOTFOUND.
	FindRole(ctx context.Context, orgID, id string) (*Role, error)
	// ListRoles returns the org's custom roles by name.
	ListRoles(ctx context.Context, orgID string) ([]*Role, error)
	// UpdateRole saves r's name, description and capabilities.
	UpdateRole(ctx context.Context, r *Role) error
	// DeleteRole removes a custom role; ECONFLICT while a user or an active
	// API key holds it.
	DeleteRole(ctx context.Context, orgID, id string) error
}

// APIKeyStore stores API keys.
type APIKeyStore interface {
	// CreateAPIKey stores k, filling ID and CreatedAt.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// FindAPIKey returns a key of the org or ENOTFOUND.
	FindAPIKey(ctx context.Context, orgID, id string) (*APIKey, error)
	// FindAPIKeyByPrefix returns the key with the given public prefix in
	// any org, for authentication, or ENOTFOUND.
	FindAPIKeyByPrefix(ctx context.Context, prefix string) (*APIKey, error)
	// ListAPIKeys returns a page of the org's keys, newest first.
	ListAPIKeys(ctx context.Context, orgID string, f APIKeyFilter) ([]*APIKey, string, error)
	// RevokeAPIKey marks a key of the org revoked at time at. Revoking a
	// revoked key is not an error and keeps the first time.
	RevokeAPIKey(ctx context.Context, orgID, id string, at time.Time) (*APIKey, error)
	// TouchAPIKey sets a key's last-used time.
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
}

// ActivityStore stores the activity log.
type ActivityStore interface {
	ActivityLog
	// ListActivity returns a page of the org's activity, newest first.
	ListActivity(ctx context.Context, orgID string, f ActivityFilter) ([]*Activity, string, error)
}

// SealedColumn names a column holding sealed values, for key rotation.
type SealedColumn struct {
	Table  string
	Column string
	Key    string // the row's key column, bound into the associated data
}

// AssociatedData is what a sealed value in col of the row with key rowKey
// is bound to: copied to another row or column, it does not open.
func (col SealedColumn) AssociatedData(rowKey string) []byte {
	return []byte(col.Table + "." + col.Column + ":" + rowKey)
}

// SealedStore lets key rotation find and re-seal every sealed value.
type SealedStore interface {
	// SealedColumns lists every column that holds sealed values.
	SealedColumns() []SealedColumn
	// ResealBatch calls reseal for up to limit non-empty values of col not
	// sealed under key currentKeyID, and stores what it returns. reseal gets
	// the row's key (its id) and the sealed value. It returns how many
	// values it re-sealed; zero means the column is done. Because rows
	// already under the current key are skipped, a rotation that stopped
	// half-way resumes where it was.
	ResealBatch(ctx context.Context, col SealedColumn, currentKeyID string, limit int,
		reseal func(rowKey, sealed string) (string, error)) (int, error)
}
