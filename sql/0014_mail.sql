-- 0014_mail: e-mail that reaches people. A message is written in the transaction of its cause (a
-- sign-off requested, a reminder, an escalation, an invitation…), sent after commit by whichever
-- scheduler leases it, retried on temporary failures and given up, for administrators to see, on
-- permanent ones. Each person chooses per kind: at once, in the daily digest, or off; escalations and
-- incidents can move to the digest but never be switched off.

ALTER TABLE accord.person
    ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC'
        CONSTRAINT person_time_zone_length CHECK (length(time_zone) BETWEEN 1 AND 64),
    ADD COLUMN digest_hour integer NOT NULL DEFAULT 8
        CONSTRAINT person_digest_hour CHECK (digest_hour BETWEEN 0 AND 23);
COMMENT ON COLUMN accord.person.time_zone IS 'An IANA time zone (Europe/Paris): the person''s messages and pages show times in it; stored times stay UTC.';
COMMENT ON COLUMN accord.person.digest_hour IS 'The hour of the day, in the person''s time zone, from which their daily digest is sent.';

CREATE TABLE accord.mail_preference (
    person_id  bigint NOT NULL REFERENCES accord.person (id),
    kind       text NOT NULL,
    mode       text NOT NULL CONSTRAINT mail_preference_mode CHECK (mode IN ('now', 'digest', 'off')),
    PRIMARY KEY (person_id, kind),
    -- Accountability: what is handed up to leadership reaches them, at the latest in the digest.
    CONSTRAINT mail_preference_accountable CHECK (NOT (kind IN ('escalation', 'incident') AND mode = 'off'))
);
COMMENT ON TABLE accord.mail_preference IS 'How a person receives one kind of message; no row: at once.';

CREATE TABLE accord.mail (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    person_id        bigint NOT NULL REFERENCES accord.person (id),
    address          text NOT NULL CONSTRAINT mail_address_format CHECK (address ~ '^[^@\s<>]+@[^@\s<>]+$'),
    kind             text NOT NULL,
    mode             text NOT NULL CONSTRAINT mail_mode CHECK (mode IN ('now', 'digest')),
    thread           text,
    subject          text NOT NULL,
    body             jsonb NOT NULL,
    secret           text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    digest_id        uuid REFERENCES accord.mail (id),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    leased_until     timestamptz,
    lease_token      uuid,
    sent_at          timestamptz,
    failed_at        timestamptz,
    last_reply       text
);
CREATE INDEX mail_pending ON accord.mail (next_attempt_at) WHERE mode = 'now' AND sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_digest_items ON accord.mail (person_id) WHERE mode = 'digest' AND digest_id IS NULL;
CREATE INDEX mail_failed ON accord.mail (failed_at DESC) WHERE failed_at IS NOT NULL;
COMMENT ON TABLE accord.mail IS 'The mail outbox: one row per message and recipient. mode now: sent by itself; digest: waits for the person''s daily digest (digest_id: the digest that carried it).';
COMMENT ON COLUMN accord.mail.id IS 'The Message-ID''s left part: a retry after a crash sends the same Message-ID, so receivers see one message.';
COMMENT ON COLUMN accord.mail.thread IS 'The Message-ID a task''s messages refer to (In-Reply-To, References), so a mail client threads them.';
COMMENT ON COLUMN accord.mail.secret IS 'A one-time set-password token the message carries; erased as soon as the message is sent or given up.';
COMMENT ON COLUMN accord.mail.last_reply IS 'What the mail server last answered (or why it could not be reached).';

CREATE TABLE accord.mail_digest (
    person_id  bigint NOT NULL REFERENCES accord.person (id),
    day        date NOT NULL,
    mail_id    uuid REFERENCES accord.mail (id),
    PRIMARY KEY (person_id, day)
);
COMMENT ON TABLE accord.mail_digest IS 'One row per person and local day whose digest was made: the key makes it once, however many schedulers run.';

CREATE FUNCTION accord.mail_wake() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('accord_mail', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER mail_wake AFTER INSERT ON accord.mail FOR EACH STATEMENT EXECUTE FUNCTION accord.mail_wake();
COMMENT ON FUNCTION accord.mail_wake IS 'Wakes the senders listening on accord_mail when the inserting transaction commits.';

ALTER TABLE accord.delegation ADD COLUMN end_notice_at timestamptz;
COMMENT ON COLUMN accord.delegation.end_notice_at IS 'When the deputy was told the delegation ends (on its last day): set once, so one scheduler tells them.';
