-- name: CreateParty :one
INSERT INTO parties (code, name, time_zone, language, iati_org_ref, iati_org_type)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING *;

-- name: SetPartyIATI :one
UPDATE parties SET iati_org_ref = $2, iati_org_type = $3
WHERE code = $1
RETURNING *;

-- name: ListParties :many
SELECT * FROM parties ORDER BY code;

-- name: CreateDialogue :one
INSERT INTO dialogues (id, name) VALUES ($1, $2) RETURNING *;

-- name: SetDialogueLanguages :one
-- The languages given, or else those of the dialogue's parties.
UPDATE dialogues SET languages = CASE WHEN cardinality(sqlc.arg(languages)::text[]) > 0 THEN sqlc.arg(languages)::text[] ELSE ARRAY(
    SELECT DISTINCT p.language FROM dialogue_parties dp
    JOIN parties p ON p.code = dp.party_code
    WHERE dp.dialogue_id = sqlc.arg(id)
    ORDER BY p.language) END
WHERE id = sqlc.arg(id)
RETURNING languages;

-- name: PartyLanguagesMissing :many
-- The dialogue's parties whose language is not one of its languages.
SELECT p.code, p.language FROM dialogue_parties dp
JOIN parties p ON p.code = dp.party_code
JOIN dialogues d ON d.id = dp.dialogue_id
WHERE dp.dialogue_id = $1 AND NOT p.language = ANY(d.languages)
ORDER BY p.code;

-- name: SetDialogueIATI :execrows
-- The reporting party must be one of the dialogue's (or none).
UPDATE dialogues SET iati_reporting_party = sqlc.narg(reporting_party), iati_sector = sqlc.arg(sector),
    iati_recipient_countries = sqlc.arg(recipient_countries)::text[]
WHERE id = sqlc.arg(id)
  AND (sqlc.narg(reporting_party)::text IS NULL OR EXISTS (
      SELECT 1 FROM dialogue_parties dp WHERE dp.dialogue_id = sqlc.arg(id) AND dp.party_code = sqlc.narg(reporting_party)));

-- name: AddDialogueParty :exec
INSERT INTO dialogue_parties (dialogue_id, party_code) VALUES ($1, $2)
ON CONFLICT DO NOTHING;

-- name: GetDialogue :one
SELECT * FROM dialogues WHERE id = $1;

-- name: ListDialogues :many
SELECT d.*, coalesce(array_agg(dp.party_code ORDER BY dp.party_code) FILTER (WHERE dp.party_code IS NOT NULL), '{}')::text[] AS party_codes
FROM dialogues d
LEFT JOIN dialogue_parties dp ON dp.dialogue_id = d.id
GROUP BY d.id
ORDER BY d.id;

-- name: ListDialogueParties :many
SELECT p.* FROM dialogue_parties dp
JOIN parties p ON p.code = dp.party_code
WHERE dp.dialogue_id = $1
ORDER BY p.code;

-- name: CreatePrincipal :one
INSERT INTO principals (id, party_code, roles, name, email, language)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING *;

-- name: GetPrincipal :one
SELECT * FROM principals WHERE id = $1;

-- name: ListPrincipals :many
SELECT * FROM principals
WHERE (sqlc.narg(party)::text IS NULL OR party_code = sqlc.narg(party))
ORDER BY id;

-- name: DisablePrincipal :execrows
UPDATE principals SET disabled_at = now() WHERE id = $1 AND disabled_at IS NULL;

-- name: PrincipalsFor :many
-- The active principals of the given parties holding any of the given roles.
SELECT * FROM principals
WHERE disabled_at IS NULL
  AND party_code = ANY (sqlc.arg(parties)::text[])
  AND roles && sqlc.arg(roles)::text[]
ORDER BY id;

-- name: CreateToken :one
INSERT INTO api_tokens (id, principal_id, name, secret_hash)
VALUES ($1, $2, $3, $4)
RETURNING id, principal_id, name, created_at, last_used_at, revoked_at;

-- name: ListTokens :many
SELECT id, principal_id, name, created_at, last_used_at, revoked_at FROM api_tokens
WHERE (sqlc.narg(principal)::text IS NULL OR principal_id = sqlc.narg(principal))
ORDER BY created_at, id;

-- name: RevokeToken :execrows
UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL;

-- name: Authenticate :one
-- The principal behind a live token.
SELECT t.id AS token_id, t.last_used_at, p.*
FROM api_tokens t
JOIN principals p ON p.id = t.principal_id
WHERE t.secret_hash = $1 AND t.revoked_at IS NULL AND p.disabled_at IS NULL;

-- name: TouchToken :exec
UPDATE api_tokens SET last_used_at = $2 WHERE id = $1;
