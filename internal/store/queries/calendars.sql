-- name: SetDialogueCalendar :exec
INSERT INTO dialogue_calendars (dialogue_id, calendar, updated_by, updated_at)
VALUES ($1, $2, $3, now())
ON CONFLICT (dialogue_id) DO UPDATE SET calendar = EXCLUDED.calendar, updated_by = EXCLUDED.updated_by, updated_at = now();

-- name: DialogueCalendar :one
SELECT * FROM dialogue_calendars WHERE dialogue_id = $1;
