-- The delivery tables drop their foreign keys (attempts to deliveries, and
-- events and deliveries to orgs). Checking them cost a lookup for every row
-- a publish or a finished attempt writes. Under delivery load (patchbay
-- bench delivery) that was about a seventh of PostgreSQL's CPU, which runs
-- each check as a query of its own, and at most 4% of the server's on SQLite.
--
-- Only the delivery code writes these rows: an event's and a delivery's org
-- is the caller's own, and an attempt is written in the transaction that
-- records its delivery's outcome. Orgs are never deleted, and pruning
-- deletes a delivery's attempts with it (PruneDeliveries).

-- +goose Up
ALTER TABLE attempts DROP CONSTRAINT attempts_delivery_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_org_id_fkey;
ALTER TABLE events DROP CONSTRAINT events_org_id_fkey;

-- +goose Down
ALTER TABLE events ADD CONSTRAINT events_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE;
ALTER TABLE attempts ADD CONSTRAINT attempts_delivery_id_fkey FOREIGN KEY (delivery_id) REFERENCES deliveries (id) ON DELETE CASCADE;
