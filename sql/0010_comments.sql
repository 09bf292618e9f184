-- 0010_comments: a comment thread on each task. Comments are part of the record: never edited or removed
-- (the triggers refuse it, as on the audit log), and each one is also an entry of its program's audit chain.
-- Someone who wrote the wrong thing writes a correction below it.

CREATE TABLE accord.task_comment (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id      bigint NOT NULL REFERENCES accord.task (id),
    author_id    bigint NOT NULL REFERENCES accord.person (id),
    author_name  text NOT NULL,
    body         text NOT NULL CONSTRAINT task_comment_body_length CHECK (char_length(body) BETWEEN 1 AND 5000),
    created_at   timestamptz NOT NULL DEFAULT now()
);
-- The thread of a task, oldest first, read a page at a time.
CREATE INDEX task_comment_thread ON accord.task_comment (task_id, id);
COMMENT ON TABLE accord.task_comment IS 'Comments on a task, oldest first; append-only (UPDATE, DELETE and TRUNCATE are refused), each also recorded in the program''s audit chain (task.comment).';
COMMENT ON COLUMN accord.task_comment.author_name IS 'The author''s name when they wrote it, as a signature keeps its printed name.';

CREATE TRIGGER task_comment_no_update_or_delete BEFORE UPDATE OR DELETE ON accord.task_comment
    FOR EACH ROW EXECUTE FUNCTION accord.refuse_audit_change();
CREATE TRIGGER task_comment_no_truncate BEFORE TRUNCATE ON accord.task_comment
    FOR EACH STATEMENT EXECUTE FUNCTION accord.refuse_audit_change();
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'accord_app') THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON accord.task_comment FROM accord_app;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'grants for accord_app left as they are: % may not change them', current_user;
END;
$$;

COMMENT ON COLUMN accord.notification.kind IS 'reminder, overdue, escalation (from deadlines) or comment (a new comment on a task the person works, submitted or is asked to sign).';
