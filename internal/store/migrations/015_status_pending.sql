-- A list filtered by status and pending party at once ("active, waiting
-- for the US") is planned from each filter's own statistics, as if the two
-- were independent. They are not: parties are pending mostly on proposals,
-- so the planner guessed thousands of matches for a combination that has
-- almost none, and walked the whole table in list order waiting for the
-- first. Each (status, pending party) pair as one key, "active:US", gives
-- the planner that pair's real frequency (ANALYZE keeps statistics on an
-- index's expressions) and an index that finds its rows directly.
CREATE FUNCTION activity_status_pending(status text, pending text[]) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT coalesce(array_agg(status || ':' || p), '{}') FROM unnest(pending) p $$;

CREATE INDEX activities_status_pending ON activities USING gin (activity_status_pending(status, pending_parties));

ANALYZE activities;

---- create above / drop below ----

DROP INDEX activities_status_pending;
DROP FUNCTION activity_status_pending(text, text[]);
