-- 0003_signoffs: evidence versions, signatures, delegations, signing lockout, and the application role
-- that may only INSERT and SELECT the tables whose history matters.

ALTER TABLE accord.task
    ADD COLUMN evidence_version integer NOT NULL DEFAULT 0
        CONSTRAINT task_evidence_version_not_negative CHECK (evidence_version >= 0),
    ADD COLUMN review_round integer NOT NULL DEFAULT 0
        CONSTRAINT task_review_round_not_negative CHECK (review_round >= 0);
COMMENT ON COLUMN accord.task.evidence_version IS 'Counts evidence uploads; a signature binds the version it saw, so later evidence supersedes it.';
COMMENT ON COLUMN accord.task.review_round IS 'Counts submissions for review; only signatures of the current round and evidence version count.';

CREATE TABLE accord.evidence (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id           bigint NOT NULL REFERENCES accord.task (id),
    title             text NOT NULL
                      CONSTRAINT evidence_title_not_blank CHECK (btrim(title) <> ''),
    version           integer NOT NULL
                      CONSTRAINT evidence_version_positive CHECK (version > 0),
    task_version      integer NOT NULL,
    file_name         text NOT NULL,
    media_type        text NOT NULL,
    size              bigint NOT NULL
                      CONSTRAINT evidence_size_positive CHECK (size > 0),
    sha256            bytea NOT NULL
                      CONSTRAINT evidence_sha256_length CHECK (octet_length(sha256) = 32),
    content           bytea NOT NULL,
    uploaded_by       bigint NOT NULL REFERENCES accord.person (id),
    uploaded_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT evidence_version_unique UNIQUE (task_id, title, version),
    CONSTRAINT evidence_size_matches CHECK (octet_length(content) = size)
);
-- Evidence is mostly PDFs and spreadsheets, already compressed: store it out of line, uncompressed.
ALTER TABLE accord.evidence ALTER COLUMN content SET STORAGE EXTERNAL;
COMMENT ON TABLE accord.evidence IS 'Documents attached to tasks. A new upload under an existing title is a new version; no version is ever changed or removed.';
COMMENT ON COLUMN accord.evidence.task_version IS 'The task''s evidence_version right after this upload.';

