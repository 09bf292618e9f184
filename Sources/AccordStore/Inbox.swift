import AccordCore
public import Foundation
import Postgres

/// What waits for a person: their tasks by due date, and the sign-offs they can give now, overdue first.
public struct Inbox: Codable, Sendable, Equatable {
    /// The most sign-offs an inbox lists; the rest are behind `signOffsMore`.
    public static let signOffLimit = 100
    /// Their outstanding tasks (assigned to them, or unassigned in a role they hold), overdue first.
    public var tasks: [TaskSummary]
    /// The tasks in review they can sign now, overdue first.
    public var signOffs: [TaskSummary]
    /// True when more sign-offs wait than `signOffs` shows (it holds the first `Inbox.signOffLimit`, most late first).
    public var signOffsMore: Bool = false
    /// Reminders, overdue notices and escalations about tasks still outstanding, newest first.
    public var notices: [Notice] = []
}

/// A reminder, overdue notice or escalation in a person's inbox.
public struct Notice: Codable, Sendable, Equatable {
    /// The notification's id.
    public var id: Int64
    /// Which kind of notice it is (reminder, overdue, escalation).
    public var kind: String
    /// The notice's text.
    public var message: String
    /// The ref of the task it is about, if any.
    public var task: String?
    /// The id of the task it is about, if any.
    public var taskID: Int64?
    /// When it was created.
    public var at: Date
}

/// A role a person holds, or is delegated now, in a program, with the program's workflow.
struct InboxAuthority {
    var programID: Int64
    var role: String
    var workflowID: String
    var workflowVersion: Int
    var checksum: String
}

/// A task in review that the person might sign, with what the policy's rules look at.
struct SignOffCandidate {
    var task: TaskSummary
    var programID: Int64
    var assigneeID: Int64?
    var submittedBy: Int64?
}

/// A signature of a task's current round.
struct InboxRoundSignature {
    var taskID: Int64
    var signerID: Int64
    /// The role an approval fills; `nil` for a rejection (whose role is not read).
    var approvedRole: String?
}

