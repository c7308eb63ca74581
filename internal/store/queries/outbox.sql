-- name: OutboxDepth :many
-- The deliveries not sent, by channel and status (pending or failed), and
-- how many of them no relay has handed on yet: what a worker's /metrics
-- reports at each scrape. The partial index on status serves it.
SELECT channel, status, count(*)::bigint AS deliveries,
       count(*) FILTER (WHERE dispatched_at IS NULL)::bigint AS undispatched
FROM deliveries
WHERE status <> 'sent'
GROUP BY channel, status
ORDER BY channel, status;
