import AccordCore
import AccordReports
import AccordStore
import AccordTestSupport
import Foundation
import Postgres
import Testing

/// The built-in roadmap with people, one high-risk provider system and some history:
/// ada (admin, AIMS manager), grace and kat (top management), alan (legal), lin (risk manager).
func seededRoadmap(_ store: Store) async throws {
    _ = try await store.addPerson(handle: "ada", name: "Ada Lovelace", email: nil, admin: true, password: testPassword, actor: nil)
    for (handle, name) in [
        ("grace", "Grace Hopper"), ("kat", "Katherine Johnson"), ("alan", "Alan Turing"), ("lin", "Lin Wei"), ("nemo", "Nemo Nobody"),
    ] {
        _ = try await store.addPerson(handle: handle, name: name, email: nil, admin: false, password: testPassword, actor: "ada")
    }
    _ = try await store.startProgram(
        workflow: "eu-ai-act-iso42001",
        version: nil,
        title: "ACME, \"AI\" compliance",
        slug: "acme",
        startsOn: CalendarDate.today().adding(days: -40),
        actor: "ada"
    )
    for (role, handles) in [("aims-manager", ["ada"]), ("top-management", ["grace", "kat"]), ("legal", ["alan"]), ("risk-manager", ["lin"])] {
        _ = try await store.bindRole(program: "acme", role: role, handles: handles, actor: "ada")
    }
    _ = try await store.addSystems(
        program: "acme",
        [NewAISystem(name: "CV Screener", operatorRole: .provider, riskClass: .high, annexIII: 4)],
        actor: "ada"
    )
    _ = try await store.submitTask("acme/context", actor: "ada")
    _ = try await store.submitTask("acme/ai-inventory", actor: "ada")
    _ = try await store.submitTask("acme/classify-systems", actor: "alan")
    _ = try await store.approve("acme/classify-systems", as: "ada")
    _ = try await store.submitTask("acme/aims-scope", actor: "ada")  // signed by top management
    _ = try await store.approve("acme/aims-scope", as: "grace")
    _ = try await store.markNotApplicable("acme/accessibility-requirements@cv-screener", reason: "it has no user interface of its own", actor: "ada")
}

