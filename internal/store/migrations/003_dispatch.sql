-- Deliveries are set under way by a relay in each worker rather than by
-- Record itself, so recording a change never waits on starting them.
-- dispatched_at is when a relay handed the row's (activity, seq) group to
-- a delivery workflow; rows written before this migration were started by
-- Record already.
ALTER TABLE deliveries ADD COLUMN dispatched_at timestamptz;
UPDATE deliveries SET dispatched_at = created_at;
CREATE INDEX deliveries_undispatched ON deliveries (created_at) WHERE dispatched_at IS NULL;

---- create above / drop below ----

DROP INDEX deliveries_undispatched;
ALTER TABLE deliveries DROP COLUMN dispatched_at;
