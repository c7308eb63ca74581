-- name: PublishedActivities :many
-- A page of a dialogue's published activities, by id after after_id, each
-- with the time of the last event in its audit log (or of its last
-- write, for a row written without one).
SELECT a.id, a.snapshot,
    coalesce((SELECT e.at FROM audit_events e WHERE e.activity_id = a.id ORDER BY e.seq DESC LIMIT 1), a.recorded_at)::timestamptz AS last_event_at
FROM activities a
WHERE a.dialogue_id = sqlc.arg(dialogue) AND a.published AND a.id > sqlc.arg(after_id)
ORDER BY a.id
LIMIT sqlc.arg(max_rows);

-- name: EvidenceOf :many
-- Every evidence link reported on the given activities' milestones, as
-- the audit log keeps them all (the snapshot keeps only the latest).
SELECT e.activity_id, e.seq, e.at,
    coalesce(e.content::jsonb #>> '{event,milestone}', '')::text AS milestone,
    coalesce(e.content::jsonb #> '{event,progress,evidence}', '[]'::jsonb)::jsonb AS evidence
FROM audit_events e
WHERE e.activity_id = ANY (sqlc.arg(ids)::text[])
  AND e.type IN ('progress_reported', 'milestone_completed')
ORDER BY e.activity_id, e.seq;

-- name: DialogueIATI :one
SELECT * FROM dialogues WHERE id = $1;
