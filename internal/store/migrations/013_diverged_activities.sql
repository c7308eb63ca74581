-- Activities whose workflow stopped running in Temporal while the read
-- model still had them open: terminated, failed, timed out, or gone with
-- its history or namespace. Pacto's reconciler notes each here as it
-- records the workflow_lost event (seq), with what Temporal said; admins
-- list the open rows and restart the activity, and the first change a
-- restarted run records past seq resolves the row. One row per activity:
-- a later divergence reopens it, and the audit log keeps each.
CREATE TABLE diverged_activities (
    activity_id     text PRIMARY KEY,
    seq             bigint NOT NULL,
    -- The activity's status in the read model when its run was lost.
    status          text NOT NULL,
    temporal_status text NOT NULL,
    run_id          text NOT NULL DEFAULT '',
    identity        text NOT NULL DEFAULT '',
    reason          text NOT NULL DEFAULT '',
    detected_at     timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz,
    resolved_seq    bigint
);
CREATE INDEX diverged_activities_open ON diverged_activities (detected_at, activity_id) WHERE resolved_at IS NULL;

-- The reconciler's passes: every worker looks, and the first whose turn
-- comes once the interval has passed since the last pass claims the next.
CREATE TABLE reconciler_passes (
    id         integer PRIMARY KEY CHECK (id = 1),
    started_at timestamptz NOT NULL
);

-- The open activities, which the reconciler walks by id.
CREATE INDEX activities_open ON activities (id) WHERE status IN ('proposed', 'active', 'suspended');

---- create above / drop below ----

DROP INDEX activities_open;
DROP TABLE reconciler_passes;
DROP TABLE diverged_activities;
