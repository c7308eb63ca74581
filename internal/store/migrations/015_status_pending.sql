-- A list filtered by status and pending party at once ("active, waiting
-- for the US") was planned from each filter's own statistics, as if the
-- two were independent. They are not: parties are pending mostly on
-- proposals, so the planner guessed thousands of matches for a
-- combination that has almost none, and walked the whole table in list
-- order waiting for the first. Each (status, pending party) pair as one
-- key, "active:US", in a column of its own gives the planner that pair's
-- real frequency and an index that finds its rows directly. The column is
-- generated, so no writer can let it drift from the two it comes from.
CREATE FUNCTION activity_status_pending(status text, pending text[]) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT coalesce(array_agg(status || ':' || p), '{}') FROM unnest(pending) p $$;

ALTER TABLE activities ADD COLUMN status_pending text[] NOT NULL
    GENERATED ALWAYS AS (activity_status_pending(status, pending_parties)) STORED;

CREATE INDEX activities_status_pending ON activities USING gin (status_pending);

ANALYZE activities;

---- create above / drop below ----

DROP INDEX activities_status_pending;
ALTER TABLE activities DROP COLUMN status_pending;
DROP FUNCTION activity_status_pending(text, text[]);
