-- The delivery log filtered by endpoint had no index in its order: the
-- endpoint index held (org, endpoint, status), so a newest-first page of
-- one endpoint's deliveries read the org's whole log backwards until it
-- found enough of them. And since the index held the status, every
-- finished attempt moved the delivery's entry (a delete and an insert).
-- It is replaced by:
--
--   - deliveries_endpoint, in the order of the log: its keys never change,
--     and a page of one endpoint's deliveries is a backward read of it;
--   - partial indexes of the deliveries an endpoint's pause holds and its
--     resume releases: only waiting deliveries are in them, so a delivery
--     attempted straight away never enters them.
--
-- Under delivery load (patchbay bench delivery) the bytes written per event
-- stayed the same: the wider keys cost what the moves did.

-- +goose Up
DROP INDEX deliveries_endpoint;
CREATE INDEX deliveries_endpoint ON deliveries (org_id, endpoint_id, created_at, id);
CREATE INDEX deliveries_endpoint_due ON deliveries (org_id, endpoint_id) WHERE status IN ('pending', 'retrying');
CREATE INDEX deliveries_endpoint_held ON deliveries (org_id, endpoint_id) WHERE status = 'held';

-- +goose Down
DROP INDEX deliveries_endpoint_held;
DROP INDEX deliveries_endpoint_due;
DROP INDEX deliveries_endpoint;
CREATE INDEX deliveries_endpoint ON deliveries (org_id, endpoint_id, status);
