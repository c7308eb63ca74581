-- Open data (IATI). Each party's organisation identifier and type, as it
-- is known in IATI (empty until an admin sets it); each dialogue's
-- reporting party, the one whose identifier prefixes its activities'
-- IATI identifiers, and the sector and recipient countries its
-- activities have unless they give their own.
ALTER TABLE parties
    ADD COLUMN iati_org_ref  text NOT NULL DEFAULT '',
    ADD COLUMN iati_org_type text NOT NULL DEFAULT '10';
ALTER TABLE dialogues
    ADD COLUMN iati_reporting_party     text REFERENCES parties (code),
    ADD COLUMN iati_sector              text NOT NULL DEFAULT '' CHECK (iati_sector ~ '^([0-9]{5})?$'),
    ADD COLUMN iati_recipient_countries text[] NOT NULL DEFAULT '{}';

-- An activity is published while every party consents to publishing its
-- current version (lifecycle.Published); Record keeps the column in step
-- with the snapshot. No activity had a consent before this migration.
ALTER TABLE activities ADD COLUMN published boolean NOT NULL DEFAULT false;
-- The export pages through a dialogue's published activities by id.
CREATE INDEX activities_published ON activities (dialogue_id, id) WHERE published;

---- create above / drop below ----

DROP INDEX activities_published;
ALTER TABLE activities DROP COLUMN published;
ALTER TABLE dialogues
    DROP COLUMN iati_recipient_countries,
    DROP COLUMN iati_sector,
    DROP COLUMN iati_reporting_party;
ALTER TABLE parties
    DROP COLUMN iati_org_type,
    DROP COLUMN iati_org_ref;
