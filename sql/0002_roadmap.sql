-- 0002_roadmap: people, workflow versions, programs, role bindings, AI systems, tasks and their
-- dependencies; and the audit append that every mutation calls in its own transaction.

CREATE TABLE accord.person (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    handle         text NOT NULL
                   CONSTRAINT person_handle_format CHECK (handle ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    name           text NOT NULL
                   CONSTRAINT person_name_not_blank CHECK (btrim(name) <> ''),
    email          text
                   CONSTRAINT person_email_format CHECK (email IS NULL OR email ~ '^[^@\s]+@[^@\s]+$'),
    is_admin       boolean NOT NULL DEFAULT false,
    password_hash  text
                   CONSTRAINT person_password_is_bcrypt CHECK (password_hash IS NULL OR password_hash ~ '^\$2[aby]\$[0-9]{2}\$'),
    disabled_at    timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT person_handle_unique UNIQUE (handle)
);
COMMENT ON TABLE accord.person IS 'People who act in Accord: owners, approvers, auditors, administrators.';
COMMENT ON COLUMN accord.person.password_hash IS 'bcrypt hash (never the password); NULL: the person cannot log in or sign.';
COMMENT ON COLUMN accord.person.name IS 'Printed name; a signature copies it at signing time.';

CREATE TABLE accord.workflow_version (
    workflow_id  text NOT NULL
                 CONSTRAINT workflow_id_format CHECK (workflow_id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    version      integer NOT NULL
                 CONSTRAINT workflow_version_positive CHECK (version > 0),
    title        text NOT NULL,
    definition   jsonb NOT NULL,
    source       text NOT NULL,
    checksum     text NOT NULL,
    loaded_at    timestamptz NOT NULL DEFAULT now(),
    loaded_by    text NOT NULL,
    PRIMARY KEY (workflow_id, version)
);
COMMENT ON TABLE accord.workflow_version IS 'Immutable workflow versions: the YAML as loaded, its SHA-256, and the validated model as JSON.';

CREATE TABLE accord.program (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug              text NOT NULL
                      CONSTRAINT program_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    title             text NOT NULL
                      CONSTRAINT program_title_not_blank CHECK (btrim(title) <> ''),
    workflow_id       text NOT NULL,
    workflow_version  integer NOT NULL,
    starts_on         date NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    created_by        bigint NOT NULL REFERENCES accord.person (id),
    CONSTRAINT program_slug_unique UNIQUE (slug),
    FOREIGN KEY (workflow_id, workflow_version) REFERENCES accord.workflow_version (workflow_id, version)
);
COMMENT ON TABLE accord.program IS 'A running instance of a workflow for an organisation or one AI system; its audit chain is ''program:<slug>''.';
COMMENT ON COLUMN accord.program.workflow_version IS 'The version the program runs now; accord program upgrade moves it forward.';

CREATE TABLE accord.role_binding (
    program_id  bigint NOT NULL REFERENCES accord.program (id),
    role        text NOT NULL,
    person_id   bigint NOT NULL REFERENCES accord.person (id),
    bound_at    timestamptz NOT NULL DEFAULT now(),
    bound_by    bigint NOT NULL REFERENCES accord.person (id),
    PRIMARY KEY (program_id, role, person_id)
);
CREATE INDEX role_binding_person ON accord.role_binding (person_id);
COMMENT ON TABLE accord.role_binding IS 'Who holds which of the workflow''s roles in a program.';

CREATE TABLE accord.ai_system (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    program_id     bigint NOT NULL REFERENCES accord.program (id),
    slug           text NOT NULL
                   CONSTRAINT ai_system_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name           text NOT NULL
                   CONSTRAINT ai_system_name_not_blank CHECK (btrim(name) <> ''),
    operator_role  text NOT NULL
                   CONSTRAINT ai_system_operator_role CHECK (operator_role IN ('provider', 'deployer', 'importer', 'distributor')),
    risk_class     text NOT NULL
                   CONSTRAINT ai_system_risk_class CHECK (risk_class IN ('prohibited', 'high', 'limited', 'minimal')),
    gpai           boolean NOT NULL DEFAULT false,
    annex_iii      smallint
                   CONSTRAINT ai_system_annex_iii_area CHECK (annex_iii IS NULL OR annex_iii BETWEEN 1 AND 8),
    owner_id       bigint REFERENCES accord.person (id),
    purpose        text,
    added_on       date NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ai_system_slug_unique UNIQUE (program_id, slug)
);
COMMENT ON TABLE accord.ai_system IS 'The AI-system inventory of a program: the organisation''s role for each system and its AI Act risk class.';
COMMENT ON COLUMN accord.ai_system.annex_iii IS 'The Annex III high-risk area (1 biometrics … 8 justice and democracy), when one applies.';
COMMENT ON COLUMN accord.ai_system.added_on IS 'When the system entered the inventory; start-relative due dates of its tasks count from here when later than the program start.';

CREATE TABLE accord.task (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    program_id      bigint NOT NULL REFERENCES accord.program (id),
    step_key        text NOT NULL,
    template_key    text NOT NULL,
    system_id       bigint REFERENCES accord.ai_system (id),
    position        integer NOT NULL,
    title           text NOT NULL,
    owner_role      text NOT NULL,
    state           text NOT NULL
                    CONSTRAINT task_state_known CHECK (state IN ('blocked', 'open', 'in_progress', 'in_review', 'done', 'not_applicable', 'retired')),
    assignee_id     bigint REFERENCES accord.person (id),
    due_on          date,
    started_at      timestamptz,
    submitted_at    timestamptz,
    submitted_by    bigint REFERENCES accord.person (id),
    completed_at    timestamptz,
    na_reason       text,
    retired_reason  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT task_once_per_system UNIQUE NULLS NOT DISTINCT (program_id, template_key, system_id),
    CONSTRAINT task_not_applicable_has_reason CHECK (state <> 'not_applicable' OR na_reason IS NOT NULL),
    CONSTRAINT task_retired_has_reason CHECK (state <> 'retired' OR retired_reason IS NOT NULL),
    CONSTRAINT task_done_has_completion CHECK (state <> 'done' OR completed_at IS NOT NULL)
);
COMMENT ON TABLE accord.task IS 'A program''s tasks, instantiated from the workflow''s templates: once, or once per matching AI system.';
COMMENT ON COLUMN accord.task.position IS 'The template''s order in the workflow, for listing.';
COMMENT ON COLUMN accord.task.due_on IS 'NULL while unknown (due after a task not yet done) or when the template sets no due date.';
CREATE INDEX task_program_state ON accord.task (program_id, state);
CREATE INDEX task_assignee_state ON accord.task (assignee_id, state) WHERE assignee_id IS NOT NULL;
CREATE INDEX task_outstanding_due ON accord.task (due_on) WHERE state IN ('blocked', 'open', 'in_progress', 'in_review');

CREATE TABLE accord.task_dependency (
    task_id     bigint NOT NULL REFERENCES accord.task (id),
    depends_on  bigint NOT NULL REFERENCES accord.task (id),
    PRIMARY KEY (task_id, depends_on),
    CONSTRAINT task_dependency_not_self CHECK (task_id <> depends_on)
);
CREATE INDEX task_dependency_reverse ON accord.task_dependency (depends_on);
COMMENT ON TABLE accord.task_dependency IS 'task_id cannot start until depends_on is done or not applicable.';

-- The audit append: one statement from the application, so a mutation and its entry cost one extra
-- round trip at most. The canonical encoding must stay byte for byte equal to AuditEntryContent in
-- Sources/AccordCore/AuditHash.swift: 'accord-audit-v1;' then each field as LENGTH:VALUE; or ~; for NULL.
CREATE FUNCTION accord.audit_field(value text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN value IS NULL THEN '~;' ELSE octet_length(value)::text || ':' || value || ';' END
$$;

CREATE FUNCTION accord.audit_canonical(
    chain text, seq bigint, recorded_at timestamptz, actor text, action text,
    object_type text, object_id text, before json, after json, reason text
) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT convert_to(
        'accord-audit-v1;'
        || accord.audit_field(chain)
        || accord.audit_field(seq::text)
        || accord.audit_field(((extract(epoch FROM recorded_at) * 1000000)::bigint)::text)
        || accord.audit_field(actor)
        || accord.audit_field(action)
        || accord.audit_field(object_type)
        || accord.audit_field(object_id)
        || accord.audit_field(before::text)
        || accord.audit_field(after::text)
        || accord.audit_field(reason),
        'UTF8')
$$;
COMMENT ON FUNCTION accord.audit_canonical IS 'The bytes an audit entry''s hash covers (after the previous entry''s hash).';

CREATE FUNCTION accord.append_audit(
    p_chain text, p_actor text, p_action text, p_object_type text, p_object_id text,
    p_before json, p_after json, p_reason text
) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_seq  bigint;
    v_prev bytea;
    v_at   timestamptz := now();
    v_hash bytea;
BEGIN
    -- Locks the chain's row until commit: appends to one chain are serialised, other chains are not touched.
    UPDATE accord.audit_chain SET length = length + 1 WHERE chain = p_chain RETURNING length, head_hash INTO v_seq, v_prev;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown audit chain %', p_chain USING ERRCODE = 'AC002';
    END IF;
    v_hash := sha256(coalesce(v_prev, ''::bytea)
        || accord.audit_canonical(p_chain, v_seq, v_at, p_actor, p_action, p_object_type, p_object_id, p_before, p_after, p_reason));
    INSERT INTO accord.audit_entry (chain, seq, recorded_at, actor, action, object_type, object_id, before, after, reason, prev_hash, hash)
    VALUES (p_chain, v_seq, v_at, p_actor, p_action, p_object_type, p_object_id, p_before, p_after, p_reason, v_prev, v_hash);
    UPDATE accord.audit_chain SET head_hash = v_hash WHERE chain = p_chain;
    RETURN v_seq;
END;
$$;
COMMENT ON FUNCTION accord.append_audit IS 'Appends one hash-chained entry to a chain, in the caller''s transaction; returns its seq.';

-- before and after keep their JSON text byte for byte (json, not jsonb), since the hash covers that text.
ALTER TABLE accord.audit_entry ALTER COLUMN before TYPE json, ALTER COLUMN after TYPE json;
