-- A meeting's reports as the Review workflow keeps them: the draft,
-- compiled ahead of the meeting, and the frozen report of the meeting
-- itself, which never changes once written. The report is kept as the
-- exact JSON bytes its SHA-256 was taken of (json, unlike jsonb, keeps
-- them), so anyone can check the digest against the column.
CREATE TABLE meeting_reports (
    dialogue_id text NOT NULL REFERENCES dialogues (id) ON DELETE CASCADE,
    meeting     integer NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('draft', 'frozen')),
    report      json NOT NULL,
    sha256      text NOT NULL,
    -- differences lists where the report's figures differ from those
    -- recomputed from the audit log; empty when they agree.
    differences text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dialogue_id, meeting, kind)
);

-- Statements the coordinators of the parties make about their activities
-- ahead of a meeting.
CREATE TABLE meeting_statements (
    dialogue_id text NOT NULL REFERENCES dialogues (id) ON DELETE CASCADE,
    meeting     integer NOT NULL,
    id          text NOT NULL,
    activity_id text NOT NULL,
    party       text NOT NULL,
    author      text NOT NULL,
    body        text NOT NULL,
    made_at     timestamptz NOT NULL,
    PRIMARY KEY (dialogue_id, meeting, id)
);

---- create above / drop below ----

DROP TABLE meeting_statements;
DROP TABLE meeting_reports;
