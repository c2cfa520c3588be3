-- SQLite's migration 14 stores times as integers (microseconds since
-- 1970). PostgreSQL's timestamptz already is one, 8 bytes with
-- microseconds, so nothing changes here; the file keeps both engines'
-- migrations numbered alike.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
