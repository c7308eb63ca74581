-- name: NotificationPreferences :one
SELECT email_notifications, digest_hour FROM principals WHERE id = $1;

-- name: LockNotificationPreferences :one
-- NO KEY: Record's inserts of the principal's notices (whose foreign key
-- check takes KEY SHARE) need not wait for this.
SELECT email_notifications, digest_hour, digested_through FROM principals WHERE id = $1 FOR NO KEY UPDATE;

-- name: SetNotificationPreferences :exec
-- A null digested_through keeps the watermark as it is.
UPDATE principals
SET email_notifications = sqlc.arg(email), digest_hour = sqlc.narg(digest_hour),
    digested_through = coalesce(sqlc.narg(digested_through), digested_through)
WHERE id = sqlc.arg(id);

-- name: ClearDigestPending :exec
-- Email turned off: what the digest had collected will not be mailed.
UPDATE notifications SET digest_pending = false WHERE principal_id = $1 AND digest_pending;

-- name: DigestCandidates :many
-- The principals a digest may be due for: those who read one, and those
-- who left it with notices still collected (they get them in one last
-- digest). pending says whether anything is collected.
SELECT p.id, p.digest_hour, p.digested_through, coalesce(pt.time_zone, 'UTC')::text AS time_zone,
       EXISTS (SELECT 1 FROM notifications n WHERE n.principal_id = p.id AND n.digest_pending) AS pending
FROM principals p
LEFT JOIN parties pt ON pt.code = p.party_code
WHERE p.disabled_at IS NULL AND p.email <> '' AND p.email_notifications
  AND (p.digest_hour IS NOT NULL
       OR EXISTS (SELECT 1 FROM notifications n WHERE n.principal_id = p.id AND n.digest_pending))
ORDER BY p.id;

-- name: LockDigestWatermark :one
-- NO KEY, as LockNotificationPreferences.
SELECT digested_through FROM principals WHERE id = $1 FOR NO KEY UPDATE;

-- name: PendingDigest :many
SELECT id, content FROM notifications WHERE principal_id = $1 AND digest_pending ORDER BY id;

-- name: MarkDigested :exec
UPDATE notifications SET digest_pending = false WHERE id = ANY (sqlc.arg(ids)::bigint[]);

-- name: AdvanceDigestWatermark :exec
UPDATE principals SET digested_through = sqlc.arg(through) WHERE id = sqlc.arg(id);

-- name: InsertDigestDelivery :exec
INSERT INTO deliveries (id, channel, principal_id, activity_id, seq, content)
VALUES (sqlc.arg(id), 'digest', sqlc.arg(principal_id), '', 0, sqlc.arg(content));
