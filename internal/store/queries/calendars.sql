-- name: SetDialogueCalendar :exec
INSERT INTO dialogue_calendars (dialogue_id, calendar, updated_by, updated_at)
VALUES ($1, $2, $3, now())
ON CONFLICT (dialogue_id) DO UPDATE SET calendar = EXCLUDED.calendar, updated_by = EXCLUDED.updated_by, updated_at = now();

-- name: DialogueCalendar :one
SELECT * FROM dialogue_calendars WHERE dialogue_id = $1;

-- name: ReplaceDialogueCalendar :execrows
-- Replaces the calendar only if it is still the one the caller read.
UPDATE dialogue_calendars
SET calendar = sqlc.arg(calendar), updated_by = sqlc.arg(updated_by), updated_at = now()
WHERE dialogue_id = sqlc.arg(dialogue_id) AND calendar = sqlc.arg(read)::jsonb;
