-- Inbound webhooks: the unguessable URL of each connection that receives
-- them, and every call received (de-duplicated by the vendor's delivery id).

-- +goose Up
CREATE TABLE inbound_routes (
	token_hash    TEXT PRIMARY KEY,
	org_id        TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	connection_id TEXT NOT NULL UNIQUE,
	secret        TEXT NOT NULL, -- sealed
	created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE inbound_webhooks (
	id            TEXT PRIMARY KEY,
	org_id        TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	connection_id TEXT NOT NULL,
	provider      TEXT NOT NULL,
	event_type    TEXT NOT NULL DEFAULT '',
	delivery_id   TEXT,
	verified      BOOLEAN NOT NULL,
	status        TEXT NOT NULL,
	headers       JSONB NOT NULL DEFAULT '{}',
	payload       TEXT NOT NULL DEFAULT '',
	error         TEXT NOT NULL DEFAULT '',
	event_id      TEXT NOT NULL DEFAULT '',
	received_at   TIMESTAMPTZ NOT NULL,
	processed_at  TIMESTAMPTZ
);
CREATE UNIQUE INDEX inbound_dedupe ON inbound_webhooks (connection_id, delivery_id) WHERE delivery_id IS NOT NULL;
CREATE INDEX inbound_org_received ON inbound_webhooks (org_id, received_at DESC, id DESC);

-- +goose Down
DROP TABLE inbound_webhooks;
DROP TABLE inbound_routes;