CREATE TABLE accord.delegation (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    program_id    bigint NOT NULL REFERENCES accord.program (id),
    role          text NOT NULL,
    from_id       bigint NOT NULL REFERENCES accord.person (id),
    to_id         bigint NOT NULL REFERENCES accord.person (id),
    valid_until   date NOT NULL,
    reason        text NOT NULL
                  CONSTRAINT delegation_reason_not_blank CHECK (btrim(reason) <> ''),
    created_by    bigint NOT NULL REFERENCES accord.person (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    revoked_by    bigint REFERENCES accord.person (id),
    CONSTRAINT delegation_not_to_self CHECK (from_id <> to_id)
);
CREATE INDEX delegation_deputy ON accord.delegation (to_id, program_id, role) WHERE revoked_at IS NULL;
COMMENT ON TABLE accord.delegation IS 'A deputy signs for a role while its holder is away, until valid_until (inclusive) or revocation.';

CREATE TABLE accord.signature (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id           bigint NOT NULL REFERENCES accord.task (id),
    review_round      integer NOT NULL,
    evidence_version  integer NOT NULL,
    signer_id         bigint NOT NULL REFERENCES accord.person (id),
    printed_name      text NOT NULL,
    signed_at         timestamptz NOT NULL,
    decision          text NOT NULL
                      CONSTRAINT signature_decision CHECK (decision IN ('approve', 'reject')),
    meaning           text NOT NULL
                      CONSTRAINT signature_meaning CHECK (meaning IN ('approval', 'review', 'responsibility', 'authorship', 'rejection')),
    comment           text,
    role              text,
    on_behalf_of      bigint REFERENCES accord.person (id),
    delegation_id     bigint REFERENCES accord.delegation (id),
    auth_method       text NOT NULL,
    subject_sha256    bytea NOT NULL
                      CONSTRAINT signature_subject_length CHECK (octet_length(subject_sha256) = 32),
    key_id            text NOT NULL,
    mac               bytea NOT NULL
                      CONSTRAINT signature_mac_length CHECK (octet_length(mac) = 32),
    CONSTRAINT signature_one_per_signer UNIQUE (task_id, review_round, evidence_version, signer_id),
    CONSTRAINT signature_rejection_has_comment CHECK (decision <> 'reject' OR btrim(coalesce(comment, '')) <> '')
);
CREATE INDEX signature_task ON accord.signature (task_id, review_round, evidence_version);
CREATE INDEX signature_signer ON accord.signature (signer_id, signed_at);
COMMENT ON TABLE accord.signature IS 'Recorded decisions, bound to the hash of what was signed and authenticated with a key held outside the database (mac). Never changed or removed: new evidence supersedes, it does not edit.';
COMMENT ON COLUMN accord.signature.printed_name IS 'The signer''s name at signing time.';
COMMENT ON COLUMN accord.signature.subject_sha256 IS 'SHA-256 of the canonical subject: the task''s identity and the hashes of its current evidence versions.';
COMMENT ON COLUMN accord.signature.mac IS 'HMAC-SHA256 of the canonical signature with the audit key (ACCORD_AUDIT_KEY or ACCORD_HOME/audit.key).';
COMMENT ON COLUMN accord.signature.key_id IS 'First 16 hex digits of SHA-256 of the audit key, to tell which key made the mac.';

CREATE TABLE accord.sign_lockout (
    person_id      bigint PRIMARY KEY REFERENCES accord.person (id),
    failures       integer NOT NULL DEFAULT 0,
    last_failure   timestamptz,
    locked_until   timestamptz
);
COMMENT ON TABLE accord.sign_lockout IS 'Wrong passwords when signing: 5 in a row lock signing for that person for 15 minutes.';

CREATE TRIGGER evidence_no_update_or_delete BEFORE UPDATE OR DELETE ON accord.evidence
    FOR EACH ROW EXECUTE FUNCTION accord.refuse_audit_change();
CREATE TRIGGER evidence_no_truncate BEFORE TRUNCATE ON accord.evidence
    FOR EACH STATEMENT EXECUTE FUNCTION accord.refuse_audit_change();
CREATE TRIGGER signature_no_update_or_delete BEFORE UPDATE OR DELETE ON accord.signature
    FOR EACH ROW EXECUTE FUNCTION accord.refuse_audit_change();
CREATE TRIGGER signature_no_truncate BEFORE TRUNCATE ON accord.signature
    FOR EACH STATEMENT EXECUTE FUNCTION accord.refuse_audit_change();

-- The application role: everything it needs, and on the history tables nothing but INSERT and SELECT.
-- Created only where the migrating user may create roles (the embedded cluster, or an operator who
-- allows it); elsewhere the triggers above still refuse changes, and the operator grants by hand.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'accord_app') THEN
        CREATE ROLE accord_app NOLOGIN;
    END IF;
    GRANT accord_app TO CURRENT_USER;
    GRANT USAGE ON SCHEMA accord, accord_meta TO accord_app;
    GRANT SELECT ON ALL TABLES IN SCHEMA accord_meta TO accord_app;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA accord TO accord_app;
    REVOKE UPDATE, DELETE, TRUNCATE ON accord.signature, accord.evidence FROM accord_app;
    -- The audit log is written only through accord.append_audit, which computes the hash itself.
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON accord.audit_entry FROM accord_app;
    REVOKE UPDATE, DELETE, TRUNCATE ON accord.audit_chain FROM accord_app;
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA accord TO accord_app;
    GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA accord TO accord_app;
    -- Tables of later migrations get the same grants; an append-only one revokes UPDATE and DELETE itself.
    ALTER DEFAULT PRIVILEGES IN SCHEMA accord GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO accord_app;
    ALTER DEFAULT PRIVILEGES IN SCHEMA accord GRANT USAGE, SELECT ON SEQUENCES TO accord_app;
    ALTER DEFAULT PRIVILEGES IN SCHEMA accord GRANT EXECUTE ON FUNCTIONS TO accord_app;
EXCEPTION WHEN insufficient_privilege THEN
    -- The whole block is undone; Accord then runs as the login role, and the triggers still protect history.
    RAISE NOTICE 'accord_app was not set up: % may not create or grant roles (see docs/database.md)', current_user;
END;
$$;

-- Runs with its owner's rights, so the application role can append but not write entries or heads directly.
ALTER FUNCTION accord.append_audit(text, text, text, text, text, json, json, text)
    SECURITY DEFINER SET search_path = pg_catalog, accord;
