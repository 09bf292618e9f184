import AccordCore
import AccordStore
import AccordTestSupport
import Foundation
import Postgres
import Testing

/// A small workflow for engine tests, independent of the built-in roadmap's content.
let engineWorkflow = """
    id: engine-test
    version: 1
    title: Engine test roadmap
    dates:
      deadline: 2027-12-02
    roles:
      manager: {title: Manager, manager: true}
      owner: {title: Owner}
      boss: {title: Boss, leadership: true}
    steps:
      - key: first
        title: First
        owner: manager
        tasks:
          - key: inventory
            title: Inventory
            owner: owner
            due: P10D
          - key: policy
            title: Policy
            owner: owner
            depends_on: [inventory]
            due: {after: inventory, in: P7D}
            approval:
              signers: [boss]
          - key: per-high
            title: For each high-risk provider system
            owner: owner
            depends_on: [inventory]
            applies_to: {roles: [provider], risk: [high]}
            due: P20D
          - key: declare
            title: Declaration per system
            owner: owner
            depends_on: [per-high]
            applies_to: {roles: [provider], risk: [high]}
            due: {date: deadline, before: P30D}
            legal_only: true
            refs: ["ai-act:art-47"]
    """

/// People and a started program: ada (admin), mia (manager), otto (owner), bea (boss), nemo (no role).
func seeded(_ store: Store, starts: CalendarDate = CalendarDate("2026-01-01")!) async throws {
    _ = try await store.addPerson(handle: "ada", name: "Ada Admin", email: nil, admin: true, password: nil, actor: nil)
    for (handle, name) in [("mia", "Mia Manager"), ("otto", "Otto Owner"), ("bea", "Bea Boss"), ("nemo", "Nemo Nobody")] {
        _ = try await store.addPerson(handle: handle, name: name, email: nil, admin: false, password: nil, actor: "ada")
    }
    _ = try await store.loadWorkflow(yaml: engineWorkflow, file: "engine.yaml", actor: "ada")
    _ = try await store.startProgram(workflow: "engine-test", version: nil, title: "Engine", slug: "eng", startsOn: starts, actor: "ada")
    _ = try await store.bindRole(program: "eng", role: "manager", handles: ["mia"], actor: "ada")
    _ = try await store.bindRole(program: "eng", role: "owner", handles: ["otto"], actor: "mia")
    _ = try await store.bindRole(program: "eng", role: "boss", handles: ["bea"], actor: "mia")
}

func expectRefusal(
    _ code: AccordError.Code,
    containing text: String,
    _ body: () async throws -> Void,
    sourceLocation: SourceLocation = #_sourceLocation
) async {
    do {
        try await body()
        Issue.record("expected a refusal containing '\(text)'", sourceLocation: sourceLocation)
    } catch let error as AccordError {
        #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
        #expect(error.message.contains(text), "\(error.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
    }
}

@Suite("The roadmap engine")
struct RoadmapEngineTests {
    @Test("a program gets its tasks with due dates; per-system tasks appear only for matching systems")
    func instantiation() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seeded(store)
            var tasks = try await store.tasks(TaskFilter(program: "eng"), actor: "ada")
            #expect(tasks.map(\.ref) == ["eng/inventory", "eng/policy"])
            #expect(tasks.map(\.state) == [.open, .blocked])
            #expect(tasks[0].dueOn == "2026-01-11")
            #expect(tasks[1].dueOn == nil)  // due after inventory, which is not done

