-- 0008_security: what a security review of the approval promise asked for.
--   * no secret under a fast hash: Idempotency-Key fingerprints are now an HMAC with the audit key over
--     the request without its password; every fingerprint stored before (a SHA-256 over a body that
--     carried the password) is purged;
--   * one throttle for logins and signing, claimed atomically before bcrypt runs;
--   * audit entries say which channel wrote them (the CLI records the operating-system user);
--   * workflow versions are append-only in the database, as they always were in the engine;
--   * the application logs in as its own role, which cannot become the schema owner.

-- 1. Idempotency fingerprints. A remembered answer without its fingerprint cannot be matched any more,
-- so the rows go with them: a retry of an old key is then a new request, and signing twice is still
-- refused by the signature's own uniqueness (one signature per signer, round and evidence version).
DELETE FROM accord.idempotency_key;
ALTER TABLE accord.idempotency_key RENAME COLUMN request_sha256 TO request_hmac;
ALTER TABLE accord.idempotency_key ADD CONSTRAINT idempotency_key_hmac_length CHECK (octet_length(request_hmac) = 32);
COMMENT ON COLUMN accord.idempotency_key.request_hmac IS
    'HMAC-SHA256 with the audit key (kept outside the database), under its own prefix, of the method, path and the request''s fields other than the password. Never a hash of a secret.';
CREATE INDEX idempotency_key_created ON accord.idempotency_key (created_at);
-- A remembered refusal is its engine code (not-found, forbidden, conflict, invalid) and message, not a
-- status of -1 with both packed into the response text.
ALTER TABLE accord.idempotency_key ADD COLUMN refusal_code text
    CONSTRAINT idempotency_key_refusal_known CHECK (refusal_code IN ('not-found', 'forbidden', 'conflict', 'invalid'));
COMMENT ON COLUMN accord.idempotency_key.refusal_code IS 'Set when the remembered answer is a refusal: its code; response holds its message.';

-- 2. One throttle for every secret a person types: logins per account and address, per address, and
-- signing per person. An attempt is counted before the secret is checked (claimed in its own committed
-- statement), so concurrent guesses cannot pass the limit while bcrypt runs; a success clears its key.
DROP TABLE accord.login_throttle;
DROP TABLE accord.sign_lockout;
CREATE TABLE accord.auth_throttle (
    key            text PRIMARY KEY
                   CONSTRAINT auth_throttle_key_length CHECK (length(key) BETWEEN 1 AND 400),
    failures       integer NOT NULL DEFAULT 0
                   CONSTRAINT auth_throttle_failures_not_negative CHECK (failures >= 0),
    in_flight      integer NOT NULL DEFAULT 0
                   CONSTRAINT auth_throttle_in_flight_not_negative CHECK (in_flight >= 0),
    last_attempt   timestamptz NOT NULL DEFAULT now(),
    blocked_until  timestamptz
);
CREATE INDEX auth_throttle_last ON accord.auth_throttle (last_attempt);
COMMENT ON TABLE accord.auth_throttle IS
    'Attempts at a secret: ''login:HANDLE@ADDRESS'', ''address:IP'', ''sign:PERSON_ID''. An attempt is claimed (in_flight) before the secret is checked and settled after; failures plus attempts in flight never pass the limit, so concurrent guesses cannot outrun the count.';
COMMENT ON COLUMN accord.auth_throttle.failures IS 'Wrong secrets since the key''s last success; a block that ends does not reset it, and each failure past the limit doubles the block.';
COMMENT ON COLUMN accord.auth_throttle.in_flight IS 'Attempts claimed and not yet settled; claims older than 30 seconds are taken for dead (a process that stopped mid-check).';

-- 3. Which channel wrote an audit entry: the CLI sets accord.origin on its connections
-- (cli, the operating-system user and host). NULL for the server and for entries written before.
-- The hash covers it: the canonical encoding gains one trailing field when it is not NULL, so every
-- entry written before keeps its bytes.
ALTER TABLE accord.audit_entry ADD COLUMN origin text;
COMMENT ON COLUMN accord.audit_entry.origin IS
    'The channel that wrote the entry when it was not the server: ''cli user=OS_USER host=HOST''. Set by the connection (accord.origin), so it says who ran the command, not who they said they were.';

CREATE FUNCTION accord.audit_canonical(
    chain text, seq bigint, recorded_at timestamptz, actor text, action text,
    object_type text, object_id text, before json, after json, reason text, origin text
) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT accord.audit_canonical(chain, seq, recorded_at, actor, action, object_type, object_id, before, after, reason)
        || CASE WHEN origin IS NULL THEN ''::bytea ELSE convert_to(accord.audit_field(origin), 'UTF8') END
