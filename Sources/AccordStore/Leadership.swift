import AccordCore
import Foundation
import Postgres

/// Who is accountable for what: the view a CEO opens before a management review.
public struct LeadershipReport: Codable, Sendable, Equatable {
    /// A person holding a leadership role, with their sign-off figures.
    public struct Leader: Codable, Sendable, Equatable {
        /// Their handle.
        public var handle: String
        /// Their name.
        public var name: String
        /// The leadership roles they hold, as `program/role`.
        public var roles: [String]
        /// Sign-offs they can give now.
        public var waiting: Int
        /// Of those, the ones past their due date.
        public var overdue: Int
        /// Signatures they have given (approvals and rejections).
        public var signed: Int
        /// Median hours from submission to their signature, when they have signed.
        public var medianHoursToSign: Double?
        /// Escalations handed up to them (they were among the recipients).
        public var escalationsReceived: Int = 0
    }
    /// How many overdue tasks one owner has.
    public struct OwnerLoad: Codable, Sendable, Equatable {
        /// The assignee's handle, or "unassigned (ROLE)".
        public var owner: String
        /// Their outstanding tasks past the due date.
        public var overdue: Int
    }
    /// The leaders, by handle.
    public var leaders: [Leader]
    /// Overdue tasks per owner, most first.
    public var overdueByOwner: [OwnerLoad]
    /// Escalations of tasks still outstanding, newest first (at most 50).
    public var openEscalations: [DeadlineEvent] = []
}

/// A role binding in a program the report covers, with the program's workflow.
struct LeaderBinding {
    var slug: String
    var role: String
    var personID: Int64
    var handle: String
    var name: String
    var workflowID: String
    var workflowVersion: Int
    var checksum: String
}