enum InboxSQL {
    /// The roles a person holds, and those delegated to them now, per program, with the program's workflow.
    static let authority = PostgresQuery<Int64, InboxAuthority>("inbox_authority", authoritySQL(""), row: InboxAuthority.init(row:))
    /// `authority` in one program. Two statements rather than an optional filter, so that each keeps one
    /// prepared plan (the inbox runs on every page view; planning it each time was most of its cost).
    static let authorityIn = PostgresQuery<Int64, Int64, InboxAuthority>(
        "inbox_authority_in",
        authoritySQL("WHERE r.program_id = $2"),
        row: InboxAuthority.init(row:)
    )
    private static func authoritySQL(_ filter: String) -> String {
        """
        SELECT r.program_id, r.role, p.workflow_id, p.workflow_version, w.checksum
        FROM (SELECT program_id, role FROM accord.role_binding WHERE person_id = $1
              UNION
              SELECT d.program_id, d.role FROM accord.delegation d
              WHERE d.to_id = $1 AND \(DelegationSQL.inForce)) r
        CROSS JOIN LATERAL (SELECT workflow_id, workflow_version FROM accord.program WHERE id = r.program_id OFFSET 0) p
        CROSS JOIN LATERAL (
            SELECT checksum FROM accord.workflow_version WHERE workflow_id = p.workflow_id AND version = p.workflow_version OFFSET 0
        ) w
        \(filter)
        """
    }
    /// The rest of the inbox's first round trip runs on generic plans (`authority`'s is pinned to index
    /// lookups per role by its OFFSET 0 fences, whatever the estimates): PostgreSQL would otherwise plan it
    /// afresh on every call, which under load was a fifth of the database's CPU. Local to the round trip,
    /// which outside BEGIN is one implicit transaction.
    static let genericPlans = PostgresQuery<Void>(
        "inbox_generic_plans",
        "SELECT set_config('plan_cache_mode', 'force_generic_plan', true)"
    )
    /// What `SignOffCandidate` reads, from the task `t` (the program `p`, system `s` and assignee `a` joined).
    private static let candidateColumns = """
        SELECT t.id, p.slug AS program, t.step_key, t.template_key, s.slug AS system, t.instance, t.title, t.owner_role, t.state,
               a.handle AS assignee, to_char(t.due_on, 'YYYY-MM-DD') AS due_on,
               CASE WHEN t.due_on < current_date THEN current_date - t.due_on END AS overdue_days,
               t.program_id, t.assignee_id, t.submitted_by
        """
    /// Tasks in review of the given programs and templates (those whose policy names a role the person
    /// holds there), most late first, a batch at a time: the inbox costs what it shows, not what exists.
    /// Read program by program (each through its (program, state) index, at most one batch each), so the
    /// cost follows the signer's own programs, never the tasks in review of everyone else's.
    static let candidates = PostgresQuery<PostgresArray<Int64>, PostgresArray<String>, Int, Int, SignOffCandidate>(
        "inbox_candidates",
        """
        \(candidateColumns)
        FROM unnest($1::bigint[]) AS mine(program_id)
        CROSS JOIN LATERAL (
            SELECT * FROM accord.task t
            WHERE t.program_id = mine.program_id AND t.state = 'in_review' AND t.template_key = ANY($2::text[])
            ORDER BY t.due_on NULLS LAST, t.id
            LIMIT $3 + $4
        ) t
        JOIN accord.program p ON p.id = t.program_id
        LEFT JOIN accord.ai_system s ON s.id = t.system_id
        LEFT JOIN accord.person a ON a.id = t.assignee_id
        ORDER BY t.due_on NULLS LAST, t.id
        LIMIT $3 OFFSET $4
        """,
        row: SignOffCandidate.init(row:)
    )
    /// `candidates` for one task: it, when it is in review in one of the programs with one of the templates.
    static let candidate = PostgresQuery<PostgresArray<Int64>, PostgresArray<String>, Int64, SignOffCandidate>(
        "inbox_candidate",
        """
        \(candidateColumns)
        FROM accord.task t
        JOIN accord.program p ON p.id = t.program_id
        LEFT JOIN accord.ai_system s ON s.id = t.system_id
        LEFT JOIN accord.person a ON a.id = t.assignee_id
        WHERE t.id = $3 AND t.program_id = ANY($1::bigint[]) AND t.state = 'in_review' AND t.template_key = ANY($2::text[])
        """,
        row: SignOffCandidate.init(row:)
    )
    /// The current round's signatures of the given tasks.
    static let roundSignatures = PostgresQuery<PostgresArray<Int64>, InboxRoundSignature>(
        "inbox_round_signatures",
        """
        SELECT s.task_id, s.role, s.signer_id, s.decision
        FROM unnest($1::bigint[]) AS wanted(id)
        JOIN accord.task t ON t.id = wanted.id
        JOIN accord.signature s ON s.task_id = t.id AND s.review_round = t.review_round AND s.evidence_version = t.evidence_version
        ORDER BY s.id
        """
    ) {
        let approved = try $0.decode(SigningDecision.self, "decision") == .approve
        return InboxRoundSignature(
            taskID: try $0.decode(Int64.self, "task_id"),
            signerID: try $0.decode(Int64.self, "signer_id"),
            approvedRole: approved ? try $0.decode(String.self, "role") : nil
        )
    }
    static let notices = PostgresQuery<Int64, Notice>(
        "inbox_notices",
        """
        SELECT n.id, n.kind, n.message, n.created_at, t.id AS task_id, accord.task_ref(p.slug, t.template_key, s.slug, t.instance) AS ref
        FROM accord.notification n
        LEFT JOIN accord.task t ON t.id = n.task_id LEFT JOIN accord.program p ON p.id = t.program_id LEFT JOIN accord.ai_system s ON s.id = t.system_id
        WHERE n.person_id = $1 AND n.dismissed_at IS NULL
          AND (t.id IS NULL OR \(TaskState.outstandingSQL("t.state")))
        ORDER BY n.created_at DESC, n.id DESC LIMIT 100
        """,
        row: Notice.init(row:)
    )
    /// A program's id by its slug.
    static let programID = PostgresQuery<String, Int64>("inbox_program_id", "SELECT id FROM accord.program WHERE slug = $1") {
        try $0.decode(Int64.self, "id")
    }

    static let catalogue: [any PostgresCheckable] = [
        authority, authorityIn, genericPlans, candidates, candidate, roundSignatures, notices, programID,
    ]
}

