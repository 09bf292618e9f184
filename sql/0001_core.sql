-- 0001_core: the accord schema and the foundations of the append-only, hash-chained audit log.
-- Later migrations add programs, tasks, evidence and signatures; every one of their changes appends
-- an entry here in the same transaction.

CREATE SCHEMA accord;
COMMENT ON SCHEMA accord IS 'Accord: AI-compliance roadmaps (EU AI Act through an ISO/IEC 42001 management system).';

-- One row per audit chain: one per program, plus ''org'' for organisation-wide events.
CREATE TABLE accord.audit_chain (
    chain       text PRIMARY KEY
                CONSTRAINT audit_chain_name_format CHECK (chain ~ '^[a-z0-9][a-z0-9._:-]{0,127}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    length      bigint NOT NULL DEFAULT 0
                CONSTRAINT audit_chain_length_not_negative CHECK (length >= 0),
    head_hash   bytea
                CONSTRAINT audit_chain_head_hash_sha256 CHECK (head_hash IS NULL OR octet_length(head_hash) = 32)
);
COMMENT ON TABLE accord.audit_chain IS
    'Head of each audit chain. An append locks its chain''s row (FOR UPDATE), so appends to one chain are serialised while other chains proceed in parallel. The head is a convenience: verification recomputes every link from accord.audit_entry.';
COMMENT ON COLUMN accord.audit_chain.length IS 'Number of entries in the chain; the next entry gets seq = length + 1.';
COMMENT ON COLUMN accord.audit_chain.head_hash IS 'Hash of the last entry, NULL for an empty chain.';

INSERT INTO accord.audit_chain (chain) VALUES ('org');

-- The audit log itself. Never updated or deleted: the triggers below refuse it.
CREATE TABLE accord.audit_entry (
    chain        text NOT NULL REFERENCES accord.audit_chain (chain),
    seq          bigint NOT NULL
                 CONSTRAINT audit_entry_seq_positive CHECK (seq > 0),
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL
                 CONSTRAINT audit_entry_actor_not_empty CHECK (actor <> ''),
    action       text NOT NULL
                 CONSTRAINT audit_entry_action_format CHECK (action ~ '^[a-z][a-z0-9_.-]*$'),
    object_type  text,
    object_id    text,
    before       jsonb,
    after        jsonb,
    reason       text,
    prev_hash    bytea
                 CONSTRAINT audit_entry_prev_hash_sha256 CHECK (prev_hash IS NULL OR octet_length(prev_hash) = 32),
    hash         bytea NOT NULL
                 CONSTRAINT audit_entry_hash_sha256 CHECK (octet_length(hash) = 32),
    PRIMARY KEY (chain, seq),
    CONSTRAINT audit_entry_first_has_no_prev CHECK ((seq = 1) = (prev_hash IS NULL))
);
COMMENT ON TABLE accord.audit_entry IS
    'Append-only audit trail, hash-chained per chain: hash = SHA-256(prev_hash || canonical encoding of the entry). UPDATE, DELETE and TRUNCATE are refused by triggers.';
COMMENT ON COLUMN accord.audit_entry.seq IS 'Position in the chain, from 1, without gaps.';
COMMENT ON COLUMN accord.audit_entry.recorded_at IS 'Database time of the transaction that made the change (UTC).';
COMMENT ON COLUMN accord.audit_entry.actor IS 'Handle of the user who acted, or ''system'' for the scheduler and migrations.';
COMMENT ON COLUMN accord.audit_entry.before IS 'The object''s relevant state before the change, where it applies.';
COMMENT ON COLUMN accord.audit_entry.after IS 'The object''s relevant state after the change, where it applies.';
COMMENT ON COLUMN accord.audit_entry.prev_hash IS 'hash of the entry at seq - 1 in the same chain; NULL only for seq 1.';

CREATE INDEX audit_entry_object ON accord.audit_entry (object_type, object_id);

CREATE FUNCTION accord.refuse_audit_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on %.% is refused', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'AC001',
              HINT = 'Record a correcting entry instead; history is never edited.';
END;
$$;
COMMENT ON FUNCTION accord.refuse_audit_change() IS 'Trigger body that refuses UPDATE, DELETE and TRUNCATE on append-only tables (SQLSTATE AC001).';

CREATE TRIGGER audit_entry_no_update_or_delete
    BEFORE UPDATE OR DELETE ON accord.audit_entry
    FOR EACH ROW EXECUTE FUNCTION accord.refuse_audit_change();
CREATE TRIGGER audit_entry_no_truncate
    BEFORE TRUNCATE ON accord.audit_entry
    FOR EACH STATEMENT EXECUTE FUNCTION accord.refuse_audit_change();
