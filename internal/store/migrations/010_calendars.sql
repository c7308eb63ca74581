-- A dialogue's meeting calendar: a rule (every N months from a date, in a
-- zone, hosts in turn) or explicit dates, with moved and cancelled
-- meetings; the meetings themselves are computed from it.
CREATE TABLE dialogue_calendars (
    dialogue_id text PRIMARY KEY REFERENCES dialogues (id) ON DELETE CASCADE,
    calendar    jsonb NOT NULL,
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

---- create above / drop below ----

DROP TABLE dialogue_calendars;
