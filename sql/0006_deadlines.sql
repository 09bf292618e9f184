-- 0006_deadlines: reminders and escalations (each fired once, by unique key), the inbox's notices,
-- the outbox and webhooks, continual-improvement cycles, findings and serious incidents.

-- A task instance beyond the roadmap's: 'c2' (cycle 2), 'c2.3' (its third occurrence), 'f5'
-- (finding 5), 'i1' (incident 1). Roadmap tasks have ''. A ref shows it after '+'.
ALTER TABLE accord.task
    ADD COLUMN instance text NOT NULL DEFAULT ''
        CONSTRAINT task_instance_format CHECK (instance ~ '^([cfi][0-9]+(\.[0-9]+)?)?$');
ALTER TABLE accord.task DROP CONSTRAINT task_once_per_system;
ALTER TABLE accord.task ADD CONSTRAINT task_once_per_instance UNIQUE NULLS NOT DISTINCT (program_id, template_key, system_id, instance);
COMMENT ON COLUMN accord.task.instance IS 'Empty for roadmap tasks; c<N>[.<k>] for cycle N''s recurring tasks, f<N> for finding N''s, i<N> for incident N''s.';

CREATE TABLE accord.cycle (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    program_id  bigint NOT NULL REFERENCES accord.program (id),
    number      integer NOT NULL CONSTRAINT cycle_number_positive CHECK (number > 0),
    period      text NOT NULL,
    starts_on   date NOT NULL,
    ends_on     date NOT NULL,
    opened_at   timestamptz NOT NULL DEFAULT now(),
    opened_by   text NOT NULL,
    closed_at   timestamptz,
    closed_by   text,
    kpis        jsonb,
    CONSTRAINT cycle_number_unique UNIQUE (program_id, number),
    CONSTRAINT cycle_period_order CHECK (ends_on > starts_on),
    CONSTRAINT cycle_closed_has_kpis CHECK ((closed_at IS NULL) = (kpis IS NULL))
);
CREATE UNIQUE INDEX cycle_one_open ON accord.cycle (program_id) WHERE closed_at IS NULL;
ALTER TABLE accord.task ADD COLUMN cycle_id bigint REFERENCES accord.cycle (id);
CREATE INDEX task_cycle ON accord.task (cycle_id) WHERE cycle_id IS NOT NULL;
COMMENT ON TABLE accord.cycle IS 'A plan-do-check-act period of a program (ISO/IEC 42001 cl. 10.1): its recurring tasks point at it; closing it snapshots its KPIs.';