@Suite("Reports an auditor accepts")
struct ReportTests {
    @Test("status: every task with its state, owner, due date, lateness and current signatures")
    func status() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededRoadmap(store)
            let report = try await store.statusReport(program: "acme", actor: "grace")
            let all = try await store.tasks(TaskFilter(program: "acme"), actor: "ada")
            #expect(report.rows.count == all.count)
            let commitment = try #require(report.rows.first { $0.ref == "acme/aims-scope" })
            #expect(commitment.state == .done)
            #expect(commitment.signatures == ["grace approved"])
            #expect(report.rows.first { $0.ref == "acme/accessibility-requirements@cv-screener" }?.state == .notApplicable)
            #expect(report.rows.filter { $0.overdueDays != nil }.count == all.filter { $0.overdueDays != nil }.count)
            await expectRefusal(.notFound, containing: "no program 'acme'") { _ = try await store.statusReport(program: "acme", actor: "nemo") }
        }
    }

    @Test("the statement of applicability lists exactly the 38 Annex A controls, with justifications for what does not apply")
    func soa() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededRoadmap(store)
            let soa = try await store.soaReport(program: "acme", actor: "grace")
            #expect(soa.controls.count == 38)
            #expect(Set(soa.controls.map(\.id)) == Set(ReferenceCatalogue.builtIn.annexAControls.map(\.id)))
            #expect(soa.controls.allSatisfy { $0.id.hasPrefix("iso42001:A.") })
            // A.2.2 (AI policy) is implemented by the ai-policy task, not done yet.
            let policy = try #require(soa.controls.first { $0.id == "iso42001:A.2.2" })
            #expect(policy.applicability == "applicable")
            #expect(policy.tasks == ["acme/ai-policy"])
            #expect(policy.status == "not started" || policy.status == "in progress")
            // Marking every implementing task not applicable makes a control not applicable, with the reason.
            let target = try #require(soa.controls.filter { $0.applicability == "applicable" }.min { $0.tasks.count < $1.tasks.count })
            for task in target.tasks {
                _ = try await store.markNotApplicable(task, reason: "the vendor's control covers it", actor: "ada")
            }
            let after = try await store.soaReport(program: "acme", actor: "grace").controls.first { $0.id == target.id }
            #expect(after?.applicability == "not applicable")
            #expect(after?.justification == "the vendor's control covers it")
            let report = try await store.report(.soa, program: "acme", actor: "grace")
            #expect(report.tables[0].rows.count == 38)
        }
    }

    @Test("crosswalk: the catalogue's pairs rolled up per article and per control, legal-only apart, gaps by the law's own scoping")
    func crosswalk() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededRoadmap(store)
            let catalogue = ReferenceCatalogue.builtIn
            let crosswalk = try await store.crosswalkReport(program: "acme", actor: "grace")
            #expect(crosswalk.notice.contains("no presumption of conformity"))
            // Per article: exactly the catalogue's pairs whose article (or paragraph of it) is that article.
            let art9 = try #require(crosswalk.articles.first { $0.id == "ai-act:art-9" })
            #expect(Set(art9.controls.map(\.iso)) == Set(catalogue.crosswalk.filter { $0.article == "ai-act:art-9" }.map(\.iso)))
            #expect(art9.coverage == "partial" && art9.controls.contains { $0.iso == "iso42001:6.1.2" })
            #expect(art9.progress.tasks > 0)
            let art73 = try #require(crosswalk.articles.first { $0.id == "ai-act:art-73" })
            #expect(art73.coverage == "legal only" && art73.gap != nil)
            #expect(art73.controls.contains { $0.article == "ai-act:art-73(6)" && $0.iso == "iso42001:A.8.4" })
            #expect(crosswalk.articles.allSatisfy { catalogue[$0.id]?.parent == nil && catalogue[$0.id]?.framework == "ai-act" })
            // Per control: every pair appears from both sides.
            let pairs = Set(catalogue.crosswalk.map { "\($0.article)|\($0.iso)" })
            #expect(Set(crosswalk.controls.flatMap { control in control.articles.map { "\($0.article)|\(control.id)" } }) == pairs)
            #expect(Set(crosswalk.articles.flatMap { $0.controls.map { "\($0.article)|\($0.iso)" } }) == pairs)
            let a628 = try #require(crosswalk.controls.first { $0.id == "iso42001:A.6.2.8" })
            #expect(a628.articles.contains { $0.article == "ai-act:art-12" })
            // iso42001:4.1 is behind the context task only, which is done.
            let context = try #require(crosswalk.controls.first { $0.id == "iso42001:4.1" })
            #expect(context.progress.done == context.progress.tasks && context.progress.percentDone == 100)
            #expect(crosswalk.unaddressed.isEmpty)

            // A bank's credit scoring (deployer, Annex III 5(b)) owes a fundamental rights impact assessment
            // (Art. 27(1)); marked not applicable, the report names it as an obligation no task addresses.
            _ = try await store.addSystems(
                program: "acme",
                [NewAISystem(name: "Credit Scoring", operatorRole: .deployer, riskClass: .high, annexIII: 5)],
                actor: "ada"
            )
            let answers = try classificationAnswers(deployerOf: "5(b)")
            _ = try await store.classifySystem(program: "acme", system: "credit-scoring", answers: answers, reason: .initial, actor: "ada")
            _ = try await store.markNotApplicable("acme/fundamental-rights-impact@credit-scoring", reason: "we think not", actor: "ada")
            let after = try await store.crosswalkReport(program: "acme", actor: "grace")
            #expect(after.unaddressed.contains { $0.id == "ai-act:art-27" && $0.systems == ["credit-scoring"] })
            let rendered = try await store.report(.crosswalk, program: "acme", actor: "grace")
            #expect(rendered.tables.map(\.title).contains("Obligations of the program's systems that no task addresses"))
        }
    }

    @Test("accountability: leaders' sign-offs and times, owners' load, escalations received, and the RACI from the workflow")
    func accountability() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededRoadmap(store)
            _ = try await store.runDeadlines()
            let report = try await store.accountabilityReport(program: "acme", actor: "ada")
            let grace = try #require(report.people.first { $0.handle == "grace" && $0.kind == "leader" })
            #expect(grace.done == 1)
            #expect(grace.medianHoursToSign != nil && grace.p90HoursToSign != nil)
            let kat = try #require(report.people.first { $0.handle == "kat" && $0.kind == "leader" })
            #expect(kat.done == 0 && kat.medianHoursToSign == nil)
            let ada = try #require(report.people.first { $0.handle == "ada" && $0.kind == "owner" })
            #expect(ada.done == 3)
            #expect(report.people.filter { $0.kind == "leader" }.map(\.handle) == ["grace", "kat"])
            let scope = try #require(report.raci.first { $0.step == "scope" })
            #expect(scope.responsible.contains("aims-manager"))
            #expect(scope.accountable == ["top-management"])
            #expect(scope.informed.contains("top-management"))
            #expect(report.raci.count == 6)
        }
    }

    @Test("overdue: what is late, whose, since when, and escalated to whom")
    func overdue() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededRoadmap(store)
            let before = try await store.overdueReport(program: "acme", actor: "ada")
            #expect(!before.rows.isEmpty)
            #expect(before.rows.allSatisfy { $0.escalatedTo == nil && $0.daysLate > 0 })
            _ = try await store.runDeadlines()
            let after = try await store.overdueReport(program: "acme", actor: "ada")
            #expect(after.rows.map(\.ref) == before.rows.map(\.ref))
            let late = try #require(after.rows.first { $0.daysLate >= 7 })
            #expect(late.escalatedTo?.hasPrefix("level 2 to top-management (grace, kat) on ") == true, "\(late)")
            let row = try #require(after.rows.first)
            let tasks = try await store.tasks(TaskFilter(program: "acme", overdueOnly: true), actor: "ada")
            #expect(row.daysLate == tasks.first { $0.ref == row.ref }?.overdueDays)
        }
    }

    @Test("CSV opens as a table: a header row, and quoting where a field needs it")
    func csv() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededRoadmap(store)
            for kind in ReportKind.allCases {
                let table = try await store.report(kind, program: "acme", actor: "ada").tables[0]
                let text = ([table.header] + table.rows).map { CSV.line($0) }.joined(separator: "\n") + "\n"
                let parsed = try CSV.parse(text)
                #expect(parsed.first?.fields == table.header, "\(kind)")
                #expect(parsed.count == table.rows.count + 1, "\(kind)")
                #expect(parsed.allSatisfy { $0.fields.count == table.header.count }, "\(kind)")
            }
            let status = try await store.report(.status, program: "acme", actor: "ada").tables[0]
            let withComma = try #require(status.rows.first { $0[2].contains(",") })
            #expect(CSV.line(withComma).contains("\"\(withComma[2])\""))
            #expect(CSV.line(["say \"hi\""]) == "\"say \"\"hi\"\"\"")
        }
    }
}
