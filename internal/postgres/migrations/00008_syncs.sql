-- Syncs: runs per connection, the records each run dispatched (items), a
-- hierarchical operation log, cursors that move only past finished items,
-- and schedules with health backoff. Per-org retention for the operation
-- log, finished items and received webhooks.

-- +goose Up
CREATE TABLE sync_runs (
	id            TEXT PRIMARY KEY,
	org_id        TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	connection_id TEXT NOT NULL,
	direction     TEXT NOT NULL,
	entity_type   TEXT NOT NULL,
	status        TEXT NOT NULL,
	trigger_kind  TEXT NOT NULL,
	processed     INTEGER NOT NULL DEFAULT 0,
	failed        INTEGER NOT NULL DEFAULT 0,
	cursor_start  TEXT NOT NULL DEFAULT '',
	cursor_end    TEXT NOT NULL DEFAULT '',
	cursor_seq    BIGINT NOT NULL DEFAULT 0, -- seq of the item the cursor last moved to
	error         TEXT NOT NULL DEFAULT '',
	started_at    TIMESTAMPTZ,
	finished_at   TIMESTAMPTZ,
	created_at    TIMESTAMPTZ NOT NULL,
	updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX sync_runs_org_created ON sync_runs (org_id, created_at DESC, id DESC);
CREATE INDEX sync_runs_org_connection ON sync_runs (org_id, connection_id, created_at DESC);
CREATE INDEX sync_runs_org_failed ON sync_runs (org_id, created_at) WHERE status = 'failed';
-- One open run per connection, entity type and direction: two runs moving
-- one cursor would each skip the other's unfinished items.
CREATE UNIQUE INDEX sync_runs_open ON sync_runs (connection_id, entity_type, direction) WHERE status IN ('pending', 'running');

CREATE TABLE sync_items (
	org_id        TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	run_id        TEXT NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
	seq           BIGINT NOT NULL,
	external_id   TEXT NOT NULL DEFAULT '',
	internal_type TEXT NOT NULL DEFAULT '',
	internal_id   TEXT NOT NULL DEFAULT '',
	cursor_value  TEXT NOT NULL DEFAULT '',
	status        TEXT NOT NULL,
	error         TEXT NOT NULL DEFAULT '',
	created_at    TIMESTAMPTZ NOT NULL,
	updated_at    TIMESTAMPTZ NOT NULL,
	finished_at   TIMESTAMPTZ,
	PRIMARY KEY (run_id, seq)
);
CREATE INDEX sync_items_run_open ON sync_items (run_id, seq) WHERE status IN ('pending', 'processing');
CREATE INDEX sync_items_org_finished ON sync_items (org_id, finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE sync_ops (
	id         TEXT PRIMARY KEY,
	org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	run_id     TEXT NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
	parent_id  TEXT NOT NULL DEFAULT '',
	level      TEXT NOT NULL,
	message    TEXT NOT NULL,
	data       JSONB,
	at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX sync_ops_run_at ON sync_ops (run_id, at, id);
CREATE INDEX sync_ops_org_at ON sync_ops (org_id, at);

CREATE TABLE sync_cursors (
	org_id        TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	connection_id TEXT NOT NULL,
	entity_type   TEXT NOT NULL,
	direction     TEXT NOT NULL,
	value         TEXT NOT NULL,
	run_id        TEXT NOT NULL DEFAULT '',
	updated_at    TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (connection_id, entity_type, direction)
);

CREATE TABLE sync_schedules (
	org_id               TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	connection_id        TEXT NOT NULL,
	entity_type          TEXT NOT NULL,
	direction            TEXT NOT NULL,
	interval_s           BIGINT NOT NULL,
	enabled              BOOLEAN NOT NULL,
	next_run_at          TIMESTAMPTZ,
	consecutive_failures INTEGER NOT NULL DEFAULT 0,
	health               TEXT NOT NULL DEFAULT 'healthy',
	last_run_id          TEXT NOT NULL DEFAULT '',
	last_run_at          TIMESTAMPTZ,
	created_at           TIMESTAMPTZ NOT NULL,
	updated_at           TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (connection_id, entity_type, direction)
);
CREATE INDEX sync_schedules_due ON sync_schedules (next_run_at) WHERE enabled;
CREATE INDEX sync_schedules_org ON sync_schedules (org_id, connection_id);

ALTER TABLE org_settings ADD COLUMN operation_log_retention_s BIGINT NOT NULL DEFAULT 0;
ALTER TABLE org_settings ADD COLUMN sync_item_retention_s BIGINT NOT NULL DEFAULT 0;
ALTER TABLE org_settings ADD COLUMN inbound_retention_s BIGINT NOT NULL DEFAULT 0;
CREATE INDEX inbound_org_prunable ON inbound_webhooks (org_id, received_at) WHERE status NOT IN ('pending', 'processing');

-- +goose Down
DROP INDEX inbound_org_prunable;
ALTER TABLE org_settings DROP COLUMN inbound_retention_s;
ALTER TABLE org_settings DROP COLUMN sync_item_retention_s;
ALTER TABLE org_settings DROP COLUMN operation_log_retention_s;
DROP TABLE sync_schedules;
DROP TABLE sync_cursors;
DROP TABLE sync_ops;
DROP TABLE sync_items;
DROP TABLE sync_runs;
