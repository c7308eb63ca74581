-- name: OpenActivities :many
-- The activities the read model has open and no unresolved divergence
-- for, by id after after_id.
SELECT a.id, a.seq, a.status FROM activities a
WHERE a.status IN ('proposed', 'active', 'suspended') AND a.id > sqlc.arg(after_id)
  AND NOT EXISTS (SELECT 1 FROM diverged_activities d WHERE d.activity_id = a.id AND d.resolved_at IS NULL)
ORDER BY a.id
LIMIT sqlc.arg(max_rows);

-- name: OpenDivergence :one
SELECT seq FROM diverged_activities WHERE activity_id = $1 AND resolved_at IS NULL;

-- name: UpsertDivergence :exec
INSERT INTO diverged_activities (activity_id, seq, status, temporal_status, run_id, identity, reason)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (activity_id) DO UPDATE SET
    seq = EXCLUDED.seq, status = EXCLUDED.status, temporal_status = EXCLUDED.temporal_status,
    run_id = EXCLUDED.run_id, identity = EXCLUDED.identity, reason = EXCLUDED.reason,
    detected_at = now(), resolved_at = NULL, resolved_seq = NULL;

-- name: ResolveDivergence :exec
-- A change recorded past the workflow_lost event means a run is alive
-- again.
UPDATE diverged_activities SET resolved_at = now(), resolved_seq = sqlc.arg(seq)::bigint
WHERE activity_id = sqlc.arg(activity_id) AND resolved_at IS NULL AND seq < sqlc.arg(seq)::bigint;

-- name: ListDivergences :many
SELECT d.activity_id, d.seq, d.status, d.temporal_status, d.run_id, d.identity, d.reason, d.detected_at,
       COALESCE(a.title, '')::text AS title, COALESCE(a.dialogue_id, '')::text AS dialogue_id
FROM diverged_activities d LEFT JOIN activities a ON a.id = d.activity_id
WHERE d.resolved_at IS NULL
ORDER BY d.detected_at, d.activity_id
LIMIT sqlc.arg(max_rows);

-- name: CountDivergences :one
SELECT count(*) FROM diverged_activities WHERE resolved_at IS NULL;

-- name: ClaimReconcilePass :one
-- Claims the next pass if none started within the interval; no row
-- means another worker's pass is recent.
INSERT INTO reconciler_passes (id, started_at) VALUES (1, now())
ON CONFLICT (id) DO UPDATE SET started_at = now()
WHERE reconciler_passes.started_at <= now() - make_interval(secs => sqlc.arg(every_seconds)::double precision)
RETURNING started_at;
