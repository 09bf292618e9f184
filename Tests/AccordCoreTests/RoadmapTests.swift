import AccordCore
import AccordResources
import Foundation
import Testing

@Suite("The built-in roadmap and the reference catalogue")
struct RoadmapTests {
    func builtIn() throws -> Workflow {
        let file = try #require(Resources.workflows.first { $0.name == "eu-ai-act-iso42001.yaml" })
        return try WorkflowLoader.load(yaml: file.text, file: file.path).get()
    }

    @Test("the catalogue has the 38 Annex A controls and every id is unique")
    func catalogue() {
        let catalogue = ReferenceCatalogue.builtIn
        #expect(catalogue.annexAControls.count == 38)
        #expect(Set(catalogue.references.map(\.id)).count == catalogue.references.count)
        #expect(catalogue["iso42001:A.6.2.8"]?.title == "AI system recording of event logs")
        #expect(catalogue["ai-act:art-73"]?.legalOnly == true)
        #expect(catalogue["iso42001:8.5"] == nil)
    }

    @Test("the built-in roadmap is valid and walks the six steps")
    func sixSteps() throws {
        let roadmap = try builtIn()
        #expect(roadmap.steps.map(\.key) == ["scope", "aims", "controls", "monitoring", "assurance", "improvement"])
        #expect(roadmap.steps.allSatisfy { !$0.tasks.isEmpty })
        #expect(roadmap.roles.contains { $0.leadership })
        #expect(roadmap.roles.contains { $0.manager })
    }

    @Test("leadership signs the policy, scope, roles, risk acceptance, management review and the declaration")
    func leadershipSignOffs() throws {
        let roadmap = try builtIn()
        let leaders = Set(roadmap.roles.filter(\.leadership).map(\.key))
        for key in [
            "ai-policy", "aims-scope", "roles-responsibilities", "risk-method", "risk-management", "management-review", "declaration-of-conformity",
        ] {
            let signers = roadmap.task(key)?.approval?.signers.map(\.role) ?? []
            #expect(signers.contains { leaders.contains($0) }, "\(key) is not signed by leadership")
        }
    }

    @Test("the legal obligations ISO/IEC 42001 does not cover are marked legal-only")
    func legalGap() throws {
        let roadmap = try builtIn()
        for key in [
            "conformity-assessment", "declaration-of-conformity", "ce-marking", "eu-registration", "serious-incident-reporting", "automatic-logs",
        ] {
            #expect(roadmap.task(key)?.legalOnly == true, "\(key)")
        }
        for task in roadmap.steps.flatMap(\.tasks) where task.legalOnly {
            #expect(!task.refs.contains { $0.hasPrefix("iso42001:") }, "\(task.key) is legal-only but cites the standard")
        }
    }

    @Test("inventory flags give a preliminary profile whose tasks are the law's for it")
    func applicability() throws {
        let roadmap = try builtIn()
        let perSystem = roadmap.steps.flatMap(\.tasks).filter { $0.isPerSystem && $0.trigger == nil }
        func keys(_ profile: SystemProfile) -> Set<String> { Set(perSystem.filter { $0.appliesTo!.matches(profile) }.map(\.key)) }
        let highProvider = keys(SystemProfile(operatorRole: .provider, riskClass: .high, annexIII: 4))
        #expect(
            highProvider.isSuperset(of: ["risk-management", "technical-documentation", "conformity-assessment", "ce-marking", "eu-registration"])
        )
        #expect(!highProvider.contains("deployer-use"))
        // ISO/IEC 42001's own work applies to every system; nothing of the Act's high-risk chapter to a minimal one.
        let minimal = keys(SystemProfile(operatorRole: .deployer, riskClass: .minimal))
        #expect(minimal.isSuperset(of: ["system-risk-assessment", "impact-assessment", "confirm-classification"]))
        #expect(minimal.isDisjoint(with: ["deployer-use", "fundamental-rights-impact", "risk-management"]))
        // A private deployer of an Annex III 4 system owes no FRIA (Art. 27(1)).
        let highDeployer = keys(SystemProfile(operatorRole: .deployer, riskClass: .high, annexIII: 4))
        #expect(highDeployer.contains("deployer-use") && !highDeployer.contains("fundamental-rights-impact"))
        // The old GPAI flag meant "uses GPAI": no model provider's duty.
        #expect(
            keys(SystemProfile(operatorRole: .provider, riskClass: .minimal, gpai: true)).isDisjoint(with: [
                "gpai-model-documentation", "gpai-copyright-summary",
            ])
        )
        // Limited risk was read as "interacts": the disclosure is the provider's (Art. 50(1)).
        #expect(keys(SystemProfile(operatorRole: .provider, riskClass: .limited)).contains("transparency-interaction"))
        #expect(!keys(SystemProfile(operatorRole: .deployer, riskClass: .limited)).contains("transparency-interaction"))
    }

    @Test("the AI Act's application dates are data in the workflow")
    func datesAreData() throws {
        let roadmap = try builtIn()
        #expect(roadmap.dates["ai-act-annex-iii"]?.date == CalendarDate("2027-12-02"))
        #expect(roadmap.dates["ai-act-prohibitions"]?.date == CalendarDate("2025-02-02"))
    }
}
