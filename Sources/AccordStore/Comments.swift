import AccordCore
public import Foundation
import Postgres

/// A comment on a task: part of the record, never edited or removed, also an entry of the program's audit chain.
public struct TaskComment: Codable, Sendable, Equatable {
    /// The comment's id.
    public var id: Int64
    /// The ref of the task it is on.
    public var task: String
    /// The author's handle.
    public var author: String
    /// The author's name when they wrote it.
    public var authorName: String
    /// What they wrote (1 to 5,000 characters).
    public var body: String
    /// When it was written (database time).
    public var at: Date
}

enum CommentSQL {
    static let insert = PostgresQuery<Int64, Int64, String, String, TaskComment>(
        "comment_insert",
        """
        WITH c AS (
            INSERT INTO accord.task_comment (task_id, author_id, author_name, body) VALUES ($1, $2, $3, $4)
            RETURNING id, author_name, body, created_at
        )
        SELECT c.id, '' AS task, p.handle AS author, c.author_name, c.body, c.created_at FROM c JOIN accord.person p ON p.id = $2
        """,
        row: TaskComment.init(row:)
    )
    /// A task's thread, oldest first, a page at a time, with the size of the whole thread.
    static let page = PostgresQuery<Int64, String, Int64, Int64, Counted<TaskComment>>(
        "comment_page",
        """
        SELECT c.id, $2::text AS task, p.handle AS author, c.author_name, c.body, c.created_at, count(*) OVER () AS total
        FROM accord.task_comment c JOIN accord.person p ON p.id = c.author_id
        WHERE c.task_id = $1 ORDER BY c.id LIMIT $3 OFFSET $4
        """
    ) { try Counted(row: $0, TaskComment.init(row:)) }
    /// Tells the task's people of a new comment, in their inbox: its assignee, whoever submitted it and the
    /// holders of the roles ($2) whose sign-off it awaits; never the author ($3), nor a disabled account.
    static let notify = PostgresQuery<Int64, PostgresArray<String>, Int64, String, Int64>(
        "comment_notify",
        """
        INSERT INTO accord.notification (person_id, task_id, kind, message)
        SELECT w.person_id, $1, 'comment', $4
        FROM (SELECT t.assignee_id AS person_id FROM accord.task t WHERE t.id = $1
              UNION SELECT t.submitted_by FROM accord.task t WHERE t.id = $1
              UNION SELECT b.person_id FROM accord.role_binding b JOIN accord.task t ON t.program_id = b.program_id
                    WHERE t.id = $1 AND b.role = ANY ($2::text[])) w
        JOIN accord.person p ON p.id = w.person_id
        WHERE w.person_id <> $3 AND p.disabled_at IS NULL
        RETURNING person_id
        """
    ) { try $0.decode(Int64.self, "person_id") }

    static let catalogue: [any PostgresCheckable] = [insert, page, notify]
}

extension TaskComment {
    init(row: PostgresRow) throws {
        self.init(
            id: try row.decode(Int64.self, "id"),
            task: try row.decode(String.self, "task"),
            author: try row.decode(String.self, "author"),
            authorName: try row.decode(String.self, "author_name"),
            body: try row.decode(String.self, "body"),
            at: try row.decode(Date.self, "created_at")
        )
    }
}

extension Store {
    /// The longest comment, in characters.
    public static let maxCommentLength = 5_000

    /// Adds a comment to a task's thread. Any member of the task's program (anyone holding a role in it) or
    /// an administrator; in one transaction with its audit entry (`task.comment`, the text included, so the
    /// chain and the packs carry the thread) and a notice in the inbox of the task's people: its assignee,
    /// whoever submitted it, and the holders of the roles whose sign-off it awaits.
    public func addComment(to ref: String, body: String, actor: String?) async throws -> TaskComment {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            // Seeing the task is being a member of its program (or an administrator); others get "not found".
            let id = try await Self.resolveTask(ref, for: acting, on: connection)
            let text = body.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw AccordError(.invalid, "write a comment first", field: "body") }
            // Counted as PostgreSQL's char_length counts (code points), which the table's CHECK uses.
            let length = text.unicodeScalars.count
            guard length <= Self.maxCommentLength else {
                throw AccordError(
                    .invalid,
                    "a comment has at most \(Self.maxCommentLength) characters; this one has \(length)",
                    field: "body"
                )
            }
            guard !text.unicodeScalars.contains(where: { $0 == "\0" }) else {
                throw AccordError(.invalid, "a comment cannot contain a null character", field: "body")
            }
            let task = try await Self.lockTask(id, on: connection, lock: false)
            let program = try await Self.programRow(task.programID, on: connection)
            var comment = try await connection.queryOne(CommentSQL.insert, id, acting.id, acting.name, text)
            comment.task = task.ref
            try await connection.appendAudit(
                AuditRecord(
                    chain: programChain(program.slug),
                    actor: acting.handle,
                    action: "task.comment",
                    objectType: "task",
                    objectID: task.ref,
                    after: auditJSON(CommentRecord(comment: comment.id, body: text))
                )
            )
            let awaited = try await Self.rolesAwaited(task, program: program, on: connection)
            let preview = text.count > 120 ? String(text.prefix(119)) + "…" : text
            let message = "\(acting.name) commented on \(task.ref): \(preview)"
            let told = try await connection.query(CommentSQL.notify, id, PostgresArray(awaited.sorted()), acting.id, message)
            try await Self.mailComment(task, by: acting, text: text, people: told, program: program, on: connection)
            return comment
        }
    }

    /// A page of a task's comments, oldest first, for anyone who may see the task.
    public func comments(of ref: String, paging: Paging, actor: String?) async throws -> Paged<TaskComment> {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let id = try await Self.resolveTask(ref, for: acting, on: connection)
            let task = try await Self.lockTask(id, on: connection, lock: false)
            return try await Self.paged(paging) { limit, offset in
                try await connection.query(CommentSQL.page, id, task.ref, limit, offset)
            }
        }
    }

    /// The roles whose sign-off a task in review still awaits (none when it is not in review).
    static func rolesAwaited(_ task: TaskRow, program: ProgramRow, on connection: PostgresConnection) async throws -> Set<String> {
        guard task.state == .inReview else { return [] }
        let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
        guard let policy = workflow.task(task.templateKey)?.approval else { return [] }
        let extra = try await connection.queryOne(TaskSQL.extra, task.id)
        let approvals = try await connection.query(SignatureSQL.approvals, task.id, extra.reviewRound, extra.evidenceVersion)
        return Set(ApprovalEvaluation(policy: policy, approvals: approvals).remaining.filter { $0.needed > 0 }.map { $0.role })
    }
}

/// A comment as its audit entry records it.
struct CommentRecord: Encodable {
    var comment: Int64
    var body: String
}
