-- Connections plane: connections, OAuth client registrations, and the
-- single-use state of OAuth flows in progress. Sealed columns hold values
-- encrypted by internal/secret ("pbs1:<key id>:…"), never cleartext.

-- +goose Up
CREATE TABLE connections (
	id                    TEXT PRIMARY KEY,
	org_id                TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	connector_slug        TEXT NOT NULL,
	display_name          TEXT NOT NULL,
	state                 TEXT NOT NULL,
	auth_mode             TEXT NOT NULL,
	vendor_account_id     TEXT NOT NULL DEFAULT '',
	vendor_account_name   TEXT NOT NULL DEFAULT '',
	scopes                TEXT NOT NULL DEFAULT '[]',
	config                TEXT NOT NULL DEFAULT '{}',
	credential            TEXT NOT NULL DEFAULT '',
	refresh_token         TEXT NOT NULL DEFAULT '',
	expires_at            TIMESTAMP,
	last_test_at          TIMESTAMP,
	last_test_outcome     TEXT NOT NULL DEFAULT '',
	last_test_detail      TEXT NOT NULL DEFAULT '',
	health                TEXT NOT NULL DEFAULT 'healthy',
	consecutive_failures  INTEGER NOT NULL DEFAULT 0,
	last_delivery_at      TIMESTAMP,
	operator_of_record    TEXT NOT NULL DEFAULT '',
	refresh_claim         TEXT NOT NULL DEFAULT '',
	refresh_claimed_until TIMESTAMP,
	created_at            TIMESTAMP NOT NULL,
	updated_at            TIMESTAMP NOT NULL,
	disconnected_at       TIMESTAMP
);
CREATE INDEX connections_org_created ON connections (org_id, created_at DESC, id DESC);
CREATE INDEX connections_expiring ON connections (expires_at) WHERE state = 'active' AND refresh_token <> '';

CREATE TABLE oauth_clients (
	id             TEXT PRIMARY KEY,
	org_id         TEXT NOT NULL DEFAULT '', -- '' for a platform-wide client
	connector_slug TEXT NOT NULL,
	client_id      TEXT NOT NULL,
	client_secret  TEXT NOT NULL, -- sealed
	created_at     TIMESTAMP NOT NULL,
	updated_at     TIMESTAMP NOT NULL,
	UNIQUE (org_id, connector_slug)
);

CREATE TABLE oauth_states (
	state          TEXT PRIMARY KEY, -- hash of the state sent to the vendor
	org_id         TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	connector_slug TEXT NOT NULL,
	connection_id  TEXT NOT NULL DEFAULT '', -- set when re-authorizing
	code_verifier  TEXT NOT NULL DEFAULT '', -- sealed
	redirect_uri   TEXT NOT NULL,
	scopes         TEXT NOT NULL DEFAULT '[]',
	display_name   TEXT NOT NULL DEFAULT '',
	config         TEXT NOT NULL DEFAULT '{}',
	return_to      TEXT NOT NULL DEFAULT '',
	actor          TEXT NOT NULL DEFAULT '',
	actor_name     TEXT NOT NULL DEFAULT '',
	created_at     TIMESTAMP NOT NULL,
	expires_at     TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE oauth_states;
DROP TABLE oauth_clients;
DROP TABLE connections;
