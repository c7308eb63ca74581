-- A change the workflow decided but the read model refused for a reason
-- retrying cannot cure (a data exception, a violated constraint). One row
-- per activity while it lasts: admins list them, reads say the activity's
-- read model is behind, and the row goes when a Record reaches its seq.
CREATE TABLE record_failures (
    activity_id     text PRIMARY KEY,
    seq             bigint NOT NULL,
    sqlstate        text NOT NULL DEFAULT '',
    message         text NOT NULL,
    attempts        integer NOT NULL DEFAULT 1,
    first_failed_at timestamptz NOT NULL DEFAULT now(),
    last_failed_at  timestamptz NOT NULL DEFAULT now()
);

---- create above / drop below ----

DROP TABLE record_failures;
