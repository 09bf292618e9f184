import AccordCore
import Foundation
import Postgres

/// Who is accountable for what: the view a CEO opens before a management review.
public struct LeadershipReport: Codable, Sendable, Equatable {
    public struct Leader: Codable, Sendable, Equatable {
        public var handle: String
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
    public struct OwnerLoad: Codable, Sendable, Equatable {
        /// The assignee's handle, or "unassigned (ROLE)".
        public var owner: String
        public var overdue: Int
    }
    public var leaders: [Leader]
    public var overdueByOwner: [OwnerLoad]
    /// Escalations of tasks still outstanding, newest first (at most 50).
    public var openEscalations: [DeadlineEvent] = []
}

enum LeadershipSQL {
    /// Escalations received per person, over the escalations `condition` selects (a fixed SQL condition, never input).
    static func escalationsReceived(where condition: String) -> String {
        """
        SELECT r.handle, count(*) AS n FROM accord.deadline_event e JOIN accord.task t ON t.id = e.task_id
        CROSS JOIN LATERAL unnest(e.recipients) AS r(handle)
        WHERE e.kind = 'escalation' AND \(condition) GROUP BY r.handle
        """
    }
    static let escalationsReceived = escalationsReceived(where: "r.handle = ANY($1::text[])")
    static let memberOf = "SELECT DISTINCT p.slug FROM accord.program p JOIN accord.role_binding b ON b.program_id = p.id WHERE b.person_id = $1"
    /// The programs a reader ($2, an administrator when $3) may see, for figures about someone else.
    static let seenBy = "($3 OR t.program_id IN (SELECT m.program_id FROM accord.role_binding m WHERE m.person_id = $2))"
    /// Escalations a leader received, in the programs the reader may see.
    static let escalationsReceivedSeen = escalationsReceived(where: "r.handle = ANY($1::text[]) AND \(seenBy)")
    /// The programs the report covers: all for an administrator; otherwise those where the actor ($1)
    /// holds a role, written so that PostgreSQL starts from the actor's role bindings (an `OR` with the
    /// administrator case would make it visit every program's rows first).
    static func scope(admin: Bool, column: String) -> String {
        admin ? "($1::bigint IS NOT NULL)" : "\(column) IN (SELECT m.program_id FROM accord.role_binding m WHERE m.person_id = $1)"
    }
    static func openEscalations(admin: Bool) -> String {
        DeadlineSQL.forTask + """

            WHERE e.kind = 'escalation' AND \(TaskState.outstandingSQL("t.state")) AND \(scope(admin: admin, column: "t.program_id"))
            ORDER BY e.recorded_at DESC, e.id DESC LIMIT 50
            """
    }
    static func bindings(admin: Bool) -> String {
        """
        SELECT p.id AS program_id, p.slug, b.role, pe.id AS person_id, pe.handle, pe.name, p.workflow_id, p.workflow_version, w.checksum
        FROM accord.role_binding b JOIN accord.program p ON p.id = b.program_id JOIN accord.person pe ON pe.id = b.person_id
        JOIN accord.workflow_version w ON w.workflow_id = p.workflow_id AND w.version = p.workflow_version
        WHERE \(scope(admin: admin, column: "b.program_id"))
        ORDER BY pe.handle, p.slug, b.role
        """
    }
    /// Signatures per person with the median and 90th-percentile time since the task's latest submission
    /// before the signature, over the signatures `condition` selects (a fixed SQL condition, never input).
    static func signingTimes(where condition: String) -> String {
        """
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
        WHERE \(condition)
        GROUP BY s.signer_id
        """
    }
    static let signingTimes = signingTimes(where: "s.signer_id = ANY($1::bigint[])")
    /// A leader's signing times, in the programs the reader may see.
    static let signingTimesSeen = signingTimes(where: "s.signer_id = ANY($1::bigint[]) AND \(seenBy)")
    static func overdueByOwner(admin: Bool) -> String {
        """
        SELECT coalesce(a.handle, 'unassigned (' || t.owner_role || ')') AS owner, count(*) AS overdue
        FROM accord.task t LEFT JOIN accord.person a ON a.id = t.assignee_id
        WHERE \(TaskState.outstandingSQL("t.state")) AND t.due_on < current_date
          AND \(scope(admin: admin, column: "t.program_id"))
        GROUP BY 1 ORDER BY 2 DESC, 1
        """
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
            for row in try await connection.query(LeadershipSQL.bindings(admin: acting.isAdmin), [acting.id]) {
                let workflowID = try row.decode(String.self, "workflow_id")
                let version = try row.decode(Int.self, "workflow_version")
                let key = "\(workflowID)@\(version)"
                if workflows[key] == nil {
                    workflows[key] = try await Self.workflow(
                        workflowID,
                        version: version,
                        checksum: try row.decode(String.self, "checksum"),
                        on: connection
                    )
                }
                let role = try row.decode(String.self, "role")
                guard workflows[key]?.role(role)?.leadership == true else { continue }
                let handle = try row.decode(String.self, "handle")
                let personID = try row.decode(Int64.self, "person_id")
                let name = try row.decode(String.self, "name")
                let slug = try row.decode(String.self, "slug")
                var entry = leaders[handle] ?? (personID, name, [])
                entry.roles.append("\(slug)/\(role)")
                leaders[handle] = entry
            }
            var times: [Int64: (Int, Double?)] = [:]
            let ids = PostgresArray(leaders.values.map(\.id))
            for row in try await connection.query(LeadershipSQL.signingTimesSeen, [ids, acting.id, acting.isAdmin]) {
                times[try row.decode(Int64.self, "signer_id")] = (try row.decode(Int.self, "signed"), try row.decode(Double?.self, "median_hours"))
            }
            let owners = try await connection.query(LeadershipSQL.overdueByOwner(admin: acting.isAdmin), [acting.id]).map {
                LeadershipReport.OwnerLoad(owner: try $0.decode(String.self, "owner"), overdue: try $0.decode(Int.self, "overdue"))
            }
            var received: [String: Int] = [:]
            for row in try await connection.query(
                LeadershipSQL.escalationsReceivedSeen,
                [PostgresArray(Array(leaders.keys)), acting.id, acting.isAdmin]
            ) {
                received[try row.decode(String.self, "handle")] = try row.decode(Int.self, "n")
            }
            escalations = try await connection.query(LeadershipSQL.openEscalations(admin: acting.isAdmin), [acting.id]).map(DeadlineEvent.init(row:))
            seen =
                acting.isAdmin ? nil : Set(try await connection.query(LeadershipSQL.memberOf, [acting.id]).map { try $0.decode(String.self, "slug") })
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
