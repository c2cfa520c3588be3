-- Org settings (retention, retry policy). Leases live in meta.

-- +goose Up
CREATE TABLE org_settings (
	org_id                 TEXT PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
	delivery_retention_s   BIGINT NOT NULL DEFAULT 0,
	retry_schedule         JSONB NOT NULL DEFAULT '[]', -- seconds
	max_attempts           INTEGER NOT NULL DEFAULT 0,
	updated_at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX deliveries_org_finished ON deliveries (org_id, created_at) WHERE status IN ('delivered', 'dead_letter');

-- +goose Down
DROP INDEX deliveries_org_finished;
DROP TABLE org_settings;
