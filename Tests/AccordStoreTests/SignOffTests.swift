import AccordCore
import AccordStore
import AccordTestSupport
import Foundation
import NIOConcurrencyHelpers
import Postgres
import Testing

let signingWorkflow = """
    id: sign-test
    version: 1
    title: Sign-off test roadmap
    roles:
      manager: {title: Manager, manager: true}
      owner: {title: Owner}
      board: {title: Board, leadership: true}
      legal: {title: Legal}
    steps:
      - key: s
        title: Sign-offs
        tasks:
          - key: single
            title: One board member
            owner: owner
            approval: {signers: [board]}
          - key: pair
            title: Two board members
            owner: owner
            approval: {signers: [{role: board, quorum: 2}]}
          - key: ordered
            title: Legal, then the board
            owner: owner
            approval: {signers: [legal, board], order: sequential}
          - key: three
            title: Three of the board
            owner: owner
            approval: {signers: [{role: board, quorum: 3}]}
          - key: relaxed
            title: Without separation of duties
            owner: board
            approval: {signers: [board], separation_of_duties: false}
          - key: after-pair
            title: Needs the pair
            owner: owner
            depends_on: [pair]
    """

let testPassword = "a password for tests"

/// ada (admin), mia (manager), otto (owner), lee (legal), b1…b20 (board), nora (no role).
func seededForSigning(_ store: Store) async throws {
    _ = try await store.addPerson(handle: "ada", name: "Ada Admin", email: nil, admin: true, password: testPassword, actor: nil)
    var people = [("mia", "Mia Manager"), ("otto", "Otto Owner"), ("lee", "Lee Legal"), ("nora", "Nora Nobody")]
    people += (1...20).map { ("b\($0)", "Board Member \($0)") }
    for (handle, name) in people {
        _ = try await store.addPerson(handle: handle, name: name, email: nil, admin: false, password: testPassword, actor: "ada")
    }
    _ = try await store.loadWorkflow(yaml: signingWorkflow, file: "sign.yaml", actor: "ada")
    _ = try await store.startProgram(workflow: "sign-test", version: nil, title: "Signing", slug: "sig", startsOn: nil, actor: "ada")
    _ = try await store.bindRole(program: "sig", role: "manager", handles: ["mia"], actor: "ada")
    _ = try await store.bindRole(program: "sig", role: "owner", handles: ["otto"], actor: "ada")
    _ = try await store.bindRole(program: "sig", role: "legal", handles: ["lee"], actor: "ada")
    _ = try await store.bindRole(program: "sig", role: "board", handles: (1...20).map { "b\($0)" }, actor: "ada")
}

extension Store {
    func approve(_ task: String, as handle: String, password: String = testPassword) async throws -> SigningOutcome {
        try await sign(task, decision: .approve, meaning: .approval, comment: nil, password: password, actor: handle)
    }
    func reject(_ task: String, as handle: String, why: String = "not good enough") async throws -> SigningOutcome {
        try await sign(task, decision: .reject, meaning: nil, comment: why, password: testPassword, actor: handle)
    }
}

