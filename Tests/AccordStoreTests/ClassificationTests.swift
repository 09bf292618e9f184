import AccordCore
import AccordStore
import AccordTestSupport
import Foundation
import Postgres
import Testing

@Suite("Classification: the questionnaire's record, and reclassification re-deriving a system's tasks")
struct ClassificationTests {
    func states(_ store: Store, system: String) async throws -> [String: TaskState] {
        let tasks = try await store.tasks(TaskFilter(program: "acme"), actor: "ada").filter { $0.system == system }
        return Dictionary(uniqueKeysWithValues: tasks.map { ($0.key, $0.state) })
    }

    func auditCount(_ db: TestDatabase, action: String) async throws -> Int {
        try await db.pool.withConnection {
            try await $0.query("SELECT count(*)::int AS n FROM accord.audit_entry WHERE action = $1", [action])[0].decode(Int.self, "n")
        }
    }

    @Test("the questionnaire's answers build the profiles of the scenarios")
    func walksToProfiles() throws {
        let questionnaire = try #require(Store.questionnaires["ai-act-classification"])
        let cases: [([String: Answer], SystemProfile)] = [
            (
                classificationAnswers(roles: ["provider", "deployer"], highRisk: .annexIII("4(a)")),
                SystemProfile(roles: [.provider, .deployer], route: .annexIII, annexIII: "4(a)")
            ),
            (
                classificationAnswers(roles: ["deployer"], highRisk: .annexIII("5(b)"), publicService: true),
                SystemProfile(roles: [.deployer], route: .annexIII, annexIII: "5(b)", publicService: true)
            ),
            (
                classificationAnswers(highRisk: .annexI(act: "Regulation (EU) 2017/745", thirdParty: true)),
                SystemProfile(roles: [.provider], route: .annexI, annexIAct: "Regulation (EU) 2017/745", thirdPartyAssessment: true)
            ),
            (
                classificationAnswers(highRisk: .exempt("3(b)", reason: "it only schedules exams")),
                SystemProfile(roles: [.provider], route: .exempt, annexIII: "3(b)", exemptionReason: "it only schedules exams")
            ),
            (
                classificationAnswers(roles: ["deployer"], transparency: ["deep-fake"], gpai: .builtOn, size: "sme"),
                SystemProfile(roles: [.deployer], transparency: [.deepFake], builtOnGPAI: true, size: .sme)
            ),
            (
                classificationAnswers(gpai: .model(systemic: false, openSource: true), outsideUnion: true, legacy: true),
                SystemProfile(roles: [.provider], gpaiModel: .provider, openSource: true, outsideUnion: true, legacy: true)
            ),
            (
                classificationAnswers(prohibited: ["intimate-imagery"]),
                SystemProfile(roles: [.provider], prohibited: [.intimateImagery])
            ),
            (
                classificationAnswers(roles: ["importer"], highRisk: .annexIII("4(a)"), valueChain: ["own-name-or-trademark"]),
                SystemProfile(roles: [.provider, .importer], route: .annexIII, annexIII: "4(a)")
            ),
        ]
        for (answers, profile) in cases {
            let walk = questionnaire.walk(answers)
            #expect(walk.isComplete, "\(walk.next ?? "") \(walk.problems)")
            #expect(walk.profile == profile, "\(walk.profile.summary) ≠ \(profile.summary)")
            #expect(walk.steps.allSatisfy { !$0.refs.isEmpty })
        }
    }

    @Test("classifying records the walk, derives the tasks, and submits the answers for the legal role's signature")
    func classify() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededRoadmap(store)
            _ = try await store.addSystems(
                program: "acme",
                [NewAISystem(name: "Screener Two", operatorRole: .provider, riskClass: .minimal)],
                actor: "ada"
            )
            let before = try await store.system(program: "acme", system: "screener-two", actor: "ada")
            #expect(before.review?.contains("inventory flags") == true)
            #expect(try await states(store, system: "screener-two")["risk-management"] == nil)

