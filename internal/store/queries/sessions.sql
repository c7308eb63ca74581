-- name: CreateSession :exec
-- Stamped with the caller's clock, which the idle and absolute limits are
-- measured by too.
INSERT INTO sessions (secret_hash, principal_id, created_at, last_seen_at, expires_at, via)
VALUES (sqlc.arg(secret_hash), sqlc.arg(principal_id), sqlc.arg(now), sqlc.arg(now), sqlc.arg(expires_at), sqlc.arg(via));

-- name: SessionPrincipal :one
-- The principal behind a live session: not past its absolute expiry, not
-- idle since before idle_since, and not disabled.
SELECT s.last_seen_at, p.*
FROM sessions s
JOIN principals p ON p.id = s.principal_id
WHERE s.secret_hash = sqlc.arg(secret_hash) AND s.expires_at > sqlc.arg(now)
  AND s.last_seen_at > sqlc.arg(idle_since) AND p.disabled_at IS NULL;

-- name: TouchSession :exec
UPDATE sessions SET last_seen_at = $2 WHERE secret_hash = $1;

-- name: DeleteSession :exec
DELETE FROM sessions WHERE secret_hash = $1;

-- name: DeletePrincipalSessions :exec
DELETE FROM sessions WHERE principal_id = $1;

-- name: DeleteExpiredSessions :execrows
DELETE FROM sessions WHERE expires_at <= sqlc.arg(now) OR last_seen_at <= sqlc.arg(idle_since);
