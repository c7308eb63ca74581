-- A dialogue's authentic languages: the languages its activities' texts
-- are written in, each text equally authentic. By default the languages
-- of its parties, which is what existing dialogues get.
ALTER TABLE dialogues ADD COLUMN languages text[] NOT NULL DEFAULT '{}';
UPDATE dialogues d SET languages = ARRAY(
    SELECT DISTINCT p.language FROM dialogue_parties dp
    JOIN parties p ON p.code = dp.party_code
    WHERE dp.dialogue_id = d.id
    ORDER BY p.language);

---- create above / drop below ----

ALTER TABLE dialogues DROP COLUMN languages;
