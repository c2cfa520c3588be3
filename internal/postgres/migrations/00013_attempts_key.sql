-- An attempt is found by its delivery and number, never by its id alone,
-- so the table is keyed by (delivery_id, number): one index per attempt
-- instead of two (the id's and that of (delivery_id, number)). Ids stay in
-- the rows: the API shows them.
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

ALTER TABLE attempts DROP CONSTRAINT attempts_pkey;
DROP INDEX attempts_delivery;
ALTER TABLE attempts ALTER COLUMN id SET NOT NULL;
ALTER TABLE attempts ADD PRIMARY KEY (delivery_id, number);

-- +goose Down
ALTER TABLE attempts DROP CONSTRAINT attempts_pkey;
ALTER TABLE attempts ADD PRIMARY KEY (id);
CREATE INDEX attempts_delivery ON attempts (delivery_id, number);
