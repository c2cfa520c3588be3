-- Sign-in sessions of the admin web UI. Only a SHA-256 of the random
-- session token is stored; the token itself lives in the browser's cookie.

-- +goose Up
CREATE TABLE sessions (
	token_hash   TEXT PRIMARY KEY,
	org_id       TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at   TIMESTAMP NOT NULL,
	expires_at   TIMESTAMP NOT NULL,
	last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_org_user ON sessions (org_id, user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- +goose Down
DROP TABLE sessions;