enum LeadershipSQL {
    /// Escalations received per person, before the condition on the escalations (`AND …`) and `GROUP BY r.handle`.
    static let escalationsFrom = """
        SELECT r.handle, count(*) AS n FROM accord.deadline_event e JOIN accord.task t ON t.id = e.task_id
        CROSS JOIN LATERAL unnest(e.recipients) AS r(handle)
        WHERE e.kind = 'escalation'
        """
    static let memberOf = PostgresQuery<Int64, String>(
        "leadership_member_of",
        "SELECT DISTINCT p.slug FROM accord.program p JOIN accord.role_binding b ON b.program_id = p.id WHERE b.person_id = $1"
    ) { try $0.decode(String.self, "slug") }
    /// The programs a reader ($2, an administrator when $3) may see, for figures about someone else.
    static let seenBy = "($3 OR t.program_id IN (SELECT m.program_id FROM accord.role_binding m WHERE m.person_id = $2))"
    /// Escalations a leader received, in the programs the reader may see.
    static let escalationsReceivedSeen = PostgresQuery<PostgresArray<String>, Int64, Bool, (handle: String, count: Int)>(
        "leadership_escalations_received",
        "\(escalationsFrom) AND r.handle = ANY($1::text[]) AND \(seenBy) GROUP BY r.handle"
    ) { (handle: try $0.decode(String.self, "handle"), count: try $0.decode(Int.self, "n")) }
    // The programs the report covers: all for an administrator; otherwise those where the actor ($1)
    // holds a role, written so that PostgreSQL starts from the actor's role bindings (an `OR` with the
    // administrator case would make it visit every program's rows first). So each query that depends
    // on it comes twice, `…All` for an administrator and `…Member` for anyone else.
    /// Every program, for an administrator ($1, unused but passed alike).
    static let adminScope = "($1::bigint IS NOT NULL)"
    /// The programs where the actor ($1) holds a role, for a column of program ids.
    static let memberPrograms = "IN (SELECT m.program_id FROM accord.role_binding m WHERE m.person_id = $1)"
    /// Open escalations, before the scope condition.
    static let openEscalationsWhere = """
        \(DeadlineSQL.forTask)
        WHERE e.kind = 'escalation' AND \(TaskState.outstandingSQL("t.state"))
        """
    static let openEscalationsOrder = "ORDER BY e.recorded_at DESC, e.id DESC LIMIT 50"
    static let openEscalationsAll = PostgresQuery<Int64, DeadlineEvent>(
        "leadership_open_escalations_all",
        "\(openEscalationsWhere) AND \(adminScope)\n\(openEscalationsOrder)",
        row: DeadlineEvent.init(row:)
    )
    static let openEscalationsMember = PostgresQuery<Int64, DeadlineEvent>(
        "leadership_open_escalations_member",
        "\(openEscalationsWhere) AND t.program_id \(memberPrograms)\n\(openEscalationsOrder)",
        row: DeadlineEvent.init(row:)
    )
    /// Role bindings with their programs, people and workflows, before the scope condition.
    static let bindingsFrom = """
        SELECT p.id AS program_id, p.slug, b.role, pe.id AS person_id, pe.handle, pe.name, p.workflow_id, p.workflow_version, w.checksum
        FROM accord.role_binding b JOIN accord.program p ON p.id = b.program_id JOIN accord.person pe ON pe.id = b.person_id
        JOIN accord.workflow_version w ON w.workflow_id = p.workflow_id AND w.version = p.workflow_version
        """
    static let bindingsOrder = "ORDER BY pe.handle, p.slug, b.role"
    static let bindingsAll = PostgresQuery<Int64, LeaderBinding>(
        "leadership_bindings_all",
        "\(bindingsFrom)\nWHERE \(adminScope)\n\(bindingsOrder)",
        row: LeaderBinding.init(row:)
    )
    static let bindingsMember = PostgresQuery<Int64, LeaderBinding>(
        "leadership_bindings_member",
        "\(bindingsFrom)\nWHERE b.program_id \(memberPrograms)\n\(bindingsOrder)",
        row: LeaderBinding.init(row:)
    )
    /// Signatures per person with the median and 90th-percentile time since the task's latest submission
    /// before the signature; followed by `WHERE` a condition on the signatures and `signingTimesGroup`.
    static let signingTimesFrom = """
        SELECT s.signer_id, count(*) AS signed,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM s.signed_at - sub.at)) / 3600.0 AS median_hours,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM s.signed_at - sub.at)) / 3600.0 AS p90_hours
        FROM accord.signature s
        JOIN accord.task t ON t.id = s.task_id
        JOIN accord.program p ON p.id = t.program_id
        LEFT JOIN accord.ai_system sy ON sy.id = t.system_id
        LEFT JOIN LATERAL (
            SELECT max(e.recorded_at) AS at FROM accord.audit_entry e
            WHERE e.chain = 'program:' || p.slug AND e.action = 'task.submit'
              AND e.object_id = accord.task_ref(p.slug, t.template_key, sy.slug, t.instance) AND e.recorded_at <= s.signed_at
        ) sub ON true
        """
    static let signingTimesGroup = "GROUP BY s.signer_id"
    /// A leader's signing times, in the programs the reader may see.
    static let signingTimesSeen = PostgresQuery<PostgresArray<Int64>, Int64, Bool, (signerID: Int64, signed: Int, medianHours: Double?)>(
        "leadership_signing_times",
        "\(signingTimesFrom)\nWHERE s.signer_id = ANY($1::bigint[]) AND \(seenBy)\n\(signingTimesGroup)"
    ) {
        (
            signerID: try $0.decode(Int64.self, "signer_id"), signed: try $0.decode(Int.self, "signed"),
            medianHours: try $0.decode(Double?.self, "median_hours")
        )
    }
    /// Outstanding tasks past their due date per owner, before the scope condition.
    static let overdueByOwnerWhere = """
        SELECT coalesce(a.handle, 'unassigned (' || t.owner_role || ')') AS owner, count(*) AS overdue
        FROM accord.task t LEFT JOIN accord.person a ON a.id = t.assignee_id
        WHERE \(TaskState.outstandingSQL("t.state")) AND t.due_on < current_date
        """
    static let overdueByOwnerAll = PostgresQuery<Int64, LeadershipReport.OwnerLoad>(
        "leadership_overdue_by_owner_all",
        "\(overdueByOwnerWhere)\n  AND \(adminScope)\nGROUP BY 1 ORDER BY 2 DESC, 1",
        row: LeadershipReport.OwnerLoad.init(row:)
    )
    static let overdueByOwnerMember = PostgresQuery<Int64, LeadershipReport.OwnerLoad>(
        "leadership_overdue_by_owner_member",
        "\(overdueByOwnerWhere)\n  AND t.program_id \(memberPrograms)\nGROUP BY 1 ORDER BY 2 DESC, 1",
        row: LeadershipReport.OwnerLoad.init(row:)
    )

