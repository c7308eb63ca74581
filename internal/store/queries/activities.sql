-- name: LockActivity :exec
-- Serialises writers of one activity for the rest of the transaction.
SELECT pg_advisory_xact_lock(hashtextextended(sqlc.arg(id)::text, 0));

-- name: ActivitySeq :one
SELECT seq FROM activities WHERE id = $1;

-- name: UpsertActivity :execrows
INSERT INTO activities (
    id, dialogue_id, title, summary, status, version, seq, proposer, proposer_party,
    parties, pending_parties, horizons, next_due, amber_from, next_wake, snapshot,
    proposed_at, activated_at, closed_at, search, published, recorded_at)
VALUES (
    $1, $2, $3, $4, $5, $6, $7, $8, $9,
    $10, $11, $12, $13, $14, $15, $16,
    $17, $18, $19, $20, $21, now())
ON CONFLICT (id) DO UPDATE SET
    title = EXCLUDED.title, summary = EXCLUDED.summary, status = EXCLUDED.status,
    version = EXCLUDED.version, seq = EXCLUDED.seq, pending_parties = EXCLUDED.pending_parties,
    horizons = EXCLUDED.horizons, next_due = EXCLUDED.next_due, amber_from = EXCLUDED.amber_from,
    next_wake = EXCLUDED.next_wake, snapshot = EXCLUDED.snapshot,
    activated_at = EXCLUDED.activated_at, closed_at = EXCLUDED.closed_at, search = EXCLUDED.search,
    published = EXCLUDED.published, recorded_at = now()
WHERE activities.seq < EXCLUDED.seq;

-- name: DeleteChildren :exec
WITH m AS (DELETE FROM milestones WHERE milestones.activity_id = sqlc.arg(id)),
     a AS (DELETE FROM approvals WHERE approvals.activity_id = sqlc.arg(id))
DELETE FROM extensions WHERE extensions.activity_id = sqlc.arg(id);

-- name: InsertMilestones :exec
INSERT INTO milestones (activity_id, id, position, title, owner_party, term, due_spec, due_at, status, completed_at, indicator, evidence)
SELECT sqlc.arg(activity_id), m.id, m.position, m.title, m.owner_party, m.term, m.due_spec, m.due_at, m.status, m.completed_at, m.indicator, m.evidence
FROM jsonb_to_recordset(sqlc.arg(milestones)::jsonb) AS m(
    id text, position integer, title text, owner_party text, term text, due_spec text,
    due_at timestamptz, status text, completed_at timestamptz, indicator jsonb, evidence text[]);

-- name: InsertApprovals :exec
INSERT INTO approvals (activity_id, party, decision, version, decided_by, decided_at, comment)
SELECT sqlc.arg(activity_id), a.party, a.decision, a.version, a.decided_by, a.decided_at, a.comment
FROM jsonb_to_recordset(sqlc.arg(approvals)::jsonb) AS a(
    party text, decision text, version integer, decided_by text, decided_at timestamptz, comment text);

-- name: InsertExtensions :exec
INSERT INTO extensions (activity_id, id, milestone_id, new_due_at, reason, status, requested_by, requested_at, decisions)
SELECT sqlc.arg(activity_id), x.id, x.milestone_id, x.new_due_at, x.reason, x.status, x.requested_by, x.requested_at, x.decisions
FROM jsonb_to_recordset(sqlc.arg(extensions)::jsonb) AS x(
    id text, milestone_id text, new_due_at timestamptz, reason text, status text,
    requested_by text, requested_at timestamptz, decisions jsonb);

-- name: LastAuditEvent :one
SELECT seq, hash FROM audit_events WHERE activity_id = $1 ORDER BY seq DESC LIMIT 1;

