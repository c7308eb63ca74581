-- name: InsertEmailDeliveries :exec
-- For each new inbox row of these events whose principal has an address
-- and wants email: a mail now or, for a principal who reads a daily
-- digest, a mark the digest collects (see QueueDigest).
WITH mailed AS (
    SELECT n.id, n.activity_id, n.seq, n.content, p.digest_hour IS NOT NULL AS digest
    FROM notifications n
    JOIN principals p ON p.id = n.principal_id
    WHERE n.activity_id = sqlc.arg(activity_id) AND n.seq = ANY (sqlc.arg(seqs)::bigint[])
      AND p.email <> '' AND p.email_notifications AND p.disabled_at IS NULL
), marked AS (
    UPDATE notifications SET digest_pending = true
    WHERE id IN (SELECT m.id FROM mailed m WHERE m.digest)
)
INSERT INTO deliveries (id, channel, notification_id, activity_id, seq, content)
SELECT 'email-' || m.id, 'email', m.id, m.activity_id, m.seq, m.content
FROM mailed m
WHERE NOT m.digest
ON CONFLICT (id) DO NOTHING;

-- name: InsertWebhookDelivery :exec
INSERT INTO deliveries (id, channel, subscription_id, activity_id, seq, content)
SELECT sqlc.arg(id), 'webhook', s.id, sqlc.arg(activity_id), sqlc.arg(seq), sqlc.arg(content)
FROM webhook_subscriptions s
WHERE s.id = sqlc.arg(subscription_id) AND s.disabled_at IS NULL
ON CONFLICT (id) DO NOTHING;

-- name: MatchingSubscriptions :many
SELECT id FROM webhook_subscriptions
WHERE disabled_at IS NULL
  AND (cardinality(event_types) = 0 OR sqlc.arg(event_type)::text = ANY (event_types))
  AND (cardinality(parties) = 0 OR parties && sqlc.arg(parties)::text[])
ORDER BY id;

-- name: ClaimUndispatched :many
-- Locks the oldest rows no relay has handed on yet; rows another relay
-- holds are skipped, not waited for.
SELECT id FROM deliveries
WHERE dispatched_at IS NULL
ORDER BY created_at, id
LIMIT sqlc.arg(max_rows)
FOR UPDATE SKIP LOCKED;

-- name: MarkDispatched :exec
UPDATE deliveries SET dispatched_at = now() WHERE id = ANY (sqlc.arg(ids)::text[]);

-- name: GetDelivery :one
SELECT d.id, d.channel, d.status, d.content, coalesce(p.id, '') AS principal_id, coalesce(p.name, '') AS principal_name,
       coalesce(p.email, '') AS principal_email, coalesce(p.language, 'en') AS principal_language,
       coalesce(pt.time_zone, 'UTC') AS principal_time_zone,
       coalesce(s.url, '') AS webhook_url, coalesce(s.secret, '') AS webhook_secret
FROM deliveries d
LEFT JOIN notifications n ON n.id = d.notification_id
-- An email's recipient is its inbox row's; a digest's is its own.
LEFT JOIN principals p ON p.id = coalesce(n.principal_id, d.principal_id)
LEFT JOIN parties pt ON pt.code = p.party_code
LEFT JOIN webhook_subscriptions s ON s.id = d.subscription_id
WHERE d.id = $1;

-- name: NoteDeliveryAttempt :exec
UPDATE deliveries SET attempts = attempts + 1, last_error = sqlc.arg(last_error) WHERE id = sqlc.arg(id);

-- name: MarkDeliverySent :execrows
UPDATE deliveries SET status = 'sent', sent_at = now(), last_error = '' WHERE id = $1 AND status <> 'sent';

-- name: MarkDeliveryFailed :execrows
UPDATE deliveries SET status = 'failed', failed_at = now(), last_error = sqlc.arg(last_error)
WHERE id = sqlc.arg(id) AND status = 'pending';

-- name: RetryDelivery :execrows
UPDATE deliveries SET status = 'pending', failed_at = NULL WHERE id = $1 AND status = 'failed';

-- name: ListDeliveries :many
SELECT id, channel, activity_id, seq, status, attempts, last_error, created_at, sent_at, failed_at
FROM deliveries
WHERE (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
ORDER BY created_at DESC, id
LIMIT sqlc.arg(max_rows);

-- name: CreateWebhookSubscription :one
INSERT INTO webhook_subscriptions (id, url, secret, event_types, parties)
VALUES ($1, $2, $3, $4, $5)
RETURNING id, url, event_types, parties, created_at, disabled_at;

-- name: ListWebhookSubscriptions :many
SELECT id, url, event_types, parties, created_at, disabled_at FROM webhook_subscriptions ORDER BY id;

-- name: DisableWebhookSubscription :execrows
UPDATE webhook_subscriptions SET disabled_at = now() WHERE id = $1 AND disabled_at IS NULL;

-- name: SetEmailNotifications :execrows
UPDATE principals SET email_notifications = $2 WHERE id = $1;

-- name: EmailNotifications :one
SELECT email_notifications FROM principals WHERE id = $1;