extension InboxAuthority {
    init(row: PostgresRow) throws {
        self.init(
            programID: try row.decode(Int64.self, "program_id"),
            role: try row.decode(String.self, "role"),
            workflowID: try row.decode(String.self, "workflow_id"),
            workflowVersion: try row.decode(Int.self, "workflow_version"),
            checksum: try row.decode(String.self, "checksum")
        )
    }
}

extension SignOffCandidate {
    init(row: PostgresRow) throws {
        self.init(
            task: try TaskSummary(row: row),
            programID: try row.decode(Int64.self, "program_id"),
            assigneeID: try row.decode(Int64?.self, "assignee_id"),
            submittedBy: try row.decode(Int64?.self, "submitted_by")
        )
    }
}

extension Notice {
    init(row: PostgresRow) throws {
        self.init(
            id: try row.decode(Int64.self, "id"),
            kind: try row.decode(String.self, "kind"),
            message: try row.decode(String.self, "message"),
            task: try row.decode(String?.self, "ref"),
            taskID: try row.decode(Int64?.self, "task_id"),
            at: try row.decode(Date.self, "created_at")
        )
    }
}

/// Overdue first (most late first), then by due date, undated last.
func inboxOrder(_ a: TaskSummary, _ b: TaskSummary) -> Bool {
    switch (a.overdueDays, b.overdueDays) {
    case let (x?, y?): return x > y
    case (.some, nil): return true
    case (nil, .some): return false
    default: return (a.dueOn ?? "9999") < (b.dueOn ?? "9999")
    }
}

