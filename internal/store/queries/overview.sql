-- name: DialogueStatusCounts :many
-- How many of a dialogue's activities are in each status; visible_party,
-- when given, keeps only the activities that party takes part in.
SELECT a.status, count(*)::bigint AS activities
FROM activities a
WHERE a.dialogue_id = sqlc.arg(dialogue)
  AND (sqlc.narg(visible_party)::text IS NULL OR a.parties @> ARRAY[sqlc.narg(visible_party)::text])
GROUP BY a.status
ORDER BY a.status;

-- name: DialogueTermCounts :many
-- How many of a dialogue's activities in each status have milestones of
-- each term (an activity with milestones of two terms counts in both).
SELECT a.status, h.term::text AS term, count(*)::bigint AS activities
FROM activities a
CROSS JOIN LATERAL unnest(a.horizons) AS h(term)
WHERE a.dialogue_id = sqlc.arg(dialogue)
  AND (sqlc.narg(visible_party)::text IS NULL OR a.parties @> ARRAY[sqlc.narg(visible_party)::text])
GROUP BY a.status, h.term
ORDER BY a.status, h.term;

-- name: MilestoneTimeliness :many
-- For each owner party and period i, [bounds[i], bounds[i+1]) (i from 1),
-- the milestones due in it: completed by their due time, after it, and
-- still open past it in a running activity (overdue at now).
SELECT m.owner_party, p.period::int AS period,
       count(*) FILTER (WHERE m.completed_at <= m.due_at)::bigint AS on_time,
       count(*) FILTER (WHERE m.completed_at > m.due_at)::bigint AS late,
       count(*) FILTER (WHERE m.completed_at IS NULL)::bigint AS overdue
FROM milestones m
JOIN activities a ON a.id = m.activity_id
JOIN generate_series(1, cardinality(sqlc.arg(bounds)::timestamptz[]) - 1) AS p(period)
  ON m.due_at >= (sqlc.arg(bounds)::timestamptz[])[p.period]
 AND m.due_at < (sqlc.arg(bounds)::timestamptz[])[p.period + 1]
WHERE a.dialogue_id = sqlc.arg(dialogue)
  AND (sqlc.narg(visible_party)::text IS NULL OR a.parties @> ARRAY[sqlc.narg(visible_party)::text])
  AND (m.completed_at IS NOT NULL
       OR (m.status = 'open' AND m.due_at < sqlc.arg(now)::timestamptz AND a.status IN ('active', 'suspended')))
GROUP BY m.owner_party, p.period
ORDER BY m.owner_party, p.period;