            _ = try await store.addSystems(
                program: "eng",
                [
                    NewAISystem(name: "CV Screener", operatorRole: .provider, riskClass: .high, annexIII: 4),
                    NewAISystem(name: "Chatbot", operatorRole: .deployer, riskClass: .minimal),
                ],
                actor: "mia"
            )
            tasks = try await store.tasks(TaskFilter(program: "eng"), actor: "ada")
            #expect(tasks.map(\.ref) == ["eng/inventory", "eng/policy", "eng/per-high@cv-screener", "eng/declare@cv-screener"])
            let declare = try #require(tasks.last)
            #expect(declare.dueOn == "2027-11-02")
            #expect(declare.state == .blocked)
            let systems = try await store.systems(program: "eng", actor: "otto")
            #expect(systems.map(\.tasks) == [0, 2])
        }
    }

    @Test("dependencies are enforced, submitting finishes or sends to review, and dependents unblock with their dates")
    func progression() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seeded(store)
            _ = try await store.addSystems(
                program: "eng",
                [NewAISystem(name: "CV Screener", operatorRole: .provider, riskClass: .high)],
                actor: "mia"
            )
            await expectRefusal(.conflict, containing: "is blocked and cannot start") { _ = try await store.startTask("eng/policy", actor: "otto") }
            let started = try await store.startTask("eng/inventory", actor: "otto")
            #expect(started.state == .inProgress)
            #expect(started.assignee == "otto")  // an unassigned owner who starts becomes the assignee
            let done = try await store.submitTask("eng/inventory", actor: "otto")
            #expect(done.state == .done)  // no sign-off policy: submitting finishes it
            let after = try await store.tasks(TaskFilter(program: "eng"), actor: "ada")
            let policy = try #require(after.first { $0.key == "policy" })
            #expect(policy.state == .open)
            #expect(policy.dueOn == ISODuration("P7D")!.after(CalendarDate.today()).description)
            #expect(after.first { $0.key == "per-high" }?.state == .open)
            #expect(after.first { $0.key == "declare" }?.state == .blocked)
            let review = try await store.submitTask("eng/policy", actor: "otto")
            #expect(review.state == .inReview)  // needs the boss's sign-off
            await expectRefusal(.conflict, containing: "only its signers can act on it now") {
                _ = try await store.startTask("eng/policy", actor: "otto")
            }
            let detail = try await store.task("eng/policy", actor: "bea")
            #expect(detail.history.map(\.action) == ["task.unblock", "task.submit"])
            #expect(detail.dependsOn.map(\.ref) == ["eng/inventory"])
            #expect(detail.approval?.signers.map(\.role) == ["boss"])
        }
    }

    @Test("who may do what is checked in the engine")
    func authority() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seeded(store)
            await expectRefusal(.notFound, containing: "no program 'eng'") { _ = try await store.program("eng", actor: "nemo") }
            await expectRefusal(.notFound, containing: "no program 'eng'") { _ = try await store.tasks(TaskFilter(program: "eng"), actor: "nemo") }
            #expect(try await store.tasks(TaskFilter(), actor: "nemo").isEmpty)
            await expectRefusal(.forbidden, containing: "only an administrator or a holder of 'manager'") {
                _ = try await store.assignTask("eng/inventory", to: "otto", actor: "otto")
            }
            await expectRefusal(.conflict, containing: "holds no role in 'eng'") {
                _ = try await store.assignTask("eng/inventory", to: "nemo", actor: "mia")
            }
            _ = try await store.assignTask("eng/inventory", to: "otto", actor: "mia")
            await expectRefusal(.forbidden, containing: "assigned to 'otto'") { _ = try await store.startTask("eng/inventory", actor: "bea") }
            await expectRefusal(.forbidden, containing: "only an administrator adds people") {
                _ = try await store.addPerson(handle: "eve", name: "Eve", email: nil, admin: true, password: nil, actor: "mia")
            }
            await expectRefusal(.forbidden, containing: "only an administrator starts programs") {
                _ = try await store.startProgram(workflow: "engine-test", version: nil, title: "X", slug: nil, startsOn: nil, actor: "mia")
            }
            // The engine names no CLI flag: it says who is missing, and the remedy is data each front words.
            await #expect(throws: AccordError(.unauthenticated, "say who is acting", remedy: .identifyActor)) {
                _ = try await store.programs(actor: nil)
            }
            await expectRefusal(.unauthenticated, containing: "'ghost' does not exist") { _ = try await store.programs(actor: "ghost") }
            await expectRefusal(.invalid, containing: "say why") {
                _ = try await store.markNotApplicable("eng/inventory", reason: "  ", actor: "mia")
            }
            let na = try await store.markNotApplicable("eng/inventory", reason: "No AI in use", actor: "mia")
            #expect(na.state == .notApplicable)
            #expect(try await store.tasks(TaskFilter(program: "eng", state: .open), actor: "mia").map(\.key) == ["policy"])
        }
    }

    @Test("overdue tasks are listed with their lateness; --mine shows assigned and unassigned-in-my-roles")
    func overdueAndMine() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seeded(store, starts: CalendarDate.today().adding(days: -15))
            let overdue = try await store.tasks(TaskFilter(overdueOnly: true), actor: "ada")
            #expect(overdue.map(\.ref) == ["eng/inventory"])
            #expect(overdue.first?.overdueDays == 5)
            #expect(try await store.tasks(TaskFilter(mineOnly: true), actor: "otto").map(\.key) == ["inventory", "policy"])
            #expect(try await store.tasks(TaskFilter(mineOnly: true), actor: "bea").isEmpty)
            let detail = try await store.program("eng", actor: "bea")
            #expect(detail.summary.overdue == 1)
            #expect(detail.steps.first?.overdue == 1)
            #expect(detail.roles.first { $0.role == "boss" }?.members == ["bea"])
        }
    }

    @Test("every change is in the program's audit chain, and the chain verifies; SQL and Swift hash alike")
    func auditTrail() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seeded(store)
            _ = try await store.startTask("eng/inventory", actor: "otto")
            _ = try await store.submitTask("eng/inventory", actor: "otto")
            let log = try await store.auditLog(chain: "program:eng")
            #expect(log.map(\.action) == ["program.start", "role.bind", "role.bind", "role.bind", "task.start", "task.submit", "task.unblock"])
            #expect(log.map(\.seq) == Array(1...7))
            let verified = try await store.verifyChain("program:eng")
            #expect(verified.verified == 7)
            #expect(verified.problem == nil)
            let org = try await store.verifyChain("org")
            #expect(org.problem == nil)
            #expect(org.verified == 7)  // the built-in workflow, five people and the test workflow
        }
    }

    @Test("passwords are stored as bcrypt hashes; the first person is an administrator")
    func people() async throws {
        try await TestDatabase.with { db in
            // The production cost, not the tests' fast one.
            let store = Store(pool: db.pool, location: .url(db.conninfo), auditKey: testAuditKey)
            #expect(store.passwordCost == 12)
            let first = try await store.addPerson(
                handle: "root",
                name: "First",
                email: nil,
                admin: false,
                password: "a long enough password",
                actor: nil
            )
            #expect(first.isAdmin && first.canSign)
            let stored = try await db.pool.withConnection {
                try await $0.query("SELECT password_hash FROM accord.person")[0].decode(String.self, "password_hash")
            }
            #expect(stored.hasPrefix("$2b$12$") || stored.hasPrefix("$2a$12$") || stored.hasPrefix("$2y$12$"))
            #expect(!stored.contains("a long enough password"))
            await expectRefusal(.invalid, containing: "at least 12 characters") {
                _ = try await db.store.addPerson(handle: "x", name: "X", email: nil, admin: false, password: "short", actor: "root")
            }
            await expectRefusal(.conflict, containing: "already exists") {
                _ = try await db.store.addPerson(handle: "root", name: "Again", email: nil, admin: false, password: nil, actor: "root")
            }
            await expectRefusal(.invalid, containing: "handle 'Bad Handle'") {
                _ = try await db.store.addPerson(handle: "Bad Handle", name: "B", email: nil, admin: false, password: nil, actor: "root")
            }
        }
    }

    @Test("workflow versions are immutable")
    func immutableVersions() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seeded(store)
            let again = try await store.loadWorkflow(yaml: engineWorkflow, file: "engine.yaml", actor: "ada")
            guard case .unchanged = again else {
                Issue.record("expected unchanged")
                return
            }
            await expectRefusal(.conflict, containing: "already loaded with different content") {
                _ = try await store.loadWorkflow(
                    yaml: engineWorkflow.replacingOccurrences(of: "due: P10D", with: "due: P11D"),
                    file: "e.yaml",
                    actor: "ada"
                )
            }
            do {
                _ = try await store.loadWorkflow(yaml: "id: x\n", file: "bad.yaml", actor: "ada")
                Issue.record("an invalid workflow loaded")
            } catch let invalid as WorkflowInvalid {
                #expect(invalid.diagnostics.first?.description.hasPrefix("bad.yaml:1:1: error:") == true)
            }
            #expect(try await store.workflows().map(\.id).contains("eu-ai-act-iso42001"))
        }
    }

    @Test("upgrading keeps done work, adds new tasks and retires removed ones with the reason")
    func upgrade() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seeded(store)
            _ = try await store.addSystems(program: "eng", [NewAISystem(name: "CV", operatorRole: .provider, riskClass: .high)], actor: "mia")
            _ = try await store.submitTask("eng/inventory", actor: "otto")
            let v2 =
                engineWorkflow
                .replacingOccurrences(of: "version: 1", with: "version: 2")
                .replacingOccurrences(
                    of: "      - key: declare\n        title: Declaration per system",
                    with: "      - key: register\n        title: Registration per system"
                )
                .replacingOccurrences(of: #"refs: ["ai-act:art-47"]"#, with: #"refs: ["ai-act:art-49"]"#)
                .replacingOccurrences(of: "title: Policy", with: "title: AI policy")
            _ = try await store.loadWorkflow(yaml: v2, file: "v2.yaml", actor: "ada")
            let diff = try await store.workflowDiff("engine-test", from: 1, to: 2)
            #expect(diff.addedTasks == ["register"])
            #expect(diff.removedTasks == ["declare"])
            #expect(diff.changedTasks.map(\.task) == ["policy"])
            let plan = try await store.upgradeProgram("eng", to: 2, dryRun: true, actor: "mia")
            #expect(plan.add == ["eng/register@cv"])
            #expect(plan.retire == ["eng/declare@cv"])
            #expect(plan.update == ["eng/policy"])
            #expect(!plan.applied)
            #expect(try await store.program("eng", actor: "mia").summary.workflowVersion == 1)
            let applied = try await store.upgradeProgram("eng", to: 2, dryRun: false, actor: "mia")
            #expect(applied.applied)
            let tasks = try await store.tasks(TaskFilter(program: "eng"), actor: "mia")
            #expect(tasks.map(\.key) == ["inventory", "policy", "per-high", "register"])
            #expect(tasks.first { $0.key == "inventory" }?.state == .done)
            #expect(tasks.first { $0.key == "policy" }?.title == "AI policy")
            let retired = try await store.tasks(TaskFilter(program: "eng", state: .retired), actor: "mia")
            #expect(retired.map(\.ref) == ["eng/declare@cv"])
            #expect(try await store.task("eng/declare@cv", actor: "mia").retiredReason == "removed in engine-test version 2")
            await expectRefusal(.conflict, containing: "upgrades only move forward") {
                _ = try await store.upgradeProgram("eng", to: 1, dryRun: true, actor: "mia")
            }
            #expect(try await store.verifyChain("program:eng").problem == nil)
        }
    }

    @Test("a CSV inventory imports all rows or none, and names the row and column of each problem")
    func csvImport() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seeded(store)
            let bad = "name,role,risk,gpai\nScreener,provider,high,no\nBot,deployer,medium,no\nModel,provider,minimal,perhaps\n"
            do {
                _ = try Store.parseSystemsCSV(bad, file: "inv.csv")
                Issue.record("a bad CSV parsed")
            } catch let error as AccordError {
                #expect(error.message.contains("inv.csv:3: column 3 (risk): 'medium' is not one of prohibited, high, limited, minimal"))
                #expect(error.message.contains("inv.csv:4: column 4 (gpai): 'perhaps' is not yes or no"))
            }
            #expect(try await store.systems(program: "eng", actor: "mia").isEmpty)
            #expect(throws: AccordError.self) { try Store.parseSystemsCSV("nom,role,risk\nx,provider,high\n", file: "h.csv") }
            let good =
                "Name,Role,Risk,GPAI,Annex III,Owner,Purpose\n\"Screener, CV\",Provider,High,no,4,otto,\"Ranks applicants\"\nBot,deployer,minimal,,,,\n"
            let systems = try Store.parseSystemsCSV(good, file: "inv.csv")
            let added = try await store.addSystems(program: "eng", systems, actor: "mia")
            #expect(added.map(\.slug) == ["bot", "screener-cv"])
            #expect(added.first { $0.slug == "screener-cv" }?.owner == "otto")
            #expect(added.first { $0.slug == "screener-cv" }?.tasks == 2)
            // A second import with a duplicate is refused whole.
            await expectRefusal(.conflict, containing: "already has an AI system 'bot'") {
                _ = try await store.addSystems(
                    program: "eng",
                    [
                        NewAISystem(name: "New", operatorRole: .provider, riskClass: .high),
                        NewAISystem(name: "Bot", operatorRole: .deployer, riskClass: .minimal),
                    ],
                    actor: "mia"
                )
            }
            #expect(try await store.systems(program: "eng", actor: "mia").count == 2)
        }
    }
}
