-- 0020_audit_append: the audit append writes the canonical bytes in its own body, and touches the
-- chain's head row once. Before, it called accord.audit_canonical, an SQL function PostgreSQL cannot
-- inline (extract() on a timestamptz is only STABLE, the function says IMMUTABLE), so every append
-- parsed and planned that function, and the one it wraps, again: profiled under `make bench`, that was
-- a quarter of the database's CPU on the sign-off path. The bytes hashed are the same, byte for byte
-- (AuditEntryContent in Sources/AccordCore/AuditHash.swift): every chain written before still verifies.
-- accord.audit_canonical stays, for tools and tests that recompute a hash in SQL.
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
    -- The head row locked (appends to one chain queue here), then updated once with the new head.
    SELECT length + 1, head_hash INTO v_seq, v_prev FROM accord.audit_chain WHERE chain = p_chain FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown audit chain %', p_chain USING ERRCODE = 'AC002';
    END IF;
    -- accord.audit_field is a plain SQL expression, inlined here; 'accord-audit-v1;' then each field.
    v_hash := sha256(coalesce(v_prev, ''::bytea) || convert_to(
        'accord-audit-v1;'
        || accord.audit_field(p_chain)
        || accord.audit_field(v_seq::text)
        || accord.audit_field(((extract(epoch FROM v_at) * 1000000)::bigint)::text)
        || accord.audit_field(p_actor)
        || accord.audit_field(p_action)
        || accord.audit_field(p_object_type)
        || accord.audit_field(p_object_id)
        || accord.audit_field(p_before::text)
        || accord.audit_field(p_after::text)
        || accord.audit_field(p_reason)
        || CASE WHEN v_origin IS NULL THEN '' ELSE accord.audit_field(v_origin) END,
        'UTF8'));
    INSERT INTO accord.audit_entry (chain, seq, recorded_at, actor, action, object_type, object_id, before, after, reason, prev_hash, hash, origin)
    VALUES (p_chain, v_seq, v_at, p_actor, p_action, p_object_type, p_object_id, p_before, p_after, p_reason, v_prev, v_hash, v_origin);
    UPDATE accord.audit_chain SET length = v_seq, head_hash = v_hash WHERE chain = p_chain;
    RETURN v_seq;
END;
$$;
