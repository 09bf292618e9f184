import AccordCore
import AccordStore
import AccordTestSupport
import Foundation
import Postgres
import Testing

/// A program with some history and two signatures, ready to be tampered with.
func tamperable(_ db: TestDatabase) async throws -> Store {
    let store = db.store
    try await seededForSigning(store)
    _ = try await store.addEvidence(to: "sig/pair", fileName: "memo.txt", bytes: Array("evidence".utf8), title: nil, actor: "otto")
    _ = try await store.submitTask("sig/pair", actor: "otto")
    _ = try await store.approve("sig/pair", as: "b1")
    _ = try await store.approve("sig/pair", as: "b2")
    _ = try await store.submitTask("sig/single", actor: "otto")
    let clean = try await store.verifyAudit(program: "sig", actor: "ada")
    #expect(clean.ok, "\(clean.problems)")
    #expect(clean.signatures == 2)
    return store
}

/// Recomputes every hash of a chain from its (edited) content, as an attacker who read the source would.
let recomputeChain = """
    DO $$
    DECLARE r record; prev bytea := NULL; h bytea;
    BEGIN
      FOR r IN SELECT * FROM accord.audit_entry WHERE chain = 'program:sig' ORDER BY seq LOOP
        h := sha256(coalesce(prev, ''::bytea) || accord.audit_canonical(r.chain, r.seq, r.recorded_at, r.actor, r.action, r.object_type, r.object_id, r.before, r.after, r.reason));
        UPDATE accord.audit_entry SET prev_hash = prev, hash = h WHERE chain = r.chain AND seq = r.seq;
        prev := h;
      END LOOP;
      UPDATE accord.audit_chain SET head_hash = prev, length = (SELECT max(seq) FROM accord.audit_entry WHERE chain = 'program:sig') WHERE chain = 'program:sig';
    END $$;
    """

@Suite("Tampering as a database superuser is detected")
struct TamperTests {
    func problems(after sql: String, checkpoint: Bool = false) async throws -> [String] {
        try await TestDatabase.with { db in
            let store = try await tamperable(db)
            let checkpoints = checkpoint ? try await store.checkpoints(program: "sig", actor: "ada") : []
            let server = try await TestServer.shared()
            try await server.asSuperuser(database: db.name, sql)
            let withoutCheckpoint = try await store.verifyAudit(program: "sig", actor: "ada").problems
            let withCheckpoint = try await store.verifyAudit(program: "sig", checkpoints: checkpoints, actor: "ada").problems
            return checkpoint ? withCheckpoint : withoutCheckpoint + (withCheckpoint == withoutCheckpoint ? [] : ["checkpoint changed the verdict"])
        }
    }

    @Test("an edited entry is named")
    func editEntry() async throws {
        let found = try await problems(after: "UPDATE accord.audit_entry SET reason = 'nothing to see' WHERE chain = 'program:sig' AND seq = 3")
        #expect(found == ["program:sig: entry 3 (role.bind by ada) was altered: its content does not match its hash"])
    }

    @Test("an entry deleted from the middle is noticed")
    func deleteEntry() async throws {
        let found = try await problems(after: "DELETE FROM accord.audit_entry WHERE chain = 'program:sig' AND seq = 4")
        #expect(found == ["program:sig: entry 5 stands at position 4: an entry is missing or was inserted"])
    }

    @Test("an entry inserted in the middle is noticed")
    func insertEntry() async throws {
        let found = try await problems(
            after: """
                UPDATE accord.audit_entry SET seq = seq + 1000 WHERE chain = 'program:sig' AND seq >= 4;
                UPDATE accord.audit_entry SET seq = seq - 999 WHERE chain = 'program:sig' AND seq >= 1004;
                INSERT INTO accord.audit_entry (chain, seq, actor, action, prev_hash, hash)
                  SELECT 'program:sig', 4, 'mallory', 'role.bind', hash, sha256('forged'::bytea) FROM accord.audit_entry WHERE chain = 'program:sig' AND seq = 3;
                """
        )
        #expect(found.first == "program:sig: entry 4 (role.bind by mallory) was altered: its content does not match its hash")
    }

    @Test("two swapped entries are noticed")
    func swapEntries() async throws {
        let found = try await problems(
            after: """
                UPDATE accord.audit_entry SET seq = 100000 WHERE chain = 'program:sig' AND seq = 3;
                UPDATE accord.audit_entry SET seq = 3 WHERE chain = 'program:sig' AND seq = 4;
                UPDATE accord.audit_entry SET seq = 4 WHERE chain = 'program:sig' AND seq = 100000;
                """
        )
        #expect(found.first?.hasPrefix("program:sig: entry 3") == true)
    }

