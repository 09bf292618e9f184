import AccordCore
import Foundation
import Postgres

enum LeaverSQL {
    /// Ends the delegations in force from or to a person ($1), by $2.
    static let endDelegations = PostgresQuery<Int64, Int64, (id: Int64, programID: Int64, role: String, fromID: Int64, toID: Int64)>(
        "leaver_end_delegations",
        """
        UPDATE accord.delegation SET revoked_at = now(), revoked_by = $2
        WHERE (from_id = $1 OR to_id = $1) AND revoked_at IS NULL AND valid_until >= current_date
        RETURNING id, program_id, role, from_id, to_id
        """
    ) {
        (
            try $0.decode(Int64.self, "id"), try $0.decode(Int64.self, "program_id"), try $0.decode(String.self, "role"),
            try $0.decode(Int64.self, "from_id"), try $0.decode(Int64.self, "to_id")
        )
    }
    /// Per program: the person's ($1) open tasks and the roles they held.
    static let standing = PostgresQuery<Int64, (programID: Int64, openTasks: Int, roles: String)>(
        "leaver_standing",
        """
        SELECT p.id AS program_id,
               (SELECT count(*)::int FROM accord.task t WHERE t.program_id = p.id AND t.assignee_id = $1
                  AND t.state NOT IN ('done', 'not_applicable', 'retired')) AS open_tasks,
               coalesce((SELECT string_agg(b.role, ', ' ORDER BY b.role) FROM accord.role_binding b
                         WHERE b.program_id = p.id AND b.person_id = $1), '') AS roles
        FROM accord.program p
        WHERE EXISTS (SELECT 1 FROM accord.role_binding b WHERE b.program_id = p.id AND b.person_id = $1)
           OR EXISTS (SELECT 1 FROM accord.task t WHERE t.program_id = p.id AND t.assignee_id = $1
                        AND t.state NOT IN ('done', 'not_applicable', 'retired'))
        ORDER BY p.slug
        """
    ) { (try $0.decode(Int64.self, "program_id"), try $0.decode(Int.self, "open_tasks"), try $0.decode(String.self, "roles")) }

    static let catalogue: [any PostgresCheckable] = [endDelegations, standing]
}

extension Store {
    /// What a leaver leaves behind, in the transaction that disables them: the delegations from or to
    /// them end (audited, the other party told), and each program's managers are told which open tasks
    /// to reassign and which roles they held, so no sign-off waits on someone who is gone.
    static func settleLeaver(_ leaver: Person, by acting: Person, on connection: PostgresConnection) async throws {
        for ended in try await connection.query(LeaverSQL.endDelegations, leaver.id, acting.id) {
            let program = try await Self.programRow(ended.programID, on: connection)
            try await connection.appendAudit(
                AuditRecord(
                    chain: programChain(program.slug),
                    actor: acting.handle,
                    action: "delegation.revoke",
                    objectType: "delegation",
                    objectID: String(ended.id),
                    after: auditJSON(["role": ended.role]),
                    reason: "\(leaver.handle) left (disabled)"
                )
            )
            if ended.fromID == leaver.id {
                try await mailDelegation(
                    role: ended.role,
                    holder: leaver,
                    deputyID: ended.toID,
                    from: "",
                    until: "",
                    ended: true,
                    by: acting,
                    program: program,
                    on: connection
                )
            }
        }
        for standing in try await connection.query(LeaverSQL.standing, leaver.id) {
            let program = try await Self.programRow(standing.programID, on: connection)
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            let managers = workflow.roles.filter(\.manager).map(\.key)
            var lines = ["\(leaver.name) (\(leaver.handle)) has left: their account is disabled, and they no longer log in or sign."]
            if standing.openTasks > 0 {
                lines.append(
                    "\(standing.openTasks) open task\(standing.openTasks == 1 ? " is" : "s are") assigned to them; assign them to someone else."
                )
            }
            if !standing.roles.isEmpty {
                lines.append("They held \(standing.roles) in \(program.slug): sign-offs needing these roles now wait on the other holders.")
            }
            let notice = MailNotice(
                kind: .assignment,
                subject:
                    "[\(program.slug)] \(leaver.name) has left: \(standing.openTasks) open task\(standing.openTasks == 1 ? "" : "s") to reassign",
                body: MailBody(lines: lines, path: "/programs/\(program.slug)", linkLabel: "The program"),
                thread: "leaver-\(leaver.id)"
            )
            try await queueMail(notice, to: try await roleRecipients(managers, program: program, except: leaver.id, on: connection), on: connection)
        }
    }
}
