import AccordCore
import AccordPack
import AccordReports
import AccordStore
import AccordTestSupport
import Foundation
import Postgres
import Testing

/// Item 5 of the security review: the application logs in as its own role, which cannot leave it.
@Suite("The application's own database role")
struct OwnLoginRoleTests {
    @Test("item 5: connected as accord_app, RESET ROLE stays accord_app and neither triggers nor history nor workflow versions can be changed")
    func applicationCannotLeaveItsRole() async throws {
        try await TestDatabase.with { db in
            try await seededForSigning(db.store)
            let app = try Conninfo.replacing("user", in: db.conninfo, with: Store.applicationRole)
            let store = try await Store.open(
                .url(app),
                owner: .url(db.conninfo),
                migrate: true,
                maxConnections: 2,
                environment: ["ACCORD_AUDIT_KEY": String(repeating: "ab", count: 32)]
            )
            #expect(store.roleMode == .ownLogin)
            #expect(try await store.currentRole() == Store.applicationRole)
            try await store.pool.withConnection { connection in
                try await connection.execute("RESET ROLE")
                #expect(
                    try await connection.query("SELECT current_user AS u, session_user AS s")[0].decode(String.self, "u") == Store.applicationRole
                )
                let memberships = try await connection.query(
                    "SELECT count(*)::int AS n FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1",
                    [Store.applicationRole]
                )
                #expect(try memberships[0].decode(Int.self, "n") == 0, "accord_app is a member of no role")
                for (sql, state) in [
                    ("SET ROLE accord", "42501"),
                    ("ALTER TABLE accord.audit_entry DISABLE TRIGGER ALL", "42501"),
                    ("SET session_replication_role = replica", "42501"),
                    ("UPDATE accord.audit_entry SET actor = 'mallory'", "42501"),
                    ("UPDATE accord.workflow_version SET title = 'edited'", "42501"),
                    ("DELETE FROM accord.workflow_version", "42501"),
                ] {
                    do {
                        try await connection.execute(sql)
                        Issue.record("the application role could run: \(sql)")
                    } catch let error as PostgresError {
                        #expect(error.sqlState == state, "\(sql): \(error.sqlState ?? "?") \(error.message)")
                    }
                }
            }
            // The engine still works as that role.
            #expect(try await store.people().count > 1)
            try await store.close()
        }
    }

    @Test("item 6: workflow versions are append-only even for their owner (the trigger refuses UPDATE and DELETE)")
    func workflowVersionsAppendOnly() async throws {
        try await TestDatabase.with { db in
            try await seededForSigning(db.store)
            try await db.pool.withConnection { connection in
                for sql in [
                    "UPDATE accord.workflow_version SET title = 'edited'", "DELETE FROM accord.workflow_version WHERE workflow_id = 'sign-test'",
                ] {
                    do {
                        try await connection.execute(sql)
                        Issue.record("a workflow version was changed: \(sql)")
                    } catch let error as PostgresError {
                        #expect(error.sqlState == "AC001", "\(sql): \(error.message)")
                    }
                }
            }
        }
    }

    @Test("item 6: a task set to done by SQL, without the signatures its policy demands, is reported by audit verify and verify-pack")
    func doneBySQLIsReported() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededForSigning(store)
            _ = try await store.submitTask("sig/pair", actor: "otto")
            _ = try await store.approve("sig/pair", as: "b1")
            #expect(try await store.approve("sig/pair", as: "b2").taskState == .done)
            _ = try await store.submitTask("sig/single", actor: "otto")
            #expect(try await store.verifyAudit(program: "sig", actor: "ada").ok)
            try await db.pool.withConnection { connection in
                _ = try await connection.execute(
                    """
                    UPDATE accord.task SET state = 'done', completed_at = now()
                    WHERE template_key = 'single' AND program_id = (SELECT id FROM accord.program WHERE slug = 'sig')
                    """
                )
            }
            let verification = try await store.verifyAudit(program: "sig", actor: "ada")
            #expect(
                verification.problems == [
                    "task sig/single is done, but its audit chain does not record it reaching done by an approval: its state was set outside Accord"
                ],
                "\(verification.problems)"
            )
            // A done task sent back to review by new evidence, set to done again by SQL at its old version:
            // its quorum is met there, but its chain's last transition is not an approval.
            _ = try await store.addEvidence(to: "sig/pair", fileName: "late.txt", bytes: Array("late".utf8), title: nil, actor: "otto")
            try await db.pool.withConnection { connection in
                _ = try await connection.execute(
                    """
                    UPDATE accord.task SET state = 'done', completed_at = now(), evidence_version = evidence_version - 1
                    WHERE template_key = 'pair' AND program_id = (SELECT id FROM accord.program WHERE slug = 'sig')
                    """
                )
            }
            let again = try await store.verifyAudit(program: "sig", actor: "ada")
            #expect(
                again.problems.contains {
                    $0.hasPrefix("task sig/pair is done, but its audit chain does not record it reaching done by an approval")
                },
                "\(again.problems)"
            )
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("accord-done-\(UUID().uuidString).zip").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            _ = try await store.exportPack(program: "sig", to: path, actor: "ada")
            let offline = verifyPack(path: path, key: testAuditKey)
            #expect(offline.problems.contains { $0.hasPrefix("task sig/single is done, but its signatures do not meet") }, "\(offline.problems)")
            #expect(offline.problems.contains { $0.contains("sig/single") })
        }
    }
}
