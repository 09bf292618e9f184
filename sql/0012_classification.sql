-- 0012_classification: an AI system's classification is a record, not two flags.
-- A system's profile holds what the AI Act turns on (every role the organisation holds for it, the
-- high-risk route and Annex III point, the Art. 50 cases, the Art. 5 screening, general-purpose AI, and
-- the attributes that scope duties); operator_role, risk_class, gpai and annex_iii stay as the one-word
-- summary lists and filters use. Each walk of the classification questionnaire is kept, append-only,
-- with its answers, its reasoning and the task changes it made.

ALTER TABLE accord.ai_system ADD COLUMN profile jsonb;
-- Systems entered before: their inventory flags become a preliminary profile (flagged for review, as no
-- questionnaire produced it). High risk with an area is that Annex III area; limited risk is read as
-- "interacts with people"; the GPAI flag meant "uses general-purpose AI", i.e. built on a model.
UPDATE accord.ai_system SET profile = jsonb_build_object(
    'roles', jsonb_build_array(operator_role),
    'route', CASE WHEN risk_class = 'high' THEN 'annex-iii' ELSE 'none' END,
    'annex_iii', CASE WHEN risk_class = 'high' AND annex_iii IS NOT NULL THEN annex_iii::text END,
    'prohibited', CASE WHEN risk_class = 'prohibited' THEN '["unspecified"]'::jsonb ELSE '[]'::jsonb END,
    'transparency', CASE WHEN risk_class = 'limited' THEN '["interacts"]'::jsonb ELSE '[]'::jsonb END,
    'built_on_gpai', gpai
);
ALTER TABLE accord.ai_system ALTER COLUMN profile SET NOT NULL;
ALTER TABLE accord.ai_system ADD CONSTRAINT ai_system_profile_roles
    CHECK (jsonb_typeof(profile -> 'roles') = 'array' AND jsonb_array_length(profile -> 'roles') > 0);
-- Which questionnaire and version of the law produced the profile; NULL for inventory flags.
ALTER TABLE accord.ai_system ADD COLUMN classified_with text;
ALTER TABLE accord.ai_system ADD COLUMN law_version text;
COMMENT ON COLUMN accord.ai_system.profile IS 'What the AI Act turns on for the system (SystemProfile, the applies_to vocabulary): roles, route, annex_iii, transparency, prohibited, gpai_model, public_service, outside_union, size, legacy…';
COMMENT ON COLUMN accord.ai_system.classified_with IS 'questionnaire@version of the walk that produced the profile; NULL when it came from the inventory''s flags (to be reviewed).';
COMMENT ON COLUMN accord.ai_system.law_version IS 'The version of the law''s text and dates the classifying questionnaire followed, e.g. 2026-1744.';
COMMENT ON COLUMN accord.ai_system.operator_role IS 'The first of the profile''s roles (provider, deployer, importer, distributor), for lists.';
COMMENT ON COLUMN accord.ai_system.risk_class IS 'The profile as one word (prohibited, high, limited, minimal), for lists and filters.';

CREATE TABLE accord.system_classification (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    system_id              bigint NOT NULL REFERENCES accord.ai_system (id),
    questionnaire          text NOT NULL,
    questionnaire_version  integer NOT NULL,
    law_version            text NOT NULL,
    reason                 text NOT NULL
                           CONSTRAINT system_classification_reason CHECK (reason IN
                               ('initial', 'rerun', 'substantial-modification', 'intended-purpose-change', 'own-name-or-trademark')),
    note                   text,
    answers                jsonb NOT NULL,
    walk                   jsonb NOT NULL,
    profile                jsonb NOT NULL,
    previous_profile       jsonb,
    changes                jsonb NOT NULL,
    task_id                bigint REFERENCES accord.task (id),
    evidence_id            bigint REFERENCES accord.evidence (id),
    recorded_by            bigint NOT NULL REFERENCES accord.person (id),
    recorded_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX system_classification_system ON accord.system_classification (system_id, id);
COMMENT ON TABLE accord.system_classification IS 'Every walk of the classification questionnaire for a system: answers, reasoning (walk), the profile before and after, and the tasks it added, closed and reinstated; append-only, each also in the program''s audit chain (system.classify).';
COMMENT ON COLUMN accord.system_classification.evidence_id IS 'The answers and reasoning as evidence of the system''s confirm-classification task, which the legal role signs.';

CREATE TRIGGER system_classification_no_update_or_delete BEFORE UPDATE OR DELETE ON accord.system_classification
    FOR EACH ROW EXECUTE FUNCTION accord.refuse_audit_change();
CREATE TRIGGER system_classification_no_truncate BEFORE TRUNCATE ON accord.system_classification
    FOR EACH STATEMENT EXECUTE FUNCTION accord.refuse_audit_change();
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'accord_app') THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON accord.system_classification FROM accord_app;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'grants for accord_app left as they are: % may not change them', current_user;
END;
$$;
