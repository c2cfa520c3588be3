-- The indexes that list a growing table newest first are rebuilt in
-- ascending order. Their keys only grow (a creation or receipt time, then a
-- time-ordered id), and in a descending index every new key goes to the
-- far left: each full page then splits in half and stays half empty,
-- where an ascending index appends and fills its pages. The descending
-- delivery index was twice the size of its ascending twin under delivery
-- load (patchbay bench delivery, SQLite's dbstat) and cost the writes of
-- the extra pages. Both engines read an index backwards as cheaply as
-- forwards, so newest-first listings use these as they did the old ones.
--
-- The indexes of tables that grow with configuration only (users, keys,
-- endpoints, connections, mappings) stay as they are.

-- +goose Up
DROP INDEX deliveries_org_created;
CREATE INDEX deliveries_org_created ON deliveries (org_id, created_at, id);
DROP INDEX api_requests_org_created;
CREATE INDEX api_requests_org_created ON api_requests (org_id, created_at, id);
DROP INDEX api_requests_org_connection;
CREATE INDEX api_requests_org_connection ON api_requests (org_id, connection_id, created_at, id);
DROP INDEX inbound_org_received;
CREATE INDEX inbound_org_received ON inbound_webhooks (org_id, received_at, id);
DROP INDEX activity_org_created;
CREATE INDEX activity_org_created ON activity (org_id, created_at, id);
DROP INDEX sync_runs_org_created;
CREATE INDEX sync_runs_org_created ON sync_runs (org_id, created_at, id);
DROP INDEX sync_runs_org_connection;
CREATE INDEX sync_runs_org_connection ON sync_runs (org_id, connection_id, created_at);

-- +goose Down
DROP INDEX deliveries_org_created;
CREATE INDEX deliveries_org_created ON deliveries (org_id, created_at DESC, id DESC);
DROP INDEX api_requests_org_created;
CREATE INDEX api_requests_org_created ON api_requests (org_id, created_at DESC, id DESC);
DROP INDEX api_requests_org_connection;
CREATE INDEX api_requests_org_connection ON api_requests (org_id, connection_id, created_at DESC, id DESC);
DROP INDEX inbound_org_received;
CREATE INDEX inbound_org_received ON inbound_webhooks (org_id, received_at DESC, id DESC);
DROP INDEX activity_org_created;
CREATE INDEX activity_org_created ON activity (org_id, created_at DESC, id DESC);
DROP INDEX sync_runs_org_created;
CREATE INDEX sync_runs_org_created ON sync_runs (org_id, created_at DESC, id DESC);
DROP INDEX sync_runs_org_connection;
CREATE INDEX sync_runs_org_connection ON sync_runs (org_id, connection_id, created_at DESC);