extension Store {
    /// A person's inbox: on one connection, the person resolved once, and their own work, their notices
    /// and the roles they hold read in one round trip before the sign-offs are evaluated.
    public func inbox(actor: String?) async throws -> Inbox {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let states = PostgresArray([TaskState.open, .inProgress, .blocked].map(\.rawValue))
            // `mine` keeps PostgreSQL's choice of plan (its generic one is poor for people with many tasks).
            let (tasks, _, notices, authority) = try await connection.pipeline(
                (acting.isAdmin ? TaskSQL.mineAsAdministrator : TaskSQL.mine).bind(acting.id, states),
                InboxSQL.genericPlans.bind(),
                InboxSQL.notices.bind(acting.id),
                InboxSQL.authority.bind(acting.id)
            )
            let waiting = try await Self.signOffsWaiting(for: acting, limit: Inbox.signOffLimit, authority: authority, on: connection)
            return Inbox(tasks: tasks.sorted(by: inboxOrder), signOffs: waiting.tasks, signOffsMore: waiting.more, notices: notices)
        }
    }

    /// The person's notices about tasks still outstanding, newest first.
    public func notices(actor: String?) async throws -> [Notice] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            return try await connection.query(InboxSQL.notices, acting.id)
        }
    }

    /// The tasks in review that the person may sign now, overdue first (all of them).
    public func signOffsWaiting(actor: String?) async throws -> [TaskSummary] {
        try await pool.withConnection { connection in
            try await Self.signOffsWaiting(for: try await Self.requireActor(actor, on: connection), on: connection).tasks
        }
    }

    /// The tasks in review of one program that the person may sign now (none when there is no such program).
    func signOffsWaiting(actor handle: String, program slug: String) async throws -> [TaskSummary] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(handle, on: connection)
            guard let id = try await connection.queryFirst(InboxSQL.programID, slug) else { return [] }
            return try await Self.signOffsWaiting(for: acting, program: id, on: connection).tasks
        }
    }

    /// Whether the person may sign this task now (it is in review, a slot is theirs, no rule refuses them).
    public func canSignNow(_ ref: String, actor: String?) async throws -> Bool {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let id = try await Self.resolveTask(ref, for: acting, on: connection)
            return try await !Self.signOffsWaiting(for: acting, task: id, limit: 1, on: connection).tasks.isEmpty
        }
    }

    /// The roles a person holds and is delegated now, in one program or in all of theirs.
    static func authority(of person: Int64, in program: Int64?, on connection: PostgresConnection) async throws -> [InboxAuthority] {
        guard let program else { return try await connection.query(InboxSQL.authority, person) }
        return try await connection.query(InboxSQL.authorityIn, person, program)
    }

    /// The one evaluation behind the inbox, the leadership report, the accountability report and the
    /// task page: the tasks in review (of one program, or just `task`) the person may sign now, most late
    /// first, at most `limit` of them and whether there are more.
    ///
    /// The roles the person holds (and is delegated) pick, per program, the templates whose policy names
    /// one of them; only those tasks are read, in batches, most late first, with their current round's
    /// signatures; each policy is evaluated in memory (quorum, order, separation of duties, signed already)
    /// until `limit` pass. So an inbox costs about what it shows, however many tasks the programs hold.
    static func signOffsWaiting(
        for acting: Person,
        task only: Int64? = nil,
        program: Int64? = nil,
        limit: Int? = nil,
        authority rows: [InboxAuthority]? = nil,
        on connection: PostgresConnection
    ) async throws -> (tasks: [TaskSummary], more: Bool) {
        var authority: [Int64: Set<String>] = [:]
        var workflowOf: [Int64: String] = [:]
        var workflows: [String: Workflow] = [:]
        let authorityRows: [InboxAuthority]
        if let rows { authorityRows = rows } else { authorityRows = try await Self.authority(of: acting.id, in: program, on: connection) }
        for row in authorityRows {
            authority[row.programID, default: []].insert(row.role)
            let key = "\(row.workflowID)@\(row.workflowVersion)"
            workflowOf[row.programID] = key
            if workflows[key] == nil {
                workflows[key] = try await workflow(row.workflowID, version: row.workflowVersion, checksum: row.checksum, on: connection)
            }
        }
        // The templates whose approval names a role held in some program; the programs where one does.
        var programs: [Int64] = []
        var templates: Set<String> = []
        var signable: [String: [String: Set<String>]] = [:]  // workflow → role → templates it signs
        for (key, workflow) in workflows {
            var byRole: [String: Set<String>] = [:]
            for (_, template) in workflow.tasks {
                for signer in template.approval?.signers ?? [] { byRole[signer.role, default: []].insert(template.key) }
            }
            signable[key] = byRole
        }
        for (programID, roles) in authority {
            guard let key = workflowOf[programID], let byRole = signable[key] else { continue }
            let keys = roles.reduce(into: Set<String>()) { $0.formUnion(byRole[$1] ?? []) }
            if !keys.isEmpty {
                programs.append(programID)
                templates.formUnion(keys)
            }
        }
        guard !programs.isEmpty else { return ([], false) }
        let programList = PostgresArray(programs)
        let templateList = PostgresArray(templates.sorted())
        let batch = limit.map { max($0 + 1, 100) } ?? 5_000
        var waiting: [TaskSummary] = []
        var offset = 0
        while true {
            let rows: [SignOffCandidate]
            if let only {
                rows = offset == 0 ? try await connection.query(InboxSQL.candidate, programList, templateList, only) : []
            } else {
                rows = try await connection.query(InboxSQL.candidates, programList, templateList, batch, offset)
            }
            if rows.isEmpty { break }
            var approvals: [Int64: [CountedApproval]] = [:]
            var signed: Set<Int64> = []
            for signature in try await connection.query(InboxSQL.roundSignatures, PostgresArray(rows.map(\.task.id))) {
                if signature.signerID == acting.id { signed.insert(signature.taskID) }
                if let role = signature.approvedRole {
                    approvals[signature.taskID, default: []].append(CountedApproval(role: role, signerID: signature.signerID))
                }
            }
            for row in rows {
                let task = row.task
                let programID = row.programID
                guard !signed.contains(task.id), let roles = authority[programID], let key = workflowOf[programID],
                    let policy = workflows[key]?.task(task.key)?.approval, policy.signers.contains(where: { roles.contains($0.role) })
                else { continue }
                let slot = ApprovalEvaluation(policy: policy, approvals: approvals[task.id] ?? []).slot(
                    signerID: acting.id,
                    signerName: acting.handle,
                    canSignFor: roles,
                    assigneeID: row.assigneeID,
                    submitterID: row.submittedBy
                )
                guard case .success = slot else { continue }
                if let limit, waiting.count == limit { return (waiting, true) }
                waiting.append(task)
            }
            if rows.count < batch { break }
            offset += batch
        }
        return (waiting, false)
    }
}
