-- External-id mappings: a vendor's id ↔ the host platform's (type, id), per connection.

-- +goose Up
CREATE TABLE mappings (
	id            TEXT PRIMARY KEY,
	org_id        TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	connection_id TEXT NOT NULL,
	external_id   TEXT NOT NULL,
	internal_type TEXT NOT NULL,
	internal_id   TEXT NOT NULL,
	created_at    TIMESTAMPTZ NOT NULL,
	updated_at    TIMESTAMPTZ NOT NULL,
	UNIQUE (connection_id, external_id),
	UNIQUE (connection_id, internal_type, internal_id)
);
CREATE INDEX mappings_org_created ON mappings (org_id, created_at DESC, id DESC);

-- +goose Down
DROP TABLE mappings;
