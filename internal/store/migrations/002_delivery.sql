-- Email and webhook delivery of notifications.

-- A principal may turn email off; the inbox is always on.
ALTER TABLE principals ADD COLUMN email_notifications boolean NOT NULL DEFAULT true;

-- Webhook subscriptions, filtered by event type and party (empty = all).
-- The secret signs each delivery (Standard Webhooks), so it is kept as is.
CREATE TABLE webhook_subscriptions (
    id          text PRIMARY KEY,
    url         text NOT NULL CHECK (url ~ '^https?://'),
    secret      text NOT NULL CHECK (secret LIKE 'whsec_%'),
    event_types text[] NOT NULL DEFAULT '{}',
    parties     text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);

-- The outbox: one row per message to send, written in Record's transaction
-- so nothing recorded is ever left unsent. The id is the idempotency key
-- (the email's Message-ID, the webhook's webhook-id).
CREATE TABLE deliveries (
    id              text PRIMARY KEY,
    channel         text NOT NULL CHECK (channel IN ('email', 'webhook')),
    notification_id bigint REFERENCES notifications (id) ON DELETE CASCADE,
    subscription_id text REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    activity_id     text NOT NULL,
    seq             bigint NOT NULL,
    content         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    failed_at       timestamptz,
    CHECK ((channel = 'email') = (notification_id IS NOT NULL)),
    CHECK ((channel = 'webhook') = (subscription_id IS NOT NULL))
);
CREATE INDEX deliveries_activity ON deliveries (activity_id, seq);
CREATE INDEX deliveries_status ON deliveries (status, created_at) WHERE status <> 'sent';

---- create above / drop below ----

DROP TABLE deliveries;
DROP TABLE webhook_subscriptions;
ALTER TABLE principals DROP COLUMN email_notifications;
