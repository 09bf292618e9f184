import AccordCore
import Foundation
import Testing

@Suite("Approval policies and signing, without a database")
struct SigningLogicTests {
    let board2 = ApprovalPolicy(signers: [.init(role: "board", quorum: 2)])
    let sequential = ApprovalPolicy(signers: [.init(role: "legal"), .init(role: "board")], order: .sequential)

    func slot(
        _ policy: ApprovalPolicy,
        _ approvals: [CountedApproval] = [],
        signer: Int64 = 9,
        roles: Set<String>,
        assignee: Int64? = 1,
        submitter: Int64? = 2
    ) -> Result<String, SigningRefusal> {
        ApprovalEvaluation(policy: policy, approvals: approvals).slot(
            signerID: signer,
            signerName: "p\(signer)",
            canSignFor: roles,
            assigneeID: assignee,
            submitterID: submitter
        )
    }

    @Test("each separation-of-duties rule refuses with its own message")
    func separationOfDuties() {
        #expect(
            slot(board2, signer: 1, roles: ["board"])
                == .failure(
                    SigningRefusal(rule: .separationOfDuties, "separation of duties: p1 is the task's assignee and may not approve their own work")
                )
        )
        #expect(
            slot(board2, signer: 2, roles: ["board"])
                == .failure(SigningRefusal(rule: .separationOfDuties, "separation of duties: p2 submitted the task and may not approve it"))
        )
        #expect(
            slot(board2, [CountedApproval(role: "board", signerID: 9)], roles: ["board"])
                == .failure(SigningRefusal(rule: .oneSlotPerPerson, "one person fills one slot: p9 has already signed this version"))
        )
        let relaxed = ApprovalPolicy(signers: [.init(role: "board")], separationOfDuties: false)
        #expect(slot(relaxed, signer: 1, roles: ["board"]) == .success("board"))
    }

    @Test("quorum counts distinct signers per role; a full role has no slot left")
    func quorum() {
        let one = [CountedApproval(role: "board", signerID: 5)]
        #expect(slot(board2, one, roles: ["board"]) == .success("board"))
        #expect(ApprovalEvaluation(policy: board2, approvals: one).isMet == false)
        let two = one + [CountedApproval(role: "board", signerID: 6)]
        #expect(ApprovalEvaluation(policy: board2, approvals: two).isMet)
        #expect(slot(board2, two, roles: ["board"]).failureRule == .quorumFilled)
        #expect(slot(board2, roles: ["legal"]).failureRule == .notASigner)
    }

    @Test("sequential order, and a signer with two roles fills the first open one")
    func order() {
        #expect(
            slot(sequential, roles: ["board"])
                == .failure(SigningRefusal(rule: .sequentialOrder, "sequential sign-off: legal must sign before board"))
        )
        #expect(slot(sequential, roles: ["legal", "board"]) == .success("legal"))
        #expect(slot(sequential, [CountedApproval(role: "legal", signerID: 4)], roles: ["board"]) == .success("board"))
        let parallel = ApprovalPolicy(signers: [.init(role: "legal"), .init(role: "board")])
        #expect(slot(parallel, roles: ["board"]) == .success("board"))
    }

    @Test("the subject hash covers the task and every evidence hash, in any order")
    func subject() {
        let a = EvidenceDigest(title: "memo", version: 2, sha256: String(repeating: "a", count: 64))
        let b = EvidenceDigest(title: "log", version: 1, sha256: String(repeating: "b", count: 64))
        let subject = SignedSubject(taskID: 7, taskRef: "p/t", evidenceVersion: 3, evidence: [a, b])
        #expect(subject.sha256 == SignedSubject(taskID: 7, taskRef: "p/t", evidenceVersion: 3, evidence: [b, a]).sha256)
        var changed = a
        changed.sha256 = String(repeating: "c", count: 64)
        #expect(subject.sha256 != SignedSubject(taskID: 7, taskRef: "p/t", evidenceVersion: 3, evidence: [changed, b]).sha256)
        #expect(subject.sha256 != SignedSubject(taskID: 8, taskRef: "p/t", evidenceVersion: 3, evidence: [a, b]).sha256)
    }

    @Test("signature MACs and checkpoints need the key")
    func keyedMACs() throws {
        let key = AuditKey(bytes: Array(repeating: 1, count: 32))
        let other = AuditKey(bytes: Array(repeating: 2, count: 32))
        let content = SignatureContent(
            taskID: 1,
            taskRef: "p/t",
            reviewRound: 1,
            evidenceVersion: 0,
            signer: "grace",
            printedName: "Grace Hopper",
            signedAtMicros: 1,
            decision: "approve",
            meaning: "approval",
            comment: nil,
            role: "board",
            onBehalfOf: nil,
            authMethod: "password",
            subjectSHA256: Array(repeating: 0, count: 32)
        )
        let mac = key.mac(content.canonicalBytes)
        #expect(key.verify(mac, for: content.canonicalBytes))
        #expect(!other.verify(mac, for: content.canonicalBytes))
        var moved = content
        moved.taskID = 2
        #expect(!key.verify(mac, for: moved.canonicalBytes))
        let checkpoint = Checkpoint(
            chain: "program:p",
            position: 10,
            headSHA256: "ab",
            at: Date(timeIntervalSince1970: 1_800_000_000.123456),
            key: key
        )
        let decoded = try JSONDecoder().decode(Checkpoint.self, from: try JSONEncoder().encode(checkpoint))
        #expect(decoded.isAuthentic(under: key))
        #expect(!decoded.isAuthentic(under: other))
        var forged = decoded
        forged.position = 9
        #expect(!forged.isAuthentic(under: key))
    }
}

extension Result where Failure == SigningRefusal {
    var failureRule: SigningRefusal.Rule? {
        if case .failure(let refusal) = self { return refusal.rule }
        return nil
    }
}
