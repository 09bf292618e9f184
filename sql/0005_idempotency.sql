-- 0005_idempotency: remembered answers to requests sent with an Idempotency-Key, so a retried
-- sign-off returns the first answer and never signs twice.
CREATE TABLE accord.idempotency_key (
    person_id       bigint NOT NULL REFERENCES accord.person (id),
    key             text NOT NULL
                    CONSTRAINT idempotency_key_length CHECK (length(key) BETWEEN 1 AND 200),
    request_sha256  bytea NOT NULL,
    status          integer NOT NULL DEFAULT 0,
    response        text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, key)
);
COMMENT ON TABLE accord.idempotency_key IS 'One row per (person, Idempotency-Key): the request''s hash and the answer given. status 0 means the first request is still running.';
