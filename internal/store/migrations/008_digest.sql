-- A daily digest instead of one mail per notice. A principal with email on
-- and a digest_hour (0-23, in their party's time zone) gets one mail a day
-- at that hour listing what arrived since the last one; without one, a
-- mail per notice as before.
ALTER TABLE principals
    ADD COLUMN digest_hour smallint CHECK (digest_hour BETWEEN 0 AND 23),
    -- The watermark: the digest time the last digest covered (or when the
    -- digest was chosen), advanced in the transaction that queues the
    -- digest, so a repeated run finds nothing left to do.
    ADD COLUMN digested_through timestamptz;

-- Record marks an inbox row for the digest instead of queueing a mail for
-- it, and the digest clears the mark in the transaction that queues its
-- mail. Marks rather than an id watermark, because ids are handed out
-- before their transactions commit, not in commit order: a row committed
-- late with a smaller id would fall behind an id watermark and never be
-- sent.
ALTER TABLE notifications ADD COLUMN digest_pending boolean NOT NULL DEFAULT false;
CREATE INDEX notifications_digest_pending ON notifications (principal_id, id) WHERE digest_pending;
-- Record finds a change's inbox rows by activity and sequence.
CREATE INDEX notifications_event ON notifications (activity_id, seq);

-- A digest is an outbox row of its own channel, addressed to its
-- principal; its activity_id is '' and its seq 0, as it covers many.
ALTER TABLE deliveries ADD COLUMN principal_id text REFERENCES principals (id) ON DELETE CASCADE;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_channel_check CHECK (channel IN ('email', 'webhook', 'digest'));
ALTER TABLE deliveries ADD CONSTRAINT deliveries_digest_check CHECK ((channel = 'digest') = (principal_id IS NOT NULL));

---- create above / drop below ----

DELETE FROM deliveries WHERE channel = 'digest';
ALTER TABLE deliveries DROP CONSTRAINT deliveries_digest_check;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_channel_check CHECK (channel IN ('email', 'webhook'));
ALTER TABLE deliveries DROP COLUMN principal_id;
DROP INDEX notifications_event;
DROP INDEX notifications_digest_pending;
ALTER TABLE notifications DROP COLUMN digest_pending;
ALTER TABLE principals DROP COLUMN digested_through, DROP COLUMN digest_hour;