    static let catalogue: [any PostgresCheckable] = [
        memberOf, escalationsReceivedSeen, openEscalationsAll, openEscalationsMember, bindingsAll, bindingsMember, signingTimesSeen,
        overdueByOwnerAll, overdueByOwnerMember,
    ]
}

extension LeaderBinding {
    init(row: PostgresRow) throws {
        self.init(
            slug: try row.decode(String.self, "slug"),
            role: try row.decode(String.self, "role"),
            personID: try row.decode(Int64.self, "person_id"),
            handle: try row.decode(String.self, "handle"),
            name: try row.decode(String.self, "name"),
            workflowID: try row.decode(String.self, "workflow_id"),
            workflowVersion: try row.decode(Int.self, "workflow_version"),
            checksum: try row.decode(String.self, "checksum")
        )
    }
}

extension LeadershipReport.OwnerLoad {
    init(row: PostgresRow) throws {
        self.init(owner: try row.decode(String.self, "owner"), overdue: try row.decode(Int.self, "overdue"))
    }
}

extension Store {
    /// The leadership report over the programs the actor may see.
    public func leadership(actor: String?) async throws -> LeadershipReport {
        var escalations: [DeadlineEvent] = []
        // The programs the reader may see (nil: all): a leader's figures count only those.
        var seen: Set<String>?
        let (leaders, owners): ([LeadershipReport.Leader], [LeadershipReport.OwnerLoad]) = try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            var workflows: [String: Workflow] = [:]
            var leaders: [String: (id: Int64, name: String, roles: [String])] = [:]
            for binding in try await connection.query(acting.isAdmin ? LeadershipSQL.bindingsAll : LeadershipSQL.bindingsMember, acting.id) {
                let key = "\(binding.workflowID)@\(binding.workflowVersion)"
                if workflows[key] == nil {
                    workflows[key] = try await Self.workflow(
                        binding.workflowID,
                        version: binding.workflowVersion,
                        checksum: binding.checksum,
                        on: connection
                    )
                }
                guard workflows[key]?.role(binding.role)?.leadership == true else { continue }
                var entry = leaders[binding.handle] ?? (binding.personID, binding.name, [])
                entry.roles.append("\(binding.slug)/\(binding.role)")
                leaders[binding.handle] = entry
            }
            var times: [Int64: (Int, Double?)] = [:]
            let ids = PostgresArray(leaders.values.map(\.id))
            for time in try await connection.query(LeadershipSQL.signingTimesSeen, ids, acting.id, acting.isAdmin) {
                times[time.signerID] = (time.signed, time.medianHours)
            }
            let owners = try await connection.query(
                acting.isAdmin ? LeadershipSQL.overdueByOwnerAll : LeadershipSQL.overdueByOwnerMember,
                acting.id
            )
            var received: [String: Int] = [:]
            for escalation in try await connection.query(
                LeadershipSQL.escalationsReceivedSeen,
                PostgresArray(Array(leaders.keys)),
                acting.id,
                acting.isAdmin
            ) {
                received[escalation.handle] = escalation.count
            }
            escalations = try await connection.query(
                acting.isAdmin ? LeadershipSQL.openEscalationsAll : LeadershipSQL.openEscalationsMember,
                acting.id
            )
            seen = acting.isAdmin ? nil : Set(try await connection.query(LeadershipSQL.memberOf, acting.id))
            return (
                leaders.sorted { $0.key < $1.key }.map { handle, entry in
                    LeadershipReport.Leader(
                        handle: handle,
                        name: entry.name,
                        roles: entry.roles,
                        waiting: 0,
                        overdue: 0,
                        signed: times[entry.id]?.0 ?? 0,
                        medianHoursToSign: times[entry.id]?.1.map { ($0 * 10).rounded() / 10 },
                        escalationsReceived: received[handle] ?? 0
                    )
                }, owners
            )
        }
        var result: [LeadershipReport.Leader] = []
        for var leader in leaders {
            let waiting = try await signOffsWaiting(actor: leader.handle).filter { seen?.contains($0.program) ?? true }
            leader.waiting = waiting.count
            leader.overdue = waiting.filter { $0.overdueDays != nil }.count
            result.append(leader)
        }
        return LeadershipReport(leaders: result, overdueByOwner: owners, openEscalations: escalations)
    }
}
