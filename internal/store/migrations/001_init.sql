-- Trigram indexes serve the API's free-text filter on title and summary.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE parties (
    code        text PRIMARY KEY CHECK (code ~ '^[A-Z][A-Z0-9_-]{0,15}$'),
    name        text NOT NULL CHECK (name <> ''),
    time_zone   text NOT NULL,
    language    text NOT NULL CHECK (language IN ('es', 'en')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dialogues (
    id          text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$'),
    name        text NOT NULL CHECK (name <> ''),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dialogue_parties (
    dialogue_id text NOT NULL REFERENCES dialogues (id) ON DELETE CASCADE,
    party_code  text NOT NULL REFERENCES parties (code),
    PRIMARY KEY (dialogue_id, party_code)
);

CREATE TABLE principals (
    id          text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$'),
    party_code  text REFERENCES parties (code),
    roles       text[] NOT NULL CHECK (
                    cardinality(roles) > 0
                    AND roles <@ ARRAY['coordinator', 'approver', 'observer', 'admin']),
    name        text NOT NULL,
    email       text NOT NULL DEFAULT '',
    language    text NOT NULL DEFAULT 'en' CHECK (language IN ('es', 'en')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz,
    -- Only an admin may stand outside every party.
    CHECK (party_code IS NOT NULL OR roles <@ ARRAY['admin'])
);
CREATE INDEX principals_party ON principals (party_code);

-- A token is stored only as the SHA-256 of its secret; the secret is shown once.
CREATE TABLE api_tokens (
    id           text PRIMARY KEY,
    principal_id text NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    name         text NOT NULL DEFAULT '',
    secret_hash  bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_principal ON api_tokens (principal_id);

-- The read model of each activity: one row, guarded by the workflow's
-- sequence so a late or repeated write never replaces newer state.
CREATE TABLE activities (
    id              text PRIMARY KEY,
    dialogue_id     text NOT NULL,
    title           text NOT NULL,
    summary         text NOT NULL DEFAULT '',
    status          text NOT NULL,
    version         integer NOT NULL,
    seq             bigint NOT NULL,
    proposer        text NOT NULL,
    proposer_party  text NOT NULL,
    parties         text[] NOT NULL,
    pending_parties text[] NOT NULL DEFAULT '{}',
    horizons        text[] NOT NULL DEFAULT '{}',
    -- next_due is the earliest due time of an open milestone: past it the
    -- activity is red; from amber_from it is amber. Colour is derived from
    -- these at read time, never stored.
    next_due        timestamptz,
    amber_from      timestamptz,
    next_wake       timestamptz,
    snapshot        jsonb NOT NULL,
    proposed_at     timestamptz NOT NULL,
    activated_at    timestamptz,
    closed_at       timestamptz,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX activities_order ON activities (proposed_at DESC, id DESC);
CREATE INDEX activities_dialogue ON activities (dialogue_id, proposed_at DESC, id DESC);
CREATE INDEX activities_status ON activities (status, proposed_at DESC, id DESC);
CREATE INDEX activities_parties ON activities USING gin (parties);
CREATE INDEX activities_pending ON activities USING gin (pending_parties);
CREATE INDEX activities_horizons ON activities USING gin (horizons);
CREATE INDEX activities_next_due ON activities (next_due) WHERE next_due IS NOT NULL;
CREATE INDEX activities_text ON activities USING gin ((title || ' ' || summary) gin_trgm_ops);

CREATE TABLE milestones (
    activity_id  text NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    id           text NOT NULL,
    position     integer NOT NULL,
    title        text NOT NULL,
    owner_party  text NOT NULL,
    term         text NOT NULL,
    due_spec     text NOT NULL,
    due_at       timestamptz,
    status       text NOT NULL,
    completed_at timestamptz,
    indicator    jsonb,
    evidence     text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (activity_id, id)
);
CREATE INDEX milestones_due ON milestones (due_at) WHERE status = 'open';

CREATE TABLE approvals (
    activity_id text NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    party       text NOT NULL,
    decision    text NOT NULL,
    version     integer NOT NULL DEFAULT 0,
    decided_by  text NOT NULL DEFAULT '',
    decided_at  timestamptz,
    comment     text NOT NULL DEFAULT '',
    PRIMARY KEY (activity_id, party)
);

CREATE TABLE extensions (
    activity_id  text NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    id           text NOT NULL,
    milestone_id text NOT NULL,
    new_due_at   timestamptz NOT NULL,
    reason       text NOT NULL,
    status       text NOT NULL,
    requested_by text NOT NULL,
    requested_at timestamptz NOT NULL,
    decisions    jsonb NOT NULL,
    PRIMARY KEY (activity_id, id)
);

-- The audit log: append-only, one hash chain per activity. Each row's hash
-- is SHA-256(prev_hash || content). content keeps the exact canonical JSON
-- bytes that were hashed (jsonb would reorder them), so anyone can verify.
CREATE TABLE audit_events (
    activity_id text NOT NULL,
    seq         bigint NOT NULL CHECK (seq > 0),
    type        text NOT NULL,
    actor       text NOT NULL,
    party       text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL,
    content     text NOT NULL,
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (activity_id, seq)
);

CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
END;
$$;

CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- The inbox: one row per recipient and event, idempotent on its key.
CREATE TABLE notifications (
    id           bigserial PRIMARY KEY,
    key          text NOT NULL UNIQUE,
    principal_id text NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    activity_id  text NOT NULL,
    seq          bigint NOT NULL,
    kind         text NOT NULL,
    content      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    read_at      timestamptz
);
CREATE INDEX notifications_inbox ON notifications (principal_id, (read_at IS NOT NULL), id DESC);

-- Idempotency-Key on creates: the same key and body return the same activity.
CREATE TABLE idempotency_keys (
    principal_id text NOT NULL,
    key          text NOT NULL,
    request_hash bytea NOT NULL,
    activity_id  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal_id, key)
);

---- create above / drop below ----

DROP TABLE idempotency_keys;
DROP TABLE notifications;
DROP TABLE audit_events;
DROP FUNCTION audit_events_append_only();
DROP TABLE extensions;
DROP TABLE approvals;
DROP TABLE milestones;
DROP TABLE activities;
DROP TABLE api_tokens;
DROP TABLE principals;
DROP TABLE dialogue_parties;
DROP TABLE dialogues;
DROP TABLE parties;
