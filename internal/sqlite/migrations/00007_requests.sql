-- The request log (every vendor API call made through a connection,
-- retries included), the idempotency ledger of keyed calls, the proxy's
-- response cache, and their retention settings.

-- +goose Up
ALTER TABLE org_settings ADD COLUMN request_retention_s BIGINT NOT NULL DEFAULT 0;
ALTER TABLE org_settings ADD COLUMN idempotency_retention_s BIGINT NOT NULL DEFAULT 0;

CREATE TABLE api_requests (
	id                TEXT PRIMARY KEY,
	org_id            TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	connection_id     TEXT NOT NULL,
	connector         TEXT NOT NULL DEFAULT '',
	source            TEXT NOT NULL,
	method            TEXT NOT NULL,
	path              TEXT NOT NULL,
	status_code       INTEGER NOT NULL DEFAULT 0,
	duration_ms       BIGINT NOT NULL DEFAULT 0,
	vendor_request_id TEXT NOT NULL DEFAULT '',
	idempotency_key   TEXT NOT NULL DEFAULT '',
	retry_of          TEXT NOT NULL DEFAULT '',
	attempt           INTEGER NOT NULL DEFAULT 1,
	cache_hit         BOOLEAN NOT NULL DEFAULT FALSE,
	stale             BOOLEAN NOT NULL DEFAULT FALSE,
	replayed          BOOLEAN NOT NULL DEFAULT FALSE,
	error             TEXT NOT NULL DEFAULT '',
	request_body      TEXT NOT NULL DEFAULT '',  -- redacted excerpt
	response_body     TEXT NOT NULL DEFAULT '',  -- redacted excerpt
	created_at        TIMESTAMP NOT NULL
);
CREATE INDEX api_requests_org_created ON api_requests (org_id, created_at DESC, id DESC);
CREATE INDEX api_requests_org_connection ON api_requests (org_id, connection_id, created_at DESC, id DESC);

CREATE TABLE idempotency_keys (
	id            TEXT PRIMARY KEY,
	org_id        TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	connection_id TEXT NOT NULL,
	idem_key      TEXT NOT NULL,
	request_hash  TEXT NOT NULL,
	state         TEXT NOT NULL,
	status_code   INTEGER NOT NULL DEFAULT 0,
	headers       TEXT NOT NULL DEFAULT '{}',
	response_body TEXT NOT NULL DEFAULT '', -- sealed
	locked_until  TIMESTAMP NOT NULL,
	created_at    TIMESTAMP NOT NULL,
	completed_at  TIMESTAMP
);
CREATE UNIQUE INDEX idempotency_keys_unique ON idempotency_keys (org_id, connection_id, idem_key);
CREATE INDEX idempotency_keys_org_created ON idempotency_keys (org_id, created_at);

CREATE TABLE proxy_cache (
	id            TEXT PRIMARY KEY,
	org_id        TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	connection_id TEXT NOT NULL,
	cache_key     TEXT NOT NULL,
	status_code   INTEGER NOT NULL,
	headers       TEXT NOT NULL DEFAULT '{}',
	body          TEXT NOT NULL DEFAULT '', -- sealed
	stored_at     TIMESTAMP NOT NULL,
	expires_at    TIMESTAMP NOT NULL,
	stale_until   TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX proxy_cache_key ON proxy_cache (org_id, connection_id, cache_key);
CREATE INDEX proxy_cache_org_stale ON proxy_cache (org_id, stale_until);

-- +goose Down
DROP TABLE proxy_cache;
DROP TABLE idempotency_keys;
DROP TABLE api_requests;
ALTER TABLE org_settings DROP COLUMN idempotency_retention_s;
ALTER TABLE org_settings DROP COLUMN request_retention_s;