            // A dry run shows the change and writes nothing.
            let answers = classificationAnswers(roles: ["provider", "deployer"], highRisk: .annexIII("4(a)"))
            let entries = try await auditCount(db, action: "system.classify")
            let preview = try await store.classifySystem(
                program: "acme",
                system: "screener-two",
                answers: answers,
                reason: .initial,
                dryRun: true,
                actor: "ada"
            )
            #expect(!preview.recorded && preview.added.contains("acme/risk-management@screener-two"))
            #expect(try await auditCount(db, action: "system.classify") == entries)
            #expect(try await states(store, system: "screener-two")["risk-management"] == nil)

            let result = try await store.classifySystem(program: "acme", system: "screener-two", answers: answers, reason: .initial, actor: "ada")
            #expect(result.recorded && result.added == preview.added)
            #expect(result.profile == SystemProfile(roles: [.provider, .deployer], route: .annexIII, annexIII: "4(a)"))
            let after = try await states(store, system: "screener-two")
            for key in ["risk-management", "deployer-use", "explanation-requests", "eu-registration"] { #expect(after[key] != nil, "\(key)") }
            #expect(after["fundamental-rights-impact"] == nil)  // a private deployer of 4(a): no FRIA
            #expect(after["confirm-classification"] == .inReview)
            let system = try await store.system(program: "acme", system: "screener-two", actor: "ada")
            #expect(system.review == nil && system.classifiedWith == "ai-act-classification@1" && system.riskClass == .high)
            #expect(system.profile.roles == [.provider, .deployer])

            // The evidence is the walk: every question on the path with its refs and answer.
            let evidence = try await store.evidence(of: "acme/confirm-classification@screener-two", actor: "ada")
            let file = try #require(evidence.first)
            #expect(file.title == "Classification answers and reasoning")
            let (_, bytes) = try await store.evidenceContent(file.id, actor: "ada")
            let document = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
            #expect((document["steps"] as? [[String: Any]])?.count == result.walk.steps.count)
            #expect(document["summary"] as? String == result.profile.summary)

            // The legal role signs the classification.
            let signed = try await store.approve("acme/confirm-classification@screener-two", as: "alan")
            #expect(signed.taskState == .done)
            let history = try await store.classifications(program: "acme", system: "screener-two", actor: "grace")
            #expect(history.count == 1 && history[0].reason == .initial && history[0].recordedBy == "ada")
            #expect(try await store.verifyAudit(program: "acme", actor: "ada").ok)
        }
    }

    @Test("reclassification closes what no longer applies, keeps finished work, reinstates on return, all audited")
    func reclassify() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededRoadmap(store)
            _ = try await store.addSystems(program: "acme", [NewAISystem(name: "Tutor", operatorRole: .provider, riskClass: .minimal)], actor: "ada")
            let high = classificationAnswers(highRisk: .annexIII("3(b)"))
            _ = try await store.classifySystem(program: "acme", system: "tutor", answers: high, reason: .initial, actor: "ada")
            // Finish one high-risk task that needs no sign-off and waits for nothing.
            let workflow = try await store.workflow("eu-ai-act-iso42001")
            let candidates = try await store.tasks(TaskFilter(program: "acme"), actor: "ada").filter {
                $0.system == "tutor" && $0.state == .open && workflow.task($0.key)?.approval == nil
                    && workflow.task($0.key)?.appliesTo?.routes?.contains(.annexIII) == true
            }
            let finished = try #require(candidates.first)
            _ = try await store.bindRole(program: "acme", role: finished.ownerRole, handles: ["ada"], actor: "ada")
            _ = try await store.submitTask(finished.ref, actor: "ada")

            // A substantial modification takes it out of Annex III (Art. 25(1)(b) reasons are recorded as such).
            let minimal = classificationAnswers(highRisk: .none, transparency: ["interacts"])
            let result = try await store.classifySystem(
                program: "acme",
                system: "tutor",
                answers: minimal,
                reason: .substantialModification,
                note: "the grading feature was removed",
                actor: "ada"
            )
            #expect(result.kept == [finished.ref])
            #expect(result.closed.contains("acme/risk-management@tutor"))
            #expect(result.added == ["acme/transparency-interaction@tutor"])
            let today = CalendarDate.today()
            let risk = try await store.task("acme/risk-management@tutor", actor: "ada")
            #expect(risk.task.state == .notApplicable && risk.notApplicableReason == "reclassified on \(today)")
            #expect(try await store.task(finished.ref, actor: "ada").task.state == .done)
            // The ISO/IEC 42001 work of every system stays.
            #expect(try await states(store, system: "tutor")["system-risk-assessment"]?.isOutstanding == true)

            // Back to high risk: what reclassification closed is reinstated, nothing is duplicated.
            let back = try await store.classifySystem(program: "acme", system: "tutor", answers: high, reason: .rerun, actor: "ada")
            #expect(back.reinstated.contains("acme/risk-management@tutor") && back.added.isEmpty)
            #expect(back.closed == ["acme/transparency-interaction@tutor"])
            #expect(try await store.task("acme/risk-management@tutor", actor: "ada").task.state.isOutstanding)
            let history = try await store.classifications(program: "acme", system: "tutor", actor: "ada")
            #expect(history.map(\.reason) == [.initial, .substantialModification, .rerun])
            #expect(history[1].note == "the grading feature was removed" && history[1].changes.kept == [finished.ref])
            #expect(try await auditCount(db, action: "system.classify") == 3)
            #expect(try await store.verifyAudit(program: "acme", actor: "ada").ok)
        }
    }

    @Test("bad answers are refused by question, and only managers classify")
    func refusals() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededRoadmap(store)
            var answers = classificationAnswers(highRisk: .annexIII("4(a)"))
            answers["profiling"] = nil
            await expectRefusal(.invalid, containing: "question 'profiling' is not answered") {
                _ = try await store.classifySystem(program: "acme", system: "cv-screener", answers: answers, reason: .rerun, actor: "ada")
            }
            answers["profiling"] = .choice("perhaps")
            await expectRefusal(.invalid, containing: "'perhaps' is not an option") {
                _ = try await store.classifySystem(program: "acme", system: "cv-screener", answers: answers, reason: .rerun, actor: "ada")
            }
            await expectRefusal(.invalid, containing: "choose at least one option") {
                _ = try await store.classifySystem(
                    program: "acme",
                    system: "cv-screener",
                    answers: classificationAnswers(roles: []),
                    reason: .rerun,
                    actor: "ada"
                )
            }
            await expectRefusal(.forbidden, containing: "classify AI systems") {
                _ = try await store.classifySystem(
                    program: "acme",
                    system: "cv-screener",
                    answers: classificationAnswers(),
                    reason: .rerun,
                    actor: "lin"
                )
            }
            await expectRefusal(.notFound, containing: "no AI system 'nope'") {
                _ = try await store.classifySystem(program: "acme", system: "nope", answers: classificationAnswers(), reason: .rerun, actor: "ada")
            }
        }
    }

    @Test("a serious incident takes the reporter's path: provider to the authority, deployer to the provider first")
    func incidentPaths() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededRoadmap(store)
            _ = try await store.addSystems(
                program: "acme",
                [NewAISystem(name: "Loans", operatorRole: .deployer, riskClass: .high, annexIII: 5)],
                actor: "ada"
            )
            _ = try await store.classifySystem(
                program: "acme",
                system: "loans",
                answers: try classificationAnswers(deployerOf: "5(b)"),
                reason: .initial,
                actor: "ada"
            )
            let provider = try await store.reportIncident(
                program: "acme",
                system: "cv-screener",
                kind: .death,
                awareAt: Date().addingTimeInterval(-3600),
                summary: "a wrong rejection",
                actor: "ada"
            )
            #expect(provider.tasks.map(\.key).contains("incident-initial-report"))
            #expect(!provider.tasks.map(\.key).contains("incident-inform-provider"))
            let deployer = try await store.reportIncident(
                program: "acme",
                system: "loans",
                kind: .other,
                awareAt: Date().addingTimeInterval(-3600),
                summary: "a discriminatory refusal",
                actor: "ada"
            )
            let keys = deployer.tasks.map(\.key)
            #expect(keys.contains("incident-inform-provider") && keys.contains("incident-deployer-report"))
            #expect(!keys.contains("incident-initial-report"))
        }
    }

    @Test("with only minimal-risk systems the statement of applicability addresses every Annex A control")
    func minimalSoA() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            _ = try await store.addPerson(handle: "ada", name: "Ada Lovelace", email: nil, admin: true, password: testPassword, actor: nil)
            _ = try await store.startProgram(
                workflow: "eu-ai-act-iso42001",
                version: nil,
                title: "Small",
                slug: "small",
                startsOn: .today(),
                actor: "ada"
            )
            _ = try await store.addSystems(
                program: "small",
                [
                    NewAISystem(name: "Spam filter", operatorRole: .deployer, riskClass: .minimal),
                    NewAISystem(name: "Forecaster", operatorRole: .provider, riskClass: .minimal),
                ],
                actor: "ada"
            )
            let soa = try await store.soaReport(program: "small", actor: "ada")
            #expect(soa.controls.count == 38)
            #expect(soa.controls.filter { $0.applicability == "not addressed" }.map(\.id) == [])
        }
    }
}

