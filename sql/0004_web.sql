-- 0004_web: browser sessions, API tokens and login throttling. Secrets are stored as SHA-256 only.

CREATE TABLE accord.web_session (
    token_sha256   bytea PRIMARY KEY
                   CONSTRAINT web_session_token_length CHECK (octet_length(token_sha256) = 32),
    person_id      bigint NOT NULL REFERENCES accord.person (id),
    csrf_token     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    ended_at       timestamptz,
    address        text
);
CREATE INDEX web_session_person ON accord.web_session (person_id) WHERE ended_at IS NULL;
COMMENT ON TABLE accord.web_session IS 'Browser sessions, so that any instance serves any user. The cookie holds a random token; only its SHA-256 is stored.';
COMMENT ON COLUMN accord.web_session.expires_at IS 'Absolute end of the session; an idle timeout also applies from last_seen_at.';

CREATE TABLE accord.api_token (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id      bigint NOT NULL REFERENCES accord.person (id),
    name           text NOT NULL
                   CONSTRAINT api_token_name_not_blank CHECK (btrim(name) <> ''),
    token_sha256   bytea NOT NULL
                   CONSTRAINT api_token_sha256_length CHECK (octet_length(token_sha256) = 32),
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz,
    revoked_at     timestamptz,
    last_used_at   timestamptz,
    CONSTRAINT api_token_unique UNIQUE (token_sha256)
);
CREATE INDEX api_token_person ON accord.api_token (person_id);
COMMENT ON TABLE accord.api_token IS 'Bearer tokens for API clients; the token is shown once at creation, only its SHA-256 is kept.';

CREATE TABLE accord.login_throttle (
    key            text PRIMARY KEY,
    failures       integer NOT NULL DEFAULT 0,
    window_start   timestamptz NOT NULL DEFAULT now(),
    blocked_until  timestamptz
);
COMMENT ON TABLE accord.login_throttle IS 'Failed logins per account (''person:HANDLE'') and per address (''address:IP''); a block is short, so guessing cannot lock a real user out for long.';