$$;
COMMENT ON FUNCTION accord.audit_canonical(text, bigint, timestamptz, text, text, text, text, json, json, text, text) IS
    'The bytes an audit entry''s hash covers: version 1, then the origin as one more field when there is one.';

CREATE OR REPLACE FUNCTION accord.append_audit(
    p_chain text, p_actor text, p_action text, p_object_type text, p_object_id text,
    p_before json, p_after json, p_reason text
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, accord AS $$
DECLARE
    v_seq    bigint;
    v_prev   bytea;
    v_at     timestamptz := now();
    v_hash   bytea;
    v_origin text := nullif(current_setting('accord.origin', true), '');
BEGIN
    UPDATE accord.audit_chain SET length = length + 1 WHERE chain = p_chain RETURNING length, head_hash INTO v_seq, v_prev;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown audit chain %', p_chain USING ERRCODE = 'AC002';
    END IF;
    v_hash := sha256(coalesce(v_prev, ''::bytea)
        || accord.audit_canonical(p_chain, v_seq, v_at, p_actor, p_action, p_object_type, p_object_id, p_before, p_after, p_reason, v_origin));
    INSERT INTO accord.audit_entry (chain, seq, recorded_at, actor, action, object_type, object_id, before, after, reason, prev_hash, hash, origin)
    VALUES (p_chain, v_seq, v_at, p_actor, p_action, p_object_type, p_object_id, p_before, p_after, p_reason, v_prev, v_hash, v_origin);
    UPDATE accord.audit_chain SET head_hash = v_hash WHERE chain = p_chain;
    RETURN v_seq;
END;
$$;

-- 4. Workflow versions never change once loaded: programs, signatures and reports refer to them.
CREATE TRIGGER workflow_version_no_update_or_delete BEFORE UPDATE OR DELETE ON accord.workflow_version
    FOR EACH ROW EXECUTE FUNCTION accord.refuse_audit_change();
CREATE TRIGGER workflow_version_no_truncate BEFORE TRUNCATE ON accord.workflow_version
    FOR EACH STATEMENT EXECUTE FUNCTION accord.refuse_audit_change();

-- 5. The application's own login role. accord_app may log in (the embedded cluster connects as it; on
-- another server the operator gives it a password) and is a member of no other role, so a compromised
-- process cannot RESET ROLE into the schema owner. Changing the role needs CREATEROLE (or a superuser):
-- elsewhere the operator does it by hand (docs/database.md); the owner always revokes on its own table.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'accord_app') THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON accord.workflow_version FROM accord_app;
        GRANT SELECT, INSERT, UPDATE, DELETE ON accord.auth_throttle TO accord_app;
    END IF;
END;
$$;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'accord_app') THEN
        ALTER ROLE accord_app LOGIN;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'accord_app cannot log in yet: % may not change roles; run ALTER ROLE accord_app LOGIN PASSWORD ... (docs/database.md)', current_user;
END;
$$;

-- 6. Delegations made before these rules that they would refuse end now, each with its audit entry:
-- made by someone who was neither the holder nor an administrator, or by the deputy, to someone who
-- holds no role in the program, or for longer than 90 days.
DO $$
DECLARE
    d record;
BEGIN
    FOR d IN
        SELECT dl.id, p.slug, dl.role, f.handle AS from_handle, t.handle AS to_handle
        FROM accord.delegation dl
        JOIN accord.program p ON p.id = dl.program_id
        JOIN accord.person f ON f.id = dl.from_id
        JOIN accord.person t ON t.id = dl.to_id
        JOIN accord.person c ON c.id = dl.created_by
        WHERE dl.revoked_at IS NULL AND dl.valid_until >= current_date
          AND (dl.created_by = dl.to_id
               OR (dl.created_by <> dl.from_id AND NOT c.is_admin)
               OR dl.valid_until > dl.created_at::date + 90
               OR NOT EXISTS (SELECT 1 FROM accord.role_binding b WHERE b.program_id = dl.program_id AND b.person_id = dl.to_id))
        ORDER BY dl.id
    LOOP
        UPDATE accord.delegation SET revoked_at = now() WHERE id = d.id;
        PERFORM accord.append_audit('program:' || d.slug, 'system', 'delegation.revoke', 'delegation', d.id::text, NULL,
            json_build_object('role', d.role, 'from', d.from_handle, 'to', d.to_handle)::json,
            'migration 0008: delegations come from their holder or an administrator, to a member, for at most 90 days');
    END LOOP;
END;
$$;
