-- 0007_calendar: a private iCalendar feed of each person's deadlines, addressed by a secret token.
CREATE TABLE accord.calendar_feed (
    person_id     bigint PRIMARY KEY REFERENCES accord.person (id),
    token_sha256  bytea NOT NULL
                  CONSTRAINT calendar_feed_sha256_length CHECK (octet_length(token_sha256) = 32),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT calendar_feed_token_unique UNIQUE (token_sha256)
);
COMMENT ON TABLE accord.calendar_feed IS 'One feed per person: /calendar/TOKEN.ics. Only the token''s SHA-256 is kept; a new token replaces the old one.';
