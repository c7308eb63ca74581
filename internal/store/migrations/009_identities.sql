-- Who a person is at their party's OpenID Connect provider: the provider's
-- issuer and the subject it gives them, linked to a principal. An identity
-- names one principal; a principal may have several (a new provider, a
-- re-issued account).
CREATE TABLE principal_identities (
    issuer       text NOT NULL CHECK (char_length(issuer) BETWEEN 1 AND 2048),
    -- OpenID Connect bounds a subject at 255 ASCII characters.
    subject      text NOT NULL CHECK (char_length(subject) BETWEEN 1 AND 255),
    principal_id text NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (issuer, subject)
);
CREATE INDEX principal_identities_principal ON principal_identities (principal_id);

-- Sign-ins under way at a provider: what the callback must check (the
-- nonce), prove (the PKCE verifier) and where it goes next. A row is found
-- by the SHA-256 of its state, which only the browser that started it
-- holds, is taken once, and is no use after expires_at. Kept here rather
-- than in the browser so that any API process can finish what another
-- started.
CREATE TABLE signin_flows (
    state_hash bytea PRIMARY KEY,
    party_code text NOT NULL,
    nonce      text NOT NULL,
    verifier   text NOT NULL,
    next       text NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX signin_flows_expiry ON signin_flows (expires_at);

---- create above / drop below ----

DROP TABLE signin_flows;
DROP TABLE principal_identities;
