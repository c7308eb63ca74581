-- name: PutMeetingReport :exec
-- A draft is replaced by a later one; a frozen report is written once.
INSERT INTO meeting_reports (dialogue_id, meeting, kind, report, sha256, differences, created_at)
VALUES ($1, $2, $3, $4, $5, $6, now())
ON CONFLICT (dialogue_id, meeting, kind) DO UPDATE
    SET report = EXCLUDED.report, sha256 = EXCLUDED.sha256, differences = EXCLUDED.differences, created_at = now()
    WHERE meeting_reports.kind = 'draft';

-- name: MeetingReport :one
SELECT * FROM meeting_reports WHERE dialogue_id = $1 AND meeting = $2 AND kind = $3;

-- name: PutMeetingStatement :exec
INSERT INTO meeting_statements (dialogue_id, meeting, id, activity_id, party, author, body, made_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (dialogue_id, meeting, id) DO NOTHING;

-- name: MeetingStatements :many
SELECT * FROM meeting_statements WHERE dialogue_id = $1 AND meeting = $2 ORDER BY made_at, id;