CREATE TABLE accord.incident (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    program_id     bigint NOT NULL REFERENCES accord.program (id),
    number         integer NOT NULL,
    system_id      bigint NOT NULL REFERENCES accord.ai_system (id),
    kind           text NOT NULL
                   CONSTRAINT incident_kind CHECK (kind IN ('death', 'critical-infrastructure', 'widespread', 'other')),
    aware_at       timestamptz NOT NULL,
    report_due_at  timestamptz NOT NULL,
    summary        text NOT NULL CONSTRAINT incident_summary_not_blank CHECK (btrim(summary) <> ''),
    reported_by    bigint NOT NULL REFERENCES accord.person (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT incident_number_unique UNIQUE (program_id, number),
    CONSTRAINT incident_clock_after_awareness CHECK (report_due_at > aware_at)
);
COMMENT ON TABLE accord.incident IS 'A serious incident (AI Act Art. 3(49)) and its Art. 73 notification clock, counted from awareness.';

CREATE TABLE accord.finding (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    program_id   bigint NOT NULL REFERENCES accord.program (id),
    number       integer NOT NULL,
    source       text NOT NULL
                 CONSTRAINT finding_source CHECK (source IN ('audit', 'incident', 'monitoring', 'review', 'other')),
    severity     text NOT NULL
                 CONSTRAINT finding_severity CHECK (severity IN ('major', 'minor', 'observation')),
    title        text NOT NULL CONSTRAINT finding_title_not_blank CHECK (btrim(title) <> ''),
    system_id    bigint REFERENCES accord.ai_system (id),
    incident_id  bigint REFERENCES accord.incident (id),
    cycle_id     bigint REFERENCES accord.cycle (id),
    root_cause   text,
    opened_at    timestamptz NOT NULL DEFAULT now(),
    opened_by    bigint NOT NULL REFERENCES accord.person (id),
    closed_at    timestamptz,
    CONSTRAINT finding_number_unique UNIQUE (program_id, number),
    CONSTRAINT finding_closed_has_root_cause CHECK (closed_at IS NULL OR root_cause IS NOT NULL)
);
CREATE INDEX finding_open ON accord.finding (program_id) WHERE closed_at IS NULL;
ALTER TABLE accord.task ADD COLUMN finding_id bigint REFERENCES accord.finding (id),
                        ADD COLUMN incident_id bigint REFERENCES accord.incident (id);
CREATE INDEX task_finding ON accord.task (finding_id) WHERE finding_id IS NOT NULL;
CREATE INDEX task_incident ON accord.task (incident_id) WHERE incident_id IS NOT NULL;
COMMENT ON TABLE accord.finding IS 'A nonconformity or observation (cl. 10.2): closes when its root cause is recorded and its tasks (corrective action, signed effectiveness check) are finished.';

-- One row per reminder, overdue notice and escalation level ever fired. The unique key is what makes
-- a deadline fire once, however many schedulers run: a re-dated task has a new due_on, so fires anew.
CREATE TABLE accord.deadline_event (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id      bigint NOT NULL REFERENCES accord.task (id),
    kind         text NOT NULL CONSTRAINT deadline_event_kind CHECK (kind IN ('reminder', 'overdue', 'escalation')),
    level        smallint NOT NULL,
    due_on       date NOT NULL,
    to_role      text,
    recipients   text[] NOT NULL,
    fired_on     date NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT deadline_event_once UNIQUE (task_id, kind, level, due_on)
);
CREATE INDEX deadline_event_recent ON accord.deadline_event (recorded_at);
COMMENT ON TABLE accord.deadline_event IS 'Reminders (level = index in remind_before), overdue notices and escalations (level = chain position, from 1), each once per task, level and due date.';

CREATE TABLE accord.notification (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id     bigint NOT NULL REFERENCES accord.person (id),
    task_id       bigint REFERENCES accord.task (id),
    event_id      bigint REFERENCES accord.deadline_event (id),
    kind          text NOT NULL,
    message       text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    dismissed_at  timestamptz
);
CREATE INDEX notification_inbox ON accord.notification (person_id, created_at DESC) WHERE dismissed_at IS NULL;
COMMENT ON TABLE accord.notification IS 'What the inbox shows a person besides their tasks: reminders, overdue notices, escalations.';

CREATE TABLE accord.webhook (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url         text NOT NULL CONSTRAINT webhook_url_http CHECK (url ~ '^https?://[^\s]+$'),
    secret      text NOT NULL CONSTRAINT webhook_secret_length CHECK (length(secret) >= 16),
    program_id  bigint REFERENCES accord.program (id),
    topics      text[],
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  bigint NOT NULL REFERENCES accord.person (id),
    removed_at  timestamptz
);
COMMENT ON TABLE accord.webhook IS 'Receivers of events as signed JSON POSTs; program_id NULL: every program; topics NULL: every topic.';
COMMENT ON COLUMN accord.webhook.secret IS 'The HMAC-SHA256 key of the Accord-Signature header; shown once, when created.';

-- Written in the same transaction as its cause; deliveries are fanned out at once, so a webhook added
-- later does not receive old events.
CREATE TABLE accord.outbox (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    topic       text NOT NULL,
    program_id  bigint REFERENCES accord.program (id),
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE accord.webhook_delivery (
    outbox_id        uuid NOT NULL REFERENCES accord.outbox (id),
    webhook_id       bigint NOT NULL REFERENCES accord.webhook (id),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    leased_until     timestamptz,
    lease_token      uuid,
    delivered_at     timestamptz,
    failed_at        timestamptz,
    last_status      integer,
    last_error       text,
    PRIMARY KEY (outbox_id, webhook_id)
);
CREATE INDEX webhook_delivery_pending ON accord.webhook_delivery (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
COMMENT ON TABLE accord.webhook_delivery IS 'One row per (event, webhook): claimed by lease with SKIP LOCKED, retried with backoff, given up after the last attempt.';
COMMENT ON COLUMN accord.webhook_delivery.lease_token IS 'Set by each claim; the outcome is recorded only by the claimer still holding it.';

CREATE FUNCTION accord.emit(p_topic text, p_program_id bigint, p_payload jsonb) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid;
BEGIN
    INSERT INTO accord.outbox (topic, program_id, payload) VALUES (p_topic, p_program_id, p_payload) RETURNING id INTO v_id;
    INSERT INTO accord.webhook_delivery (outbox_id, webhook_id)
    SELECT v_id, w.id FROM accord.webhook w
    WHERE w.removed_at IS NULL
      AND (w.program_id IS NULL OR w.program_id = p_program_id)
      AND (w.topics IS NULL OR p_topic = ANY (w.topics));
    PERFORM pg_notify('accord_outbox', v_id::text);
    RETURN v_id;
END;
$$;
COMMENT ON FUNCTION accord.emit IS 'Records an event in the outbox and queues it for every matching webhook, in the caller''s transaction.';

-- Fired deadlines are history: the application may add them, never change them.
CREATE TRIGGER deadline_event_no_update_or_delete BEFORE UPDATE OR DELETE ON accord.deadline_event
    FOR EACH ROW EXECUTE FUNCTION accord.refuse_audit_change();
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'accord_app') THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON accord.deadline_event FROM accord_app;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'grants for accord_app left as they are: % may not change them', current_user;
END;
$$;

CREATE FUNCTION accord.task_ref(program_slug text, template_key text, system_slug text, instance text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT program_slug || '/' || template_key || coalesce('@' || system_slug, '') || CASE WHEN instance <> '' THEN '+' || instance ELSE '' END
$$;
COMMENT ON FUNCTION accord.task_ref IS 'PROGRAM/TASK[@SYSTEM][+INSTANCE]: how people, the CLI and the audit log name a task.';
