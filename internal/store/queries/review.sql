-- name: ReviewActivities :many
-- A dialogue's activities proposed by as_of, in the report's stable order.
SELECT * FROM activities
WHERE dialogue_id = sqlc.arg(dialogue) AND proposed_at <= sqlc.arg(as_of)
ORDER BY proposed_at, id;

-- name: ReviewStatusEvents :many
-- The events of a dialogue's activities of the given types in (since,
-- as_of]: what changed between two meetings.
SELECT e.activity_id, e.type
FROM audit_events e
JOIN activities a ON a.id = e.activity_id
WHERE a.dialogue_id = sqlc.arg(dialogue)
  AND e.type = ANY(sqlc.arg(types)::text[])
  AND e.at > sqlc.arg(since) AND e.at <= sqlc.arg(as_of)
ORDER BY e.activity_id, e.seq;

-- name: AuditDialogueActivities :many
-- The activities the audit log says were proposed in a dialogue by as_of,
-- in proposal order, read from each one's first, hashed event alone.
SELECT activity_id
FROM audit_events
WHERE seq = 1 AND type = 'proposed' AND at <= sqlc.arg(as_of)
  AND (content::jsonb) -> 'event' -> 'proposal' ->> 'dialogue' = sqlc.arg(dialogue)::text
ORDER BY at, activity_id;

-- name: AuditEventsOf :many
-- The audit events of some activities recorded by as_of, in chain order.
SELECT activity_id, seq, type, at, content, prev_hash, hash
FROM audit_events
WHERE activity_id = ANY(sqlc.arg(ids)::text[]) AND at <= sqlc.arg(as_of)
ORDER BY activity_id, seq;
