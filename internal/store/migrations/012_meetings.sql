-- A dialogue meeting as its Review run keeps it. The run claims its
-- meeting here before anything else, so that a meeting has one run even
-- when the calendar moves it and the schedule would start another; the
-- API finds the run to tell of a moved or cancelled meeting here too.
CREATE TABLE meetings (
    dialogue_id     text NOT NULL REFERENCES dialogues (id) ON DELETE CASCADE,
    meeting         integer NOT NULL CHECK (meeting > 0),
    workflow_id     text NOT NULL,
    meeting_at      timestamptz NOT NULL,
    phase           text NOT NULL,
    -- The current version of the minutes, as recorded and signed.
    minutes         jsonb,
    minutes_version integer NOT NULL DEFAULT 0,
    adopted_at      timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dialogue_id, meeting)
);
CREATE INDEX meetings_open ON meetings (dialogue_id) WHERE phase NOT IN ('closed', 'cancelled');

-- Minutes every party has signed never change.
CREATE FUNCTION meetings_adopted_minutes_stay() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.adopted_at IS NOT NULL AND (NEW.minutes IS DISTINCT FROM OLD.minutes OR NEW.adopted_at IS DISTINCT FROM OLD.adopted_at) THEN
        RAISE EXCEPTION 'the adopted minutes of % meeting % cannot change', OLD.dialogue_id, OLD.meeting;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER meetings_adopted_minutes BEFORE UPDATE ON meetings
    FOR EACH ROW EXECUTE FUNCTION meetings_adopted_minutes_stay();

---- create above / drop below ----

DROP TABLE meetings;
DROP FUNCTION meetings_adopted_minutes_stay();