-- name: InsertAuditEvent :exec
INSERT INTO audit_events (activity_id, seq, type, actor, party, at, content, prev_hash, hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: ListAuditEvents :many
SELECT * FROM audit_events
WHERE activity_id = $1 AND seq > sqlc.arg(after_seq)
ORDER BY seq
LIMIT sqlc.arg(max_rows);

-- name: InsertNotification :execrows
INSERT INTO notifications (key, principal_id, activity_id, seq, kind, content)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (key) DO NOTHING;

-- name: GetActivity :one
SELECT * FROM activities WHERE id = $1;

-- name: GetActivityAndFailure :one
-- An activity with the change the read model refused of it, if any: what a
-- reader is shown, in one round trip.
SELECT sqlc.embed(a), f.seq AS failed_seq, f.first_failed_at AS failed_since
FROM activities a LEFT JOIN record_failures f ON f.activity_id = a.id
WHERE a.id = $1;

-- name: ListActivities :many
-- Filters are optional; the order (proposed_at, id) never changes for a
-- row, so the keyset cursor is stable while activities change. q is a LIKE
-- pattern over the folded search column, already folded and escaped.
-- With a status, a pending party is a condition on their pair (see
-- migration 015), so the planner estimates the pair as it occurs rather
-- than as if the two were independent; the status stays a condition of
-- its own too, for its index to serve a scan in list order.
SELECT * FROM activities a
WHERE (sqlc.narg(visible_party)::text IS NULL OR a.parties @> ARRAY[sqlc.narg(visible_party)::text])
  AND (sqlc.narg(status)::text IS NULL OR a.status = sqlc.narg(status))
  AND (sqlc.narg(party)::text IS NULL OR a.parties @> ARRAY[sqlc.narg(party)::text])
  AND (sqlc.narg(pending_party)::text IS NULL OR sqlc.narg(status)::text IS NOT NULL
       OR a.pending_parties @> ARRAY[sqlc.narg(pending_party)::text])
  AND (sqlc.narg(status)::text IS NULL OR sqlc.narg(pending_party)::text IS NULL
       OR a.status_pending @> ARRAY[sqlc.narg(status)::text || ':' || sqlc.narg(pending_party)::text])
  AND (sqlc.narg(horizon)::text IS NULL OR a.horizons @> ARRAY[sqlc.narg(horizon)::text])
  AND (sqlc.narg(dialogue)::text IS NULL OR a.dialogue_id = sqlc.narg(dialogue))
  AND (sqlc.narg(q)::text IS NULL OR a.search LIKE sqlc.narg(q))
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR a.next_due < sqlc.narg(due_before))
  AND (sqlc.narg(due_after)::timestamptz IS NULL OR a.next_due >= sqlc.narg(due_after))
  AND (NOT sqlc.arg(overdue_only)::boolean OR (a.status IN ('active', 'suspended') AND a.next_due < sqlc.arg(now)::timestamptz))
  AND (sqlc.narg(cursor_at)::timestamptz IS NULL
       OR (a.proposed_at, a.id) < (sqlc.narg(cursor_at)::timestamptz, sqlc.narg(cursor_id)::text))
ORDER BY a.proposed_at DESC, a.id DESC
LIMIT sqlc.arg(max_rows);

-- name: GetIdempotencyKey :one
SELECT * FROM idempotency_keys WHERE principal_id = $1 AND key = $2;

-- name: InsertIdempotencyKey :execrows
INSERT INTO idempotency_keys (principal_id, key, request_hash, activity_id)
VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING;

-- name: ListInbox :many
-- Unread first, newest first within each; the cursor is the last row's
-- (read, id).
SELECT * FROM notifications
WHERE principal_id = $1
  AND (NOT sqlc.arg(unread_only)::boolean OR read_at IS NULL)
  AND (sqlc.narg(cursor_read)::boolean IS NULL
       OR (read_at IS NOT NULL) > sqlc.narg(cursor_read)::boolean
       OR ((read_at IS NOT NULL) = sqlc.narg(cursor_read)::boolean AND id < sqlc.narg(cursor_id)::bigint))
ORDER BY (read_at IS NOT NULL), id DESC
LIMIT sqlc.arg(max_rows);

-- name: MarkRead :execrows
UPDATE notifications SET read_at = now()
WHERE principal_id = $1 AND id = ANY (sqlc.arg(ids)::bigint[]) AND read_at IS NULL;

-- name: MarkAllRead :execrows
UPDATE notifications SET read_at = now() WHERE principal_id = $1 AND read_at IS NULL;

-- name: NotifyRecorded :exec
-- Delivered at commit to every API process waiting on this activity.
SELECT pg_notify('pacto_recorded', sqlc.arg(activity_id)::text);

-- name: DisplayNames :many
-- The names people read for principals and parties, by id and code.
SELECT 'principal'::text AS kind, id AS key, name FROM principals WHERE id = ANY(sqlc.arg(principals)::text[])
UNION ALL
SELECT 'party'::text, code, name FROM parties WHERE code = ANY(sqlc.arg(parties)::text[]);

-- name: AwaitingParty :many
-- Active activities that wait for a party: one of its open milestones due
-- before due_before, or an extension pending its decision; soonest first.
SELECT a.* FROM activities a
WHERE a.status = 'active' AND a.id IN (
    SELECT m.activity_id FROM milestones m
    WHERE m.owner_party = sqlc.arg(party)::text AND m.status = 'open' AND m.due_at < sqlc.arg(due_before)::timestamptz
    UNION
    SELECT x.activity_id FROM extensions x
    WHERE x.status = 'pending'
      AND x.decisions @> jsonb_build_array(jsonb_build_object('party', sqlc.arg(party)::text, 'decision', 'pending')))
ORDER BY a.next_due NULLS LAST, a.id
LIMIT sqlc.arg(max_rows);
