-- Console sign-in sessions. Only the SHA-256 of a session's secret is
-- stored, so a leaked database opens no session. A session ends when it
-- has been idle too long, at its absolute expiry, on sign-out, or the
-- moment its principal is disabled (every lookup joins principals).
CREATE TABLE sessions (
    secret_hash  bytea PRIMARY KEY,
    principal_id text NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    -- How the principal signed in: 'dev' or the OpenID issuer.
    via          text NOT NULL
);
CREATE INDEX sessions_principal ON sessions (principal_id);

-- What awaits a party (the console's My work): its open milestones by
-- due time, and the extensions still pending.
CREATE INDEX milestones_owner_due ON milestones (owner_party, due_at) WHERE status = 'open';
CREATE INDEX extensions_pending ON extensions (activity_id) WHERE status = 'pending';

---- create above / drop below ----

DROP INDEX extensions_pending;
DROP INDEX milestones_owner_due;
DROP TABLE sessions;