    @Test("a cut tail passes the chain alone, and is caught with a checkpoint")
    func cutTail() async throws {
        let cut = """
            DELETE FROM accord.audit_entry WHERE chain = 'program:sig' AND seq > (SELECT max(seq) - 2 FROM accord.audit_entry WHERE chain = 'program:sig');
            UPDATE accord.audit_chain c SET length = e.seq, head_hash = e.hash FROM accord.audit_entry e
              WHERE c.chain = 'program:sig' AND e.chain = c.chain AND e.seq = (SELECT max(seq) FROM accord.audit_entry WHERE chain = 'program:sig');
            """
        let found = try await problems(after: cut, checkpoint: true)
        #expect(found.contains { $0.contains("the chain was cut") } || found.contains { $0.contains("is missing") }, "\(found)")
    }

    @Test("a wholesale recomputed chain passes the chain alone, and is caught with a checkpoint")
    func recomputedChain() async throws {
        let rewrite = "UPDATE accord.audit_entry SET actor = 'mallory' WHERE chain = 'program:sig' AND seq = 2;\n" + recomputeChain
        let alone = try await TestDatabase.with { db in
            let store = try await tamperable(db)
            try await TestServer.shared().asSuperuser(database: db.name, rewrite)
            return try await store.verifyAudit(program: "sig", actor: "ada").problems
        }
        #expect(alone.isEmpty, "without a checkpoint a full rewrite is consistent: \(alone)")
        let found = try await problems(after: rewrite, checkpoint: true)
        #expect(found.contains { $0.contains("differs from the checkpoint") && $0.contains("rewritten") }, "\(found)")
    }

    @Test("a signature copied onto another task is caught: its MAC no longer matches and no entry records it")
    func copiedSignature() async throws {
        let found = try await problems(
            after: """
                INSERT INTO accord.signature (task_id, review_round, evidence_version, signer_id, printed_name, signed_at, decision, meaning, comment,
                                              role, on_behalf_of, delegation_id, auth_method, subject_sha256, key_id, mac)
                SELECT (SELECT id FROM accord.task WHERE template_key = 'single'), 1, 0, signer_id, printed_name, signed_at, decision, meaning, comment,
                       role, on_behalf_of, delegation_id, auth_method, subject_sha256, key_id, mac
                FROM accord.signature ORDER BY id LIMIT 1;
                """
        )
        #expect(found.contains { $0.contains("on sig/single by b1 does not match its MAC") }, "\(found)")
        #expect(found.contains { $0.contains("on sig/single has no audit entry") }, "\(found)")
    }

    @Test("an altered evidence file is caught, and so is the signature over it")
    func alteredEvidence() async throws {
        let found = try await problems(after: "UPDATE accord.evidence SET content = 'EVIDENCE'::bytea")
        #expect(found.contains { $0.contains("('memo.txt' version 1) does not match its SHA-256") }, "\(found)")
        let rehashed = try await problems(after: "UPDATE accord.evidence SET content = 'EVIDENCE'::bytea, sha256 = sha256('EVIDENCE'::bytea)")
        #expect(rehashed.contains { $0.contains("no longer matches the evidence it signed") }, "\(rehashed)")
    }

    @Test("a forged checkpoint is refused")
    func forgedCheckpoint() async throws {
        try await TestDatabase.with { db in
            let store = try await tamperable(db)
            var checkpoint = try #require(try await store.checkpoints(program: "sig", actor: "ada").first)
            checkpoint.position -= 1
            let result = try await store.verifyAudit(program: "sig", checkpoints: [checkpoint], actor: "ada")
            #expect(result.problems.first?.contains("checkpoint's MAC does not match") == true)
        }
    }
}

@Suite("The application role")
struct ApplicationRoleTests {
    @Test("accord_app cannot UPDATE, DELETE or TRUNCATE the audit log, signatures or evidence, nor write entries directly")
    func appRoleIsLimited() async throws {
        try await TestDatabase.with { db in
            _ = try await tamperable(db)
            try await db.pool.withConnection { c in
                try await c.execute("SET ROLE accord_app")
                for statement in [
                    "UPDATE accord.audit_entry SET actor = 'x'", "DELETE FROM accord.audit_entry", "TRUNCATE accord.audit_entry",
                    "INSERT INTO accord.audit_entry (chain, seq, actor, action, hash) VALUES ('org', 999, 'x', 'x', sha256(''::bytea))",
                    "UPDATE accord.audit_chain SET length = 0", "UPDATE accord.signature SET comment = 'x'", "DELETE FROM accord.signature",
                    "UPDATE accord.evidence SET title = 'x'", "DELETE FROM accord.evidence", "TRUNCATE accord.signature",
                ] {
                    let error = await #expect(throws: PostgresError.self, "\(statement)") { try await c.execute(statement) }
                    #expect(error?.sqlState == "42501", "\(statement): \(error?.description ?? "")")
                }
                // What it needs still works: reading, and appending through the function.
                _ = try await c.query("SELECT count(*) FROM accord.audit_entry")
                try await c.execute("SELECT accord.append_audit('org', 'system', 'test.append', NULL, NULL, NULL, NULL, NULL)")
                try await c.execute("RESET ROLE")
            }
            #expect(try await db.store.verifyChain("org").problem == nil)
        }
    }
}
