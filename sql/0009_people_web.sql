-- 0009_people_web: the administrator's people pages and everyone's account page.
--   * a one-time link to set a password (a new person's first, or one an administrator resets): 72 hours,
--     single use, only the SHA-256 of its 256-bit token kept, like session and API tokens;
--   * browser sessions get a number, so a person can list their own and end any of them.

-- 1. Sessions by number. The token's hash stays the key the cookie is looked up by; the number is what
-- a page or the API names a session with, since the hash must never leave the database.
ALTER TABLE accord.web_session ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE accord.web_session ADD CONSTRAINT web_session_id_unique UNIQUE (id);
COMMENT ON COLUMN accord.web_session.id IS 'The session''s number, as its owner sees it on the account page and in the API (the token hash never leaves the database).';
COMMENT ON COLUMN accord.web_session.address IS 'The client''s address at login, when known (the forwarded one behind a trusted proxy).';

-- 2. One-time links to set a password.
CREATE TABLE accord.password_link (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_sha256   bytea NOT NULL
                   CONSTRAINT password_link_token_length CHECK (octet_length(token_sha256) = 32),
    person_id      bigint NOT NULL REFERENCES accord.person (id),
    purpose        text NOT NULL
                   CONSTRAINT password_link_purpose_known CHECK (purpose IN ('welcome', 'reset')),
    created_by     bigint NOT NULL REFERENCES accord.person (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    withdrawn_at   timestamptz,
    CONSTRAINT password_link_token_unique UNIQUE (token_sha256),
    CONSTRAINT password_link_expires_after_creation CHECK (expires_at > created_at),
    CONSTRAINT password_link_used_or_withdrawn CHECK (used_at IS NULL OR withdrawn_at IS NULL)
);
CREATE INDEX password_link_person_open ON accord.password_link (person_id) WHERE used_at IS NULL AND withdrawn_at IS NULL;
COMMENT ON TABLE accord.password_link IS
    'One-time links to set a password: shown once to the administrator who made them, valid until expires_at, used once. Only the SHA-256 of the token is kept.';
COMMENT ON COLUMN accord.password_link.purpose IS '''welcome'' for a new person''s first password, ''reset'' for one an administrator reset.';
COMMENT ON COLUMN accord.password_link.used_at IS 'When the link set the password; it works once.';
COMMENT ON COLUMN accord.password_link.withdrawn_at IS 'When a newer link for the same person, or disabling them, made this one stop working.';

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'accord_app') THEN
        GRANT SELECT, INSERT, UPDATE ON accord.password_link TO accord_app;
        REVOKE DELETE, TRUNCATE ON accord.password_link FROM accord_app;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'grants for accord_app left as they are: % may not change them', current_user;
END;
$$;
