import AccordCore
import Postgres

/// The queries of classifying AI systems (Classifications.swift).
enum ClassificationSQL {
    static let lockSystem = PostgresQuery<Int64, String, SystemRow>(
        "classification_lock_system",
        "SELECT id, slug, profile, to_char(added_on, 'YYYY-MM-DD') AS added_on FROM accord.ai_system WHERE program_id = $1 AND slug = $2 FOR UPDATE",
        row: SystemRow.init(row:)
    )
    /// The system's tasks that no trigger made (roadmap and cycle instances), with their reason if not applicable.
    static let tasks = PostgresQuery<Int64, (id: Int64, key: String, state: TaskState, instance: String, reason: String?)>(
        "classification_system_tasks",
        """
        SELECT id, template_key, state, instance, na_reason FROM accord.task
        WHERE system_id = $1 AND finding_id IS NULL AND incident_id IS NULL AND state <> 'retired' ORDER BY position, instance
        """
    ) {
        (
            id: try $0.decode(Int64.self, "id"), key: try $0.decode(String.self, "template_key"), state: try $0.decode(TaskState.self, "state"),
            instance: try $0.decode(String.self, "instance"), reason: try $0.decode(String?.self, "na_reason")
        )
    }
    /// Every template key the system has had a task of (retired ones count: one template, one task per system).
    static let keys = PostgresQuery<Int64, String>(
        "classification_system_keys",
        "SELECT DISTINCT template_key FROM accord.task WHERE system_id = $1 AND instance = ''"
    ) { try $0.decode(String.self, "template_key") }
    static let update = PostgresCommand<Int64, PostgresJSON, OperatorRole, RiskClass, Bool, String?, String, String>(
        "classification_update_system",
        """
        UPDATE accord.ai_system SET profile = $2, operator_role = $3, risk_class = $4, gpai = $5, annex_iii = $6::smallint,
               classified_with = $7, law_version = $8
        WHERE id = $1
        """
    )
    static let insert = PostgresQuery<
        Int64, String, Int, String, ClassificationReason, String?, PostgresJSON, PostgresJSON, PostgresJSON, PostgresJSON, PostgresJSON,
        Int64?, Int64?, Int64, Int64
    >(
        "classification_insert",
        """
        INSERT INTO accord.system_classification (system_id, questionnaire, questionnaire_version, law_version, reason, note, answers, walk,
            profile, previous_profile, changes, task_id, evidence_id, recorded_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id
        """
    ) { try $0.decode(Int64.self, "id") }
    /// $1 program, $2 system slug.
    static let history = PostgresQuery<Int64, String, ClassificationRecord>(
        "classification_history",
        """
        SELECT c.questionnaire || '@' || c.questionnaire_version AS questionnaire, c.law_version, c.reason, c.note, c.profile, c.walk,
               c.changes, p.handle AS recorded_by, to_char(c.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS recorded_at
        FROM accord.system_classification c JOIN accord.person p ON p.id = c.recorded_by JOIN accord.ai_system s ON s.id = c.system_id
        WHERE s.program_id = $1 AND s.slug = $2 ORDER BY c.id
        """
    ) {
        ClassificationRecord(
            questionnaire: try $0.decode(String.self, "questionnaire"),
            lawVersion: try $0.decode(String.self, "law_version"),
            reason: try $0.decode(ClassificationReason.self, "reason"),
            note: try $0.decode(String?.self, "note"),
            profile: try $0.decode(PostgresJSON.self, "profile").decode(SystemProfile.self),
            walk: try $0.decode(PostgresJSON.self, "walk").decode(ClassificationWalk.self),
            changes: try $0.decode(PostgresJSON.self, "changes").decode(ClassificationChanges.self),
            recordedBy: try $0.decode(String.self, "recorded_by"),
            recordedAt: try $0.decode(String.self, "recorded_at")
        )
    }
    static let systemID = PostgresQuery<Int64, String, Int64>(
        "classification_system_id",
        "SELECT id FROM accord.ai_system WHERE program_id = $1 AND slug = $2"
    ) { try $0.decode(Int64.self, "id") }

    static let catalogue: [any PostgresCheckable] = [lockSystem, tasks, keys, update, insert, history, systemID]
}
