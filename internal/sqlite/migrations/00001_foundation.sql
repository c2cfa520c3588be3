-- Foundation: orgs, users, custom roles, API keys, activity log.
-- Times are TIMESTAMP columns holding UTC text ("2006-01-02 15:04:05.999999+00:00"),
-- which sorts and compares correctly as text.

-- +goose Up
CREATE TABLE meta (
	key        TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	updated_at TIMESTAMP NOT NULL
);

CREATE TABLE orgs (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL
);

CREATE TABLE roles (
	id           TEXT PRIMARY KEY,
	org_id       TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	description  TEXT NOT NULL DEFAULT '',
	capabilities TEXT NOT NULL DEFAULT '[]',
	created_at   TIMESTAMP NOT NULL,
	updated_at   TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX roles_org_name ON roles (org_id, lower(name));

CREATE TABLE users (
	id                   TEXT PRIMARY KEY,
	org_id               TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	email                TEXT NOT NULL UNIQUE,
	name                 TEXT NOT NULL DEFAULT '',
	role_id              TEXT NOT NULL,
	password_hash        TEXT NOT NULL,
	must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
	last_login_at        TIMESTAMP,
	created_at           TIMESTAMP NOT NULL,
	updated_at           TIMESTAMP NOT NULL
);
CREATE INDEX users_org_created ON users (org_id, created_at DESC, id DESC);

CREATE TABLE api_keys (
	id           TEXT PRIMARY KEY,
	org_id       TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	prefix       TEXT NOT NULL UNIQUE,
	hash         TEXT NOT NULL,
	role_id      TEXT NOT NULL,
	scopes       TEXT NOT NULL DEFAULT '[]',
	rate_limit   INTEGER NOT NULL,
	created_by   TEXT NOT NULL DEFAULT '',
	created_at   TIMESTAMP NOT NULL,
	last_used_at TIMESTAMP,
	expires_at   TIMESTAMP,
	revoked_at   TIMESTAMP
);
CREATE INDEX api_keys_org_created ON api_keys (org_id, created_at DESC, id DESC);

CREATE TABLE activity (
	id          TEXT PRIMARY KEY,
	org_id      TEXT NOT NULL,
	actor_type  TEXT NOT NULL,
	actor_id    TEXT NOT NULL,
	actor_name  TEXT NOT NULL DEFAULT '',
	action      TEXT NOT NULL,
	target_type TEXT NOT NULL DEFAULT '',
	target_id   TEXT NOT NULL DEFAULT '',
	outcome     TEXT NOT NULL,
	detail      TEXT NOT NULL DEFAULT '{}',
	created_at  TIMESTAMP NOT NULL
);
CREATE INDEX activity_org_created ON activity (org_id, created_at DESC, id DESC);
CREATE INDEX activity_org_target ON activity (org_id, target_type, target_id);

-- +goose Down
DROP TABLE activity;
DROP TABLE api_keys;
DROP TABLE users;
DROP TABLE roles;
DROP TABLE orgs;
DROP TABLE meta;
