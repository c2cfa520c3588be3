-- An attempt is found by its delivery and number, never by its id alone,
-- so the table is keyed by (delivery_id, number): one b-tree per attempt
-- instead of three (the rows, the id's unique index and the index of
-- (delivery_id, number)). Ids stay in the rows: the API shows them.
--
-- The engine numbers a delivery's attempts 1, 2, 3… and records an
-- outcome only while the delivery is still as the worker claimed it
-- (FinishAttempts), so a number is used once. Should an older database hold
-- two attempts with one number, that delivery's attempts are numbered
-- again in the order they were made rather than lost.

-- +goose Up
UPDATE attempts SET number = r.n
FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY delivery_id ORDER BY number, started_at, id) AS n FROM attempts
	WHERE delivery_id IN (SELECT delivery_id FROM attempts GROUP BY delivery_id, number HAVING COUNT(*) > 1)) AS r
WHERE attempts.id = r.id AND attempts.number <> r.n;

CREATE TABLE attempts_new (
	id          TEXT NOT NULL,
	org_id      TEXT NOT NULL,
	delivery_id TEXT NOT NULL,
	number      INTEGER NOT NULL,
	started_at  TIMESTAMP NOT NULL,
	status_code INTEGER NOT NULL DEFAULT 0,
	latency_ms  INTEGER NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT '',
	response    TEXT NOT NULL DEFAULT '',
	manual      BOOLEAN NOT NULL DEFAULT FALSE,
	PRIMARY KEY (delivery_id, number)
) WITHOUT ROWID;
INSERT INTO attempts_new (id, org_id, delivery_id, number, started_at, status_code, latency_ms, error, response, manual)
	SELECT id, org_id, delivery_id, number, started_at, status_code, latency_ms, error, response, manual FROM attempts;
DROP TABLE attempts;
ALTER TABLE attempts_new RENAME TO attempts;

-- +goose Down
CREATE TABLE attempts_old (
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
INSERT INTO attempts_old (id, org_id, delivery_id, number, started_at, status_code, latency_ms, error, response, manual)
	SELECT id, org_id, delivery_id, number, started_at, status_code, latency_ms, error, response, manual FROM attempts;
DROP TABLE attempts;
ALTER TABLE attempts_old RENAME TO attempts;
CREATE INDEX attempts_delivery ON attempts (delivery_id, number);
