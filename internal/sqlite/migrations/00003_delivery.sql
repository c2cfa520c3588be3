-- Outbound delivery: webhook endpoints, events, deliveries (the queue) and
-- their attempts (the delivery log).

-- +goose Up
CREATE TABLE endpoints (
	id                          TEXT PRIMARY KEY,
	org_id                      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	url                         TEXT NOT NULL,
	description                 TEXT NOT NULL DEFAULT '',
	event_types                 TEXT NOT NULL DEFAULT '[]',
	active                      BOOLEAN NOT NULL DEFAULT TRUE,
	disabled_at                 TIMESTAMP,
	consecutive_failures        INTEGER NOT NULL DEFAULT 0,
	secret                      TEXT NOT NULL,           -- sealed
	previous_secret             TEXT NOT NULL DEFAULT '', -- sealed
	previous_secret_expires_at  TIMESTAMP,
	rate_limit                  INTEGER NOT NULL DEFAULT 0,
	timeout_ms                  INTEGER NOT NULL DEFAULT 10000,
	headers                     TEXT NOT NULL DEFAULT '{}',
	schedule                    TEXT NOT NULL DEFAULT '[]', -- retry waits in seconds; empty for the org's
	max_attempts                INTEGER NOT NULL DEFAULT 0,
	connection_id               TEXT NOT NULL DEFAULT '',
	created_at                  TIMESTAMP NOT NULL,
	updated_at                  TIMESTAMP NOT NULL
);
CREATE INDEX endpoints_org_created ON endpoints (org_id, created_at DESC, id DESC);

CREATE TABLE events (
	id              TEXT PRIMARY KEY,
	org_id          TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	type            TEXT NOT NULL,
	payload         TEXT NOT NULL,
	source_module   TEXT NOT NULL DEFAULT '',
	source_id       TEXT NOT NULL DEFAULT '',
	idempotency_key TEXT,
	created_at      TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX events_org_idempotency ON events (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_org_created ON events (org_id, created_at);

CREATE TABLE deliveries (
	id               TEXT PRIMARY KEY,
	org_id           TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	event_id         TEXT NOT NULL DEFAULT '',
	event_type       TEXT NOT NULL DEFAULT '',
	source_module    TEXT NOT NULL DEFAULT '',
	source_id        TEXT NOT NULL DEFAULT '',
	endpoint_id      TEXT NOT NULL DEFAULT '',
	connection_id    TEXT NOT NULL DEFAULT '',
	method           TEXT NOT NULL DEFAULT '',
	path             TEXT NOT NULL DEFAULT '',
	body             TEXT NOT NULL DEFAULT '',
	status           TEXT NOT NULL,
	attempts         INTEGER NOT NULL DEFAULT 0, -- every attempt, for numbering
	round_attempts   INTEGER NOT NULL DEFAULT 0, -- attempts since the last manual retry, for the dead-letter rule
	next_attempt_at  TIMESTAMP NOT NULL,
	lease_owner      TEXT NOT NULL DEFAULT '',
	lease_until      TIMESTAMP,
	last_attempt_at  TIMESTAMP,
	last_status_code INTEGER NOT NULL DEFAULT 0,
	last_error       TEXT NOT NULL DEFAULT '',
	delivered_at     TIMESTAMP,
	created_at       TIMESTAMP NOT NULL,
	updated_at       TIMESTAMP NOT NULL
);
-- The queue: due deliveries, and sending ones whose lease may have expired.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'retrying');
CREATE INDEX deliveries_sending ON deliveries (lease_until) WHERE status = 'sending';
-- The log.
CREATE INDEX deliveries_org_created ON deliveries (org_id, created_at DESC, id DESC);
CREATE INDEX deliveries_endpoint ON deliveries (org_id, endpoint_id, status);

CREATE TABLE attempts (
	id          TEXT PRIMARY KEY,
	org_id      TEXT NOT NULL,
	delivery_id TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
	number      INTEGER NOT NULL,
	started_at  TIMESTAMP NOT NULL,
	status_code INTEGER NOT NULL DEFAULT 0,
	latency_ms  INTEGER NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT '',
	response    TEXT NOT NULL DEFAULT '',
	manual      BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, number);

-- +goose Down
DROP TABLE attempts;
DROP TABLE deliveries;
DROP TABLE events;
DROP TABLE endpoints;
