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

-- name: ClaimMeeting :one
-- The first run claims a meeting; a cancelled meeting put back on the
-- calendar may be claimed again. It returns the run that holds it.
INSERT INTO meetings (dialogue_id, meeting, workflow_id, meeting_at, phase)
VALUES (sqlc.arg(dialogue_id), sqlc.arg(meeting), sqlc.arg(workflow_id), sqlc.arg(meeting_at), 'waiting')
ON CONFLICT (dialogue_id, meeting) DO UPDATE
    SET workflow_id = CASE WHEN meetings.phase = 'cancelled' THEN EXCLUDED.workflow_id ELSE meetings.workflow_id END,
        meeting_at = CASE WHEN meetings.phase = 'cancelled' THEN EXCLUDED.meeting_at ELSE meetings.meeting_at END,
        phase = CASE WHEN meetings.phase = 'cancelled' THEN 'waiting' ELSE meetings.phase END,
        updated_at = now()
RETURNING workflow_id;

-- name: UpdateMeeting :exec
UPDATE meetings
SET phase = sqlc.arg(phase), meeting_at = sqlc.arg(meeting_at),
    minutes = COALESCE(sqlc.narg(minutes), minutes),
    minutes_version = COALESCE(sqlc.narg(minutes_version), minutes_version),
    adopted_at = COALESCE(sqlc.narg(adopted_at), adopted_at),
    updated_at = now()
WHERE dialogue_id = sqlc.arg(dialogue_id) AND meeting = sqlc.arg(meeting) AND workflow_id = sqlc.arg(workflow_id);

-- name: GetMeeting :one
SELECT * FROM meetings WHERE dialogue_id = $1 AND meeting = $2;

-- name: ListMeetings :many
SELECT * FROM meetings WHERE dialogue_id = $1 ORDER BY meeting;