@Suite("Sign-offs and approval policies")
struct SignOffTests {
    @Test("separation of duties: the assignee and the submitter cannot sign, and one person fills one slot")
    func separationOfDuties() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededForSigning(store)
            _ = try await store.bindRole(program: "sig", role: "board", handles: ["otto"], actor: "ada")
            _ = try await store.assignTask("sig/pair", to: "otto", actor: "mia")
            _ = try await store.submitTask("sig/pair", actor: "otto")
            await expectRefusal(.forbidden, containing: "separation of duties: otto is the task's assignee") {
                _ = try await store.approve("sig/pair", as: "otto")
            }
            _ = try await store.submitTask("sig/single", actor: "otto")  // unassigned: submitting makes otto the assignee
            await expectRefusal(.forbidden, containing: "separation of duties: otto is the task's assignee") {
                _ = try await store.approve("sig/single", as: "otto")
            }
            _ = try await store.approve("sig/pair", as: "b1")
            await expectRefusal(.conflict, containing: "b1 has already signed this version of 'sig/pair' with another decision") {
                _ = try await store.reject("sig/pair", as: "b1")
            }
            // Signing the same thing twice is harmless: nothing new is recorded.
            let again = try await store.approve("sig/pair", as: "b1")
            #expect(!again.recorded)
            #expect(try await store.signatures(of: "sig/pair", actor: "ada").count == 1)
            await expectRefusal(.forbidden, containing: "holds none of the signing roles") { _ = try await store.approve("sig/pair", as: "lee") }
            // Without separation of duties, the owner may sign their own work.
            _ = try await store.submitTask("sig/relaxed", actor: "b2")
            #expect(try await store.approve("sig/relaxed", as: "b2").taskState == .done)
        }
    }

    @Test("the submitter may not approve what they submitted, even when unassigned")
    func submitter() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededForSigning(store)
            _ = try await store.bindRole(program: "sig", role: "owner", handles: ["b3"], actor: "ada")
            _ = try await store.submitTask("sig/single", actor: "b3")
            _ = try await store.assignTask("sig/single", to: "otto", actor: "mia")
            await expectRefusal(.forbidden, containing: "separation of duties: b3 submitted the task") {
                _ = try await store.approve("sig/single", as: "b3")
            }
        }
    }

    @Test("a quorum needs distinct members; the last one completes the task and unblocks its dependents")
    func quorum() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededForSigning(store)
            _ = try await store.submitTask("sig/pair", actor: "otto")
            let first = try await store.approve("sig/pair", as: "b1")
            #expect(first.taskState == .inReview)
            #expect(first.remaining == ["board": 1])
            #expect(try await store.tasks(TaskFilter(program: "sig", state: .blocked), actor: "ada").map(\.key) == ["after-pair"])
            let second = try await store.approve("sig/pair", as: "b2")
            #expect(second.taskState == .done)
            #expect(try await store.tasks(TaskFilter(program: "sig", state: .blocked), actor: "ada").isEmpty)
            await expectRefusal(.conflict, containing: "is done and cannot approve") { _ = try await store.approve("sig/pair", as: "b3") }
            let record = second.signature
            #expect(record.printedName == "Board Member 2")
            #expect(record.role == "board")
            #expect(record.authMethod == "password")
            #expect(record.subjectSHA256.count == 64)
        }
    }

    @Test("sequential order: the board signs only after legal")
    func sequential() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededForSigning(store)
            _ = try await store.submitTask("sig/ordered", actor: "otto")
            await expectRefusal(.forbidden, containing: "sequential sign-off: legal must sign before board") {
                _ = try await store.approve("sig/ordered", as: "b1")
            }
            #expect(try await store.approve("sig/ordered", as: "lee").taskState == .inReview)
            #expect(try await store.approve("sig/ordered", as: "b1").taskState == .done)
        }
    }

    @Test("a rejection sends the task back with the reason; old approvals do not count in the next round")
    func rejection() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededForSigning(store)
            _ = try await store.submitTask("sig/pair", actor: "otto")
            _ = try await store.approve("sig/pair", as: "b1")
            await expectRefusal(.invalid, containing: "needs a comment") {
                _ = try await store.sign("sig/pair", decision: .reject, meaning: nil, comment: " ", password: testPassword, actor: "b2")
            }
            let rejected = try await store.reject("sig/pair", as: "b2", why: "The inventory misses the HR chatbot")
            #expect(rejected.taskState == .inProgress)
            let detail = try await store.task("sig/pair", actor: "otto")
            #expect(detail.history.last?.action == "task.reject")
            #expect(detail.history.last?.reason == "The inventory misses the HR chatbot")
            _ = try await store.submitTask("sig/pair", actor: "otto")
            // b1's approval belonged to the first round: two new approvals are needed, and b1 may sign again.
            #expect(try await store.approve("sig/pair", as: "b1").remaining == ["board": 1])
            #expect(try await store.approve("sig/pair", as: "b3").taskState == .done)
        }
    }

    @Test("new evidence supersedes signatures: the task returns to review and views say 'signed version N, current N+1'")
    func newEvidence() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededForSigning(store)
            let v1 = try await store.addEvidence(
                to: "sig/single",
                fileName: "/tmp/inventory.csv",
                bytes: Array("a,b\n".utf8),
                title: nil,
                actor: "otto"
            )
            #expect(v1.title == "inventory.csv")
            #expect(v1.version == 1)
            #expect(v1.mediaType == "text/csv")
            _ = try await store.submitTask("sig/single", actor: "otto")
            let signed = try await store.approve("sig/single", as: "b1")
            #expect(signed.taskState == .done)
            let v2 = try await store.addEvidence(
                to: "sig/single",
                fileName: "inventory.csv",
                bytes: Array("a,b\nc,d\n".utf8),
                title: nil,
                actor: "otto"
            )
            #expect(v2.version == 2)
            #expect(v2.taskVersion == 2)
            let detail = try await store.task("sig/single", actor: "ada")
            #expect(detail.task.state == .inReview)
            #expect(detail.signatures.first?.versionNote == "signed version 1, current 2")
            #expect(detail.signatures.first?.current == false)
            #expect(detail.signaturesNeeded == ["board": 1])
            #expect(detail.evidence.map(\.version) == [1, 2])
            // The old version stays readable, byte for byte.
            let (_, old) = try await store.evidenceContent(v1.id, actor: "b9") as (EvidenceVersion, [UInt8])
            #expect(String(decoding: old, as: UTF8.self) == "a,b\n")
        }
    }

    @Test("evidence on a finished task without a sign-off policy is recorded and leaves the task done")
    func evidenceOnUnsignedTask() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededForSigning(store)
            _ = try await store.markNotApplicable("sig/pair", reason: "covered elsewhere", actor: "mia")
            #expect(try await store.submitTask("sig/after-pair", actor: "otto").state == .done)
            let added = try await store.addEvidence(to: "sig/after-pair", fileName: "late.txt", bytes: Array("late".utf8), title: nil, actor: "otto")
            #expect(added.version == 1)
            #expect(try await store.task("sig/after-pair", actor: "ada").task.state == .done)
        }
    }

    @Test("evidence: empty and oversized files are refused clearly")
    func evidenceLimits() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededForSigning(store)
            await expectRefusal(.invalid, containing: "is empty") {
                _ = try await store.addEvidence(to: "sig/single", fileName: "e.txt", bytes: [], title: nil, actor: "otto")
            }
            await expectRefusal(.invalid, containing: "limited to 1048576 bytes") {
                _ = try await store.addEvidence(
                    to: "sig/single",
                    fileName: "big.bin",
                    bytes: [UInt8](repeating: 1, count: (1 << 20) + 1),
                    title: nil,
                    actor: "otto"
                )
            }
            await expectRefusal(.forbidden, containing: "is added by its assignee") {
                _ = try await store.addEvidence(to: "sig/single", fileName: "x.txt", bytes: [1], title: nil, actor: "b1")
            }
        }
    }

    @Test("a wrong password is refused and counted; five in a row lock signing; the right one resets the count")
    func wrongPassword() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededForSigning(store)
            _ = try await store.submitTask("sig/single", actor: "otto")
            await expectRefusal(.unauthenticated, containing: "wrong password; nothing was signed (1 of 5") {
                _ = try await store.approve("sig/single", as: "b1", password: "guess")
            }
            #expect(try await store.signatures(of: "sig/single", actor: "ada").isEmpty)
            for _ in 2...4 { _ = try? await store.approve("sig/single", as: "b1", password: "guess") }
            await expectRefusal(.unauthenticated, containing: "signing is now locked for b1") {
                _ = try await store.approve("sig/single", as: "b1", password: "guess")
            }
            await expectRefusal(.locked, containing: "signing is locked for b1 until") { _ = try await store.approve("sig/single", as: "b1") }
            // Another member is not affected, and a success clears their count.
            _ = try? await store.approve("sig/single", as: "b2", password: "guess")
            #expect(try await store.approve("sig/single", as: "b2").taskState == .done)
        }
    }

    @Test("a deputy signs on behalf of the holder until the delegation expires or is revoked")
    func delegation() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededForSigning(store)
            await expectRefusal(.conflict, containing: "does not hold 'legal'") {
                _ = try await store.delegate(
                    program: "sig",
                    role: "legal",
                    from: "b1",
                    to: "nora",
                    until: CalendarDate.today(),
                    reason: "x",
                    actor: "b1"
                )
            }
            let d = try await store.delegate(
                program: "sig",
                role: "legal",
                from: "lee",
                to: "b5",
                until: CalendarDate.today(),
                reason: "Lee on leave",
                actor: "lee"
            )
            #expect(d.active)
            _ = try await store.submitTask("sig/ordered", actor: "otto")
            let byDeputy = try await store.approve("sig/ordered", as: "b5")
            #expect(byDeputy.signature.onBehalfOf == "lee")
            #expect(byDeputy.signature.role == "legal")
            // One person fills one slot: signing again (they also sit on the board) records nothing new.
            let again = try await store.approve("sig/ordered", as: "b5")
            #expect(!again.recorded)
            #expect(try await store.task("sig/ordered", actor: "ada").signaturesNeeded == ["board": 1])
            let revoked = try await store.revokeDelegation(d.id, actor: "lee")
            #expect(revoked.revoked && !revoked.active)
            #expect(try await store.approve("sig/ordered", as: "b1").taskState == .done)
            let detail = try await store.task("sig/ordered", actor: "ada")
            #expect(detail.signatures.map(\.onBehalfOf) == ["lee", nil])
        }
    }

    @Test("an expired or revoked delegation gives no right to sign")
    func delegationEnds() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededForSigning(store)
            // A deputy must be a member of the program, and only the holder (or an administrator) delegates.
            await expectRefusal(.conflict, containing: "a deputy must be a member") {
                _ = try await store.delegate(
                    program: "sig",
                    role: "legal",
                    from: "lee",
                    to: "nora",
                    until: CalendarDate.today(),
                    reason: "leave",
                    actor: "lee"
                )
            }
            _ = try await store.bindRole(program: "sig", role: "manager", handles: ["nora"], actor: "ada")
            await expectRefusal(.forbidden, containing: "only lee or an administrator may delegate") {
                _ = try await store.delegate(
                    program: "sig",
                    role: "legal",
                    from: "lee",
                    to: "nora",
                    until: CalendarDate.today(),
                    reason: "leave",
                    actor: "mia"
                )
            }
            let d = try await store.delegate(
                program: "sig",
                role: "legal",
                from: "lee",
                to: "nora",
                until: CalendarDate.today(),
                reason: "leave",
                actor: "ada"
            )
            try await db.pool.withConnection {
                try await $0.execute("UPDATE accord.delegation SET valid_until = current_date - 1 WHERE id = $1", [d.id])
            }
            _ = try await store.submitTask("sig/ordered", actor: "otto")
            await expectRefusal(.forbidden, containing: "nora holds none of the signing roles") {
                _ = try await store.approve("sig/ordered", as: "nora")
            }
            _ = try await store.bindRole(program: "sig", role: "board", handles: ["nora"], actor: "ada")
            await expectRefusal(.forbidden, containing: "sequential sign-off: legal must sign before board") {
                _ = try await store.approve("sig/ordered", as: "nora")
            }
            let active = try await store.delegate(
                program: "sig",
                role: "legal",
                from: "lee",
                to: "b7",
                until: CalendarDate.today().adding(days: 30),
                reason: "leave",
                actor: "lee"
            )
            _ = try await store.revokeDelegation(active.id, actor: "mia")
            await expectRefusal(.forbidden, containing: "sequential sign-off") { _ = try await store.approve("sig/ordered", as: "b7") }
            #expect(try await store.delegations(program: "sig", actor: "lee").map(\.active) == [false, false])
        }
    }
}

