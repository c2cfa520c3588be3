-- The delivery tables drop their foreign keys (attempts to deliveries, and
-- events and deliveries to orgs). Checking them cost a lookup for every row
-- a publish or a finished attempt writes. Under delivery load (patchbay
-- bench delivery) that was about a seventh of PostgreSQL's CPU, which runs
-- each check as a query of its own, and at most 4% of the server's on SQLite.
--
-- Only the delivery code writes these rows: an event's and a delivery's org
-- is the caller's own, and an attempt is written in the transaction that
-- records its delivery's outcome. Orgs are never deleted, and pruning
-- deletes a delivery's attempts with it (PruneDeliveries).
--
-- SQLite cannot drop a constraint, so each table is rebuilt: attempts first,
-- so that no table refers to deliveries when it is dropped.

-- +goose Up
CREATE TABLE attempts_new (
	id          TEXT PRIMARY KEY,
	org_id      TEXT NOT NULL,
	delivery_id TEXT NOT NULL,
	number      INTEGER NOT NULL,
	started_at  TIMESTAMP NOT NULL,
	status_code INTEGER NOT NULL DEFAULT 0,
	latency_ms  INTEGER NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT '',
	response    TEXT NOT NULL DEFAULT '',
	manual      BOOLEAN NOT NULL DEFAULT FALSE
);
INSERT INTO attempts_new (id, org_id, delivery_id, number, started_at, status_code, latency_ms, error, response, manual)
	SELECT id, org_id, delivery_id, number, started_at, status_code, latency_ms, error, response, manual FROM attempts;
DROP TABLE attempts;
ALTER TABLE attempts_new RENAME TO attempts;
CREATE INDEX attempts_delivery ON attempts (delivery_id, number);

CREATE TABLE deliveries_new (
	id               TEXT PRIMARY KEY,
	org_id           TEXT NOT NULL,
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
INSERT INTO deliveries_new (id, org_id, event_id, event_type, source_module, source_id, endpoint_id, connection_id, method, path, body, status, attempts, round_attempts, next_attempt_at, lease_owner, lease_until, last_attempt_at, last_status_code, last_error, delivered_at, created_at, updated_at)
	SELECT id, org_id, event_id, event_type, source_module, source_id, endpoint_id, connection_id, method, path, body, status, attempts, round_attempts, next_attempt_at, lease_owner, lease_until, last_attempt_at, last_status_code, last_error, delivered_at, created_at, updated_at FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'retrying');
CREATE INDEX deliveries_sending ON deliveries (lease_until) WHERE status = 'sending';
CREATE INDEX deliveries_org_created ON deliveries (org_id, created_at DESC, id DESC);
CREATE INDEX deliveries_endpoint ON deliveries (org_id, endpoint_id, status);
CREATE INDEX deliveries_org_finished ON deliveries (org_id, created_at) WHERE status IN ('delivered', 'dead_letter');

CREATE TABLE events_new (
	id              TEXT PRIMARY KEY,
	org_id          TEXT NOT NULL,
	type            TEXT NOT NULL,
	payload         TEXT NOT NULL,
	source_module   TEXT NOT NULL DEFAULT '',
	source_id       TEXT NOT NULL DEFAULT '',
	idempotency_key TEXT,
	created_at      TIMESTAMP NOT NULL
);
INSERT INTO events_new (id, org_id, type, payload, source_module, source_id, idempotency_key, created_at)
	SELECT id, org_id, type, payload, source_module, source_id, idempotency_key, created_at FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE UNIQUE INDEX events_org_idempotency ON events (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_org_created ON events (org_id, created_at);

-- +goose Down
CREATE TABLE events_new (
	id              TEXT PRIMARY KEY,
	org_id          TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	type            TEXT NOT NULL,
	payload         TEXT NOT NULL,
	source_module   TEXT NOT NULL DEFAULT '',
	source_id       TEXT NOT NULL DEFAULT '',
	idempotency_key TEXT,
	created_at      TIMESTAMP NOT NULL
);
INSERT INTO events_new (id, org_id, type, payload, source_module, source_id, idempotency_key, created_at)
	SELECT id, org_id, type, payload, source_module, source_id, idempotency_key, created_at FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE UNIQUE INDEX events_org_idempotency ON events (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_org_created ON events (org_id, created_at);

CREATE TABLE deliveries_new (
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
INSERT INTO deliveries_new (id, org_id, event_id, event_type, source_module, source_id, endpoint_id, connection_id, method, path, body, status, attempts, round_attempts, next_attempt_at, lease_owner, lease_until, last_attempt_at, last_status_code, last_error, delivered_at, created_at, updated_at)
	SELECT id, org_id, event_id, event_type, source_module, source_id, endpoint_id, connection_id, method, path, body, status, attempts, round_attempts, next_attempt_at, lease_owner, lease_until, last_attempt_at, last_status_code, last_error, delivered_at, created_at, updated_at FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'retrying');
CREATE INDEX deliveries_sending ON deliveries (lease_until) WHERE status = 'sending';
CREATE INDEX deliveries_org_created ON deliveries (org_id, created_at DESC, id DESC);
CREATE INDEX deliveries_endpoint ON deliveries (org_id, endpoint_id, status);
CREATE INDEX deliveries_org_finished ON deliveries (org_id, created_at) WHERE status IN ('delivered', 'dead_letter');

CREATE TABLE attempts_new (
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
INSERT INTO attempts_new (id, org_id, delivery_id, number, started_at, status_code, latency_ms, error, response, manual)
	SELECT id, org_id, delivery_id, number, started_at, status_code, latency_ms, error, response, manual FROM attempts;
DROP TABLE attempts;
ALTER TABLE attempts_new RENAME TO attempts;
CREATE INDEX attempts_delivery ON attempts (delivery_id, number);