@Suite("Upgrading a program from workflow version 2 to the version that follows the Act")
struct ApplicabilityUpgradeTests {
    @Test("the dry run shows per system what is added and retired; applying it re-derives the tasks")
    func upgradeFromVersion2() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("fixtures/eu-ai-act-iso42001-v2.yaml")
            _ = try await store.addPerson(handle: "ada", name: "Ada Lovelace", email: nil, admin: true, password: testPassword, actor: nil)
            _ = try await store.loadWorkflow(yaml: try String(contentsOf: fixture, encoding: .utf8), file: "v2.yaml", actor: "ada")
            _ = try await store.startProgram(workflow: "eu-ai-act-iso42001", version: 2, title: "Old", slug: "old", startsOn: .today(), actor: "ada")
            _ = try await store.addSystems(
                program: "old",
                [
                    NewAISystem(name: "Scorer", operatorRole: .deployer, riskClass: .high, annexIII: 4),
                    NewAISystem(name: "Bot", operatorRole: .deployer, riskClass: .limited),
                ],
                actor: "ada"
            )
            // Version 2 has no questionnaire: classifying says to upgrade.
            await expectRefusal(.conflict, containing: "upgrade the program") {
                _ = try await store.classifySystem(program: "old", system: "bot", answers: classificationAnswers(), reason: .initial, actor: "ada")
            }
            let plan = try await store.upgradeProgram("old", to: 3, dryRun: true, actor: "ada")
            let scorer = try #require(plan.systems.first { $0.system == "scorer" })
            // Version 2 asked every high-risk deployer for a FRIA; a private deployer of Annex III 4 owes none.
            #expect(scorer.retired.contains("fundamental-rights-impact"))
            #expect(Set(scorer.added).isSuperset(of: ["confirm-classification", "system-risk-assessment", "explanation-requests"]))
            let bot = try #require(plan.systems.first { $0.system == "bot" })
            // Art. 50(1) disclosure is the provider's duty, not the deployer's.
            #expect(bot.retired == ["transparency-notices"])
            #expect(bot.added.contains("system-risk-assessment"))
            let applied = try await store.upgradeProgram("old", to: 3, dryRun: false, actor: "ada")
            #expect(applied.systems == plan.systems)
            let refs = Set(try await store.tasks(TaskFilter(program: "old"), actor: "ada").filter { $0.state != .retired }.map(\.ref))
            #expect(refs.contains("old/confirm-classification@bot") && !refs.contains("old/fundamental-rights-impact@scorer"))
            // Now the systems, flagged for review, can be classified.
            #expect(try await store.system(program: "old", system: "bot", actor: "ada").review != nil)
            _ = try await store.classifySystem(
                program: "old",
                system: "bot",
                answers: classificationAnswers(roles: ["deployer"], transparency: ["interacts"]),
                reason: .rerun,
                actor: "ada"
            )
            #expect(try await store.system(program: "old", system: "bot", actor: "ada").review == nil)
            #expect(try await store.verifyAudit(program: "old", actor: "ada").ok)
        }
    }
}