@Suite("Sign-offs under concurrency")
struct SignOffRaceTests {
    @Test("approve and reject racing on one task yield exactly one outcome")
    func approveVersusReject() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededForSigning(store)
            for round in 1...3 {
                _ = try await store.submitTask("sig/single", actor: "otto")
                async let approval = Result(catching: { try await store.approve("sig/single", as: "b\(2 * round)") })
                async let rejection = Result(catching: { try await store.reject("sig/single", as: "b\(2 * round + 1)") })
                let (a, r) = await (approval, rejection)
                let winners = [a, r].filter { if case .success = $0 { true } else { false } }
                #expect(winners.count == 1, "round \(round)")
                let state = try await store.task("sig/single", actor: "ada").task.state
                if case .success = a { #expect(state == .done) } else { #expect(state == .inProgress) }
                if state == .done { break }
            }
        }
    }

    @Test("twenty concurrent signers on a quorum-3 task: exactly three signatures, completed once")
    func quorumOvershoot() async throws {
        try await TestDatabase.with(maxConnections: 8) { db in
            let store = db.store
            try await seededForSigning(store)
            _ = try await store.submitTask("sig/three", actor: "otto")
            let outcomes = await withTaskGroup(of: Result<SigningOutcome, any Error>.self) { group in
                for i in 1...20 { group.addTask { await Result(catching: { try await store.approve("sig/three", as: "b\(i)") }) } }
                var all: [Result<SigningOutcome, any Error>] = []
                for await outcome in group { all.append(outcome) }
                return all
            }
            let succeeded = outcomes.compactMap { try? $0.get() }
            #expect(succeeded.count == 3)
            #expect(succeeded.filter { $0.taskState == .done }.count == 1)
            for case .failure(let error) in outcomes {
                #expect((error as? AccordError)?.code == .conflict, "\(error)")
            }
            #expect(try await store.signatures(of: "sig/three", actor: "ada").count == 3)
            let log = try await store.auditLog(chain: "program:sig")
            #expect(log.filter { $0.action == "task.approve" && $0.objectID == "sig/three" }.count == 1)
            #expect(try await store.verifyChain("program:sig").problem == nil)
        }
    }

    @Test("the same signature submitted many times at once is recorded once")
    func doubleSubmit() async throws {
        try await TestDatabase.with(maxConnections: 8) { db in
            let store = db.store
            try await seededForSigning(store)
            _ = try await store.submitTask("sig/pair", actor: "otto")
            let outcomes = await withTaskGroup(of: Result<SigningOutcome, any Error>.self) { group in
                for _ in 1...10 { group.addTask { await Result(catching: { try await store.approve("sig/pair", as: "b4") }) } }
                var all: [Result<SigningOutcome, any Error>] = []
                for await outcome in group { all.append(outcome) }
                return all
            }
            #expect(outcomes.allSatisfy { (try? $0.get()) != nil })
            #expect(outcomes.compactMap { try? $0.get() }.filter(\.recorded).count == 1)
            #expect(try await store.signatures(of: "sig/pair", actor: "ada").count == 1)
        }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
