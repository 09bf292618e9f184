-- 0015_sso: single sign-on through OpenID Connect. An identity (issuer + subject) links to one person;
-- an authorization request in flight is kept here so that the provider's answer may land on any
-- instance; group rules turn the provider's groups into role bindings. Nothing secret is kept in clear:
-- a client secret is sealed (AES-GCM) under a key derived from the audit key, which lives outside the
-- database, and a request keeps only the SHA-256 of its state (its nonce and PKCE verifier are derived
-- from the state with that key).

CREATE TABLE accord.sso_issuer (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    issuer                text NOT NULL UNIQUE
                          CONSTRAINT sso_issuer_url CHECK (issuer ~ '^https?://[^\s?#]+$' AND length(issuer) <= 300),
    display_name          text NOT NULL CONSTRAINT sso_issuer_display_name CHECK (length(btrim(display_name)) BETWEEN 1 AND 80),
    client_id             text NOT NULL CONSTRAINT sso_issuer_client_id CHECK (length(client_id) BETWEEN 1 AND 300),
    client_secret_sealed  bytea,
    link_by_email         boolean NOT NULL DEFAULT false,
    groups_claim          text NOT NULL DEFAULT 'groups',
    created_at            timestamptz NOT NULL DEFAULT now(),
    removed_at            timestamptz
);
COMMENT ON TABLE accord.sso_issuer IS 'OpenID providers people log in with; several may be configured. A removed issuer logs nobody in.';
COMMENT ON COLUMN accord.sso_issuer.client_secret_sealed IS 'The client secret, AES-GCM under a key derived from the audit key (outside the database); NULL for a public client.';
COMMENT ON COLUMN accord.sso_issuer.link_by_email IS 'Whether a first login may link to the person with the same e-mail address, when the provider says it is verified (never to an administrator).';

CREATE TABLE accord.sso_identity (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    issuer_id      bigint NOT NULL REFERENCES accord.sso_issuer (id),
    subject        text NOT NULL CONSTRAINT sso_identity_subject CHECK (length(subject) BETWEEN 1 AND 255),
    person_id      bigint NOT NULL REFERENCES accord.person (id),
    linked_at      timestamptz NOT NULL DEFAULT now(),
    linked_by      text NOT NULL,
    last_login_at  timestamptz,
    CONSTRAINT sso_identity_subject_once UNIQUE (issuer_id, subject),
    CONSTRAINT sso_identity_person_once UNIQUE (issuer_id, person_id)
);
COMMENT ON TABLE accord.sso_identity IS 'Which person an issuer''s subject is: one person per identity and one identity per person and issuer.';

CREATE TABLE accord.sso_request (
    state_sha256   bytea PRIMARY KEY CONSTRAINT sso_request_state_length CHECK (octet_length(state_sha256) = 32),
    id             uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    issuer_id      bigint NOT NULL REFERENCES accord.sso_issuer (id),
    purpose        text NOT NULL CONSTRAINT sso_request_purpose CHECK (purpose IN ('login', 'sign')),
    browser_sha256 bytea CONSTRAINT sso_request_browser_length CHECK (octet_length(browser_sha256) = 32),
    person_id      bigint REFERENCES accord.person (id),
    signing        jsonb,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    outcome        jsonb,
    CONSTRAINT sso_request_signing CHECK ((purpose = 'sign') = (person_id IS NOT NULL AND signing IS NOT NULL))
);
CREATE INDEX sso_request_expiry ON accord.sso_request (expires_at);
COMMENT ON TABLE accord.sso_request IS 'Authorization requests sent to a provider and not yet answered; each is used once. A signing request carries the decision the fresh authentication will sign.';
COMMENT ON COLUMN accord.sso_request.browser_sha256 IS 'SHA-256 of a cookie set on the browser that started the request: an answer arriving in another browser is refused (login CSRF).';
COMMENT ON COLUMN accord.sso_request.outcome IS 'For a signing request: the signature made or the reason it was refused, for the client that asked.';

CREATE TABLE accord.sso_group_rule (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_name  text NOT NULL CONSTRAINT sso_group_rule_group CHECK (length(btrim(group_name)) BETWEEN 1 AND 200),
    program_id  bigint NOT NULL REFERENCES accord.program (id),
    role        text NOT NULL,
    CONSTRAINT sso_group_rule_once UNIQUE (group_name, program_id, role)
);
COMMENT ON TABLE accord.sso_group_rule IS 'A provider group whose members hold a role in a program; applied at each SSO login (and by provisioning).';

CREATE TABLE accord.sso_rule_grant (
    person_id   bigint NOT NULL REFERENCES accord.person (id),
    program_id  bigint NOT NULL REFERENCES accord.program (id),
    role        text NOT NULL,
    PRIMARY KEY (person_id, program_id, role)
);
COMMENT ON TABLE accord.sso_rule_grant IS 'Role bindings a group rule made: only these are removed when the person leaves the group.';

CREATE TABLE accord.sso_setting (
    only_row         boolean PRIMARY KEY DEFAULT true CONSTRAINT sso_setting_one_row CHECK (only_row),
    local_passwords  boolean NOT NULL DEFAULT true
);
INSERT INTO accord.sso_setting DEFAULT VALUES;
COMMENT ON TABLE accord.sso_setting IS 'Whether local passwords still log in and sign; when off, only break-glass administrators use theirs.';

ALTER TABLE accord.person ADD COLUMN break_glass boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN accord.person.break_glass IS 'An administrator whose local password keeps working when local passwords are off, for when the identity provider is down.';

ALTER TABLE accord.web_session ADD COLUMN sso_identity_id bigint REFERENCES accord.sso_identity (id);
COMMENT ON COLUMN accord.web_session.sso_identity_id IS 'The SSO identity the session was opened with (its issuer''s logout follows Accord''s), NULL for a password login.';

