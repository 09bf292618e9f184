-- 0016_scim: provisioning by SCIM 2.0 (RFC 7643/7644). Every person is a SCIM User (id: scim_id); one
-- provisioned by SCIM keeps the document it was given, so what the identity provider wrote reads back
-- as written, and its userName beside the handle Accord derives from it. A User deleted by SCIM is
-- disabled, never removed (signatures and the audit trail name people), and answers 404 from then on.
-- Groups map to role bindings through the group rules of 0015. A provisioning token is an API token of
-- its own kind: it reaches /scim/v2 only, and no other token does.

ALTER TABLE accord.api_token ADD COLUMN kind text NOT NULL DEFAULT 'person'
    CONSTRAINT api_token_kind CHECK (kind IN ('person', 'scim'));
COMMENT ON COLUMN accord.api_token.kind IS 'person: acts as its person on the API; scim: provisions people and groups through /scim/v2 only, as the administrator who made it.';

ALTER TABLE accord.person
    ADD COLUMN scim_id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    ADD COLUMN scim_user_name text CONSTRAINT person_scim_user_name_length CHECK (length(scim_user_name) BETWEEN 1 AND 255),
    ADD COLUMN scim_document jsonb,
    ADD COLUMN scim_modified_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN scim_deleted_at timestamptz;
CREATE UNIQUE INDEX person_scim_user_name ON accord.person (lower(coalesce(scim_user_name, handle))) WHERE scim_deleted_at IS NULL;
COMMENT ON COLUMN accord.person.scim_id IS 'The person''s id as a SCIM User.';
COMMENT ON COLUMN accord.person.scim_user_name IS 'The userName an identity provider gave (bjensen@example.com); NULL: the handle is the userName.';
COMMENT ON COLUMN accord.person.scim_document IS 'The User as last written by SCIM, for the attributes Accord keeps without using (name parts, e-mail types).';

CREATE TABLE accord.scim_group (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    display_name  text NOT NULL CONSTRAINT scim_group_display_name CHECK (length(btrim(display_name)) BETWEEN 1 AND 200),
    external_id   text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    modified_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX scim_group_name ON accord.scim_group (lower(display_name));
COMMENT ON TABLE accord.scim_group IS 'Groups provisioned by SCIM; a group rule with the same name turns membership into a role binding.';

CREATE TABLE accord.scim_group_member (
    group_id   uuid NOT NULL REFERENCES accord.scim_group (id) ON DELETE CASCADE,
    person_id  bigint NOT NULL REFERENCES accord.person (id),
    PRIMARY KEY (group_id, person_id)
);
CREATE INDEX scim_group_member_person ON accord.scim_group_member (person_id);

-- A role binding a group rule made remembers which source's groups made it (an SSO login's groups claim,
-- or SCIM groups), so that one source never removes what the other granted.
ALTER TABLE accord.sso_rule_grant ADD COLUMN source text NOT NULL DEFAULT 'oidc'
    CONSTRAINT sso_rule_grant_source CHECK (source IN ('oidc', 'scim'));
ALTER TABLE accord.sso_rule_grant DROP CONSTRAINT sso_rule_grant_pkey, ADD PRIMARY KEY (person_id, program_id, role, source);
