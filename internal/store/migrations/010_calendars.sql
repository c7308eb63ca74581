-- A dialogue's meeting calendar: a rule (every N months from a date, in a
-- zone, hosts in turn) or explicit dates, with moved and cancelled
-- meetings; the meetings themselves are computed from it.
CREATE TABLE dialogue_calendars (
    dialogue_id text PRIMARY KEY REFERENCES dialogues (id) ON DELETE CASCADE,
    calendar    jsonb NOT NULL,
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A dialogue's activities as its audit log records them (the dialogue in
-- each activity's first, hashed event), for checking a meeting's report
-- against the log without reading every activity's first event.
CREATE INDEX audit_events_dialogue ON audit_events (((content::jsonb) -> 'event' -> 'proposal' ->> 'dialogue'), at)
    WHERE seq = 1 AND type = 'proposed';

---- create above / drop below ----

DROP INDEX audit_events_dialogue;
DROP TABLE dialogue_calendars;
