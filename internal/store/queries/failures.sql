-- name: UpsertRecordFailure :exec
INSERT INTO record_failures (activity_id, seq, sqlstate, message)
VALUES ($1, $2, $3, $4)
ON CONFLICT (activity_id) DO UPDATE SET
    seq = GREATEST(record_failures.seq, EXCLUDED.seq), sqlstate = EXCLUDED.sqlstate,
    message = EXCLUDED.message, attempts = record_failures.attempts + 1, last_failed_at = now();

-- name: ClearRecordFailure :exec
DELETE FROM record_failures WHERE activity_id = sqlc.arg(activity_id) AND seq <= sqlc.arg(seq);

-- name: RecordFailure :one
SELECT f.*, COALESCE(a.seq, 0)::bigint AS recorded_seq
FROM record_failures f LEFT JOIN activities a ON a.id = f.activity_id
WHERE f.activity_id = $1;

-- name: ListRecordFailures :many
SELECT f.*, COALESCE(a.seq, 0)::bigint AS recorded_seq
FROM record_failures f LEFT JOIN activities a ON a.id = f.activity_id
ORDER BY f.first_failed_at, f.activity_id
LIMIT sqlc.arg(max_rows);

-- name: CountRecordFailures :one
SELECT count(*) FROM record_failures;
