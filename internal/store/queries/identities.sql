-- name: LinkIdentity :one
-- Links an identity to a principal; an identity already linked keeps its
-- principal, which is returned either way.
WITH linked AS (
    INSERT INTO principal_identities (issuer, subject, principal_id) VALUES ($1, $2, $3)
    ON CONFLICT (issuer, subject) DO NOTHING
    RETURNING *, true AS created
)
SELECT issuer, subject, principal_id, created_at, created FROM linked
UNION ALL
SELECT issuer, subject, principal_id, created_at, false FROM principal_identities
WHERE issuer = $1 AND subject = $2 AND NOT EXISTS (SELECT 1 FROM linked);

-- name: ListIdentities :many
SELECT * FROM principal_identities WHERE principal_id = $1 ORDER BY created_at, issuer, subject;

-- name: IdentityPrincipal :one
-- The principal an identity is linked to, disabled or not.
SELECT p.* FROM principal_identities i
JOIN principals p ON p.id = i.principal_id
WHERE i.issuer = $1 AND i.subject = $2;

-- name: PrincipalsByEmail :many
-- The enabled principals of a party with an address, compared as people
-- write addresses: without regard to case.
SELECT * FROM principals
WHERE disabled_at IS NULL AND party_code = $1 AND email <> '' AND lower(email) = lower(sqlc.arg(email))
ORDER BY id;

-- name: DeleteExpiredSignIns :exec
DELETE FROM signin_flows WHERE expires_at <= $1;

-- name: StartSignIn :exec
INSERT INTO signin_flows (state_hash, party_code, nonce, verifier, next, expires_at) VALUES ($1, $2, $3, $4, $5, $6);

-- name: TakeSignIn :one
DELETE FROM signin_flows WHERE state_hash = $1 AND expires_at > sqlc.arg(now)
RETURNING party_code, nonce, verifier, next;
