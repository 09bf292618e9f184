import AccordCore
import AccordResources
import Foundation
import Testing

/// One scenario of docs/applicability.md: a system's profile and the obligations it must get.
struct Scenario: Sendable, CustomTestStringConvertible {
    var name: String
    var profile: SystemProfile
    var testDescription: String { name }
}

let scenarios: [Scenario] = [
    Scenario(name: "in-house CV screener", profile: SystemProfile(roles: [.provider, .deployer], route: .annexIII, annexIII: "4(a)")),
    Scenario(name: "bought chatbot", profile: SystemProfile(roles: [.deployer], transparency: [.interacts], builtOnGPAI: true)),
    Scenario(name: "own customer chatbot", profile: SystemProfile(roles: [.provider, .deployer], transparency: [.interacts], builtOnGPAI: true)),
    Scenario(
        name: "image generator on the market before 2026-08-02",
        profile: SystemProfile(roles: [.provider], transparency: [.syntheticContent], legacy: true)
    ),
    Scenario(name: "bank's credit scoring, deployer", profile: SystemProfile(roles: [.deployer], route: .annexIII, annexIII: "5(b)")),
    Scenario(
        name: "public body's recruitment screening, deployer",
        profile: SystemProfile(roles: [.deployer], route: .annexIII, annexIII: "4(a)", publicService: true)
    ),
    Scenario(
        name: "grid operator's load control, public deployer",
        profile: SystemProfile(roles: [.deployer], route: .annexIII, annexIII: "2", publicService: true)
    ),
    Scenario(
        name: "medical device with notified body, provider",
        profile: SystemProfile(roles: [.provider], route: .annexI, annexIAct: "Regulation (EU) 2017/745", thirdPartyAssessment: true)
    ),
    Scenario(
        name: "exam timetabling claimed exempt, provider",
        profile: SystemProfile(roles: [.provider], route: .exempt, annexIII: "3(b)", exemptionReason: "narrow procedural task")
    ),
    Scenario(name: "open-weights GPAI model with systemic risk", profile: SystemProfile(roles: [.provider], gpaiModel: .systemic, openSource: true)),
    Scenario(
        name: "open-weights GPAI model, provider outside the Union",
        profile: SystemProfile(roles: [.provider], gpaiModel: .provider, openSource: true, outsideUnion: true)
    ),
    Scenario(
        name: "closed GPAI model, provider outside the Union",
        profile: SystemProfile(roles: [.provider], gpaiModel: .provider, outsideUnion: true)
    ),
    Scenario(name: "importer of a high-risk system", profile: SystemProfile(roles: [.importer], route: .annexIII, annexIII: "4(a)")),
    Scenario(name: "distributor of a high-risk system", profile: SystemProfile(roles: [.distributor], route: .annexIII, annexIII: "5(a)")),
    Scenario(
        name: "legacy police risk tool, public deployer",
        profile: SystemProfile(roles: [.deployer], route: .annexIII, annexIII: "6(a)", publicService: true, legacy: true)
    ),
    Scenario(name: "legacy HR tool, private deployer", profile: SystemProfile(roles: [.deployer], route: .annexIII, annexIII: "4(b)", legacy: true)),
    Scenario(name: "nudify app (new 2026 ban)", profile: SystemProfile(roles: [.provider], prohibited: [.intimateImagery])),
    Scenario(name: "deep fake in marketing, deployer", profile: SystemProfile(roles: [.deployer], transparency: [.deepFake])),
    Scenario(
        name: "high-risk provider outside the Union, SME",
        profile: SystemProfile(roles: [.provider], route: .annexIII, annexIII: "3(a)", outsideUnion: true, size: .sme)
    ),
    Scenario(name: "spam filter, minimal", profile: SystemProfile(roles: [.deployer])),
]

@Suite("Applicability follows the Act: the obligations each kind of system gets")
struct ApplicabilityTests {
    static let roadmap: Workflow = {
        let file = Resources.workflows.first { $0.name == "eu-ai-act-iso42001.yaml" }!
        return try! WorkflowLoader.load(yaml: file.text, file: file.path).get()
    }()

    static func obligations(_ profile: SystemProfile) -> Set<String> {
        Set(roadmap.tasks.filter { $0.task.trigger == nil && $0.task.appliesTo?.matches(profile) == true }.map(\.task.key))
    }

    /// The exact obligations (roadmap tasks) and serious-incident path of each scenario: reviewed against
    /// the Act article by article (docs/applicability.md has the reasoning); a change here is a change in
    /// what Accord tells an organisation it must do.
    static let expected: [String: (tasks: Set<String>, incident: [String])] = [
        "bank's credit scoring, deployer": (
            [
                "confirm-classification", "deployer-inform-persons", "deployer-inform-workers", "deployer-logs", "deployer-monitoring",
                "deployer-use", "event-logging", "explanation-requests", "fundamental-rights-impact", "impact-assessment", "performance-monitoring",
                "responsible-use", "role-change-check", "system-data", "system-lifecycle", "system-resources", "system-risk-assessment",
                "user-information",
            ],
            ["incident-response", "incident-inform-provider", "incident-deployer-report"]
        ),
        "bought chatbot": (
            [
                "confirm-classification", "event-logging", "impact-assessment", "performance-monitoring", "responsible-use", "system-data",
                "system-lifecycle", "system-resources", "system-risk-assessment", "upstream-model-information", "user-information",
            ],
            ["incident-response"]
        ),
        "closed GPAI model, provider outside the Union": (
            [
                "confirm-classification", "event-logging", "gpai-authorised-representative", "gpai-copyright-summary", "gpai-model-documentation",
                "impact-assessment", "performance-monitoring", "system-data", "system-lifecycle", "system-resources", "system-risk-assessment",
                "user-information",
            ],
            ["incident-response"]
        ),
        "deep fake in marketing, deployer": (
            [
                "confirm-classification", "event-logging", "impact-assessment", "performance-monitoring", "responsible-use", "system-data",
                "system-lifecycle", "system-resources", "system-risk-assessment", "transparency-deep-fake", "user-information",
            ],
            ["incident-response"]
        ),
        "distributor of a high-risk system": (
            ["confirm-classification", "distributor-checks", "impact-assessment", "role-change-check", "system-risk-assessment"],
            ["incident-response"]
        ),
        "exam timetabling claimed exempt, provider": (
            [
                "confirm-classification", "event-logging", "exempt-registration", "exemption-documentation", "impact-assessment",
                "performance-monitoring", "system-data", "system-lifecycle", "system-resources", "system-risk-assessment", "user-information",
            ],
            ["incident-response"]
        ),
        "grid operator's load control, public deployer": (
            [
                "confirm-classification", "deployer-inform-persons", "deployer-inform-workers", "deployer-logs", "deployer-monitoring",
                "deployer-use", "event-logging", "impact-assessment", "performance-monitoring", "responsible-use", "role-change-check", "system-data",
                "system-lifecycle", "system-resources", "system-risk-assessment", "user-information",
            ],
            ["incident-response", "incident-inform-provider", "incident-deployer-report"]
        ),
        "high-risk provider outside the Union, SME": (
            [
                "accessibility-requirements", "accuracy-robustness-security", "authorised-representative", "automatic-logs", "ce-marking",
                "confirm-classification", "conformity-assessment", "data-governance", "declaration-of-conformity", "eu-registration", "event-logging",
                "human-oversight", "impact-assessment", "instructions-for-use", "logging-capability", "market-corrective-actions",
                "performance-monitoring", "post-market-monitoring", "post-market-plan", "provider-identification", "quality-management",
                "risk-management", "risk-reassessment", "system-data", "system-lifecycle", "system-resources", "system-risk-assessment",
                "technical-documentation", "user-information",
            ],
            ["incident-response", "incident-initial-report", "incident-investigation", "incident-complete-report"]
        ),
        "image generator on the market before 2026-08-02": (
            [
                "confirm-classification", "event-logging", "impact-assessment", "legacy-status", "performance-monitoring", "system-data",
                "system-lifecycle", "system-resources", "system-risk-assessment", "transparency-marking", "user-information",
            ],
            ["incident-response"]
        ),
        "importer of a high-risk system": (
            [
                "confirm-classification", "impact-assessment", "importer-checks", "importer-identification", "importer-records", "role-change-check",
                "system-risk-assessment",
            ],
            ["incident-response"]
        ),
        "in-house CV screener": (
            [
                "accessibility-requirements", "accuracy-robustness-security", "automatic-logs", "ce-marking", "confirm-classification",
                "conformity-assessment", "data-governance", "declaration-of-conformity", "deployer-inform-persons", "deployer-inform-workers",
                "deployer-logs", "deployer-monitoring", "deployer-use", "eu-registration", "event-logging", "explanation-requests", "human-oversight",
                "impact-assessment", "instructions-for-use", "logging-capability", "market-corrective-actions", "performance-monitoring",
                "post-market-monitoring", "post-market-plan", "provider-identification", "quality-management", "responsible-use", "risk-management",
                "risk-reassessment", "system-data", "system-lifecycle", "system-resources", "system-risk-assessment", "technical-documentation",
                "user-information",
            ],
            ["incident-response", "incident-initial-report", "incident-investigation", "incident-complete-report"]
        ),
        "legacy HR tool, private deployer": (
            [
                "confirm-classification", "event-logging", "impact-assessment", "legacy-status", "performance-monitoring", "responsible-use",
                "role-change-check", "system-data", "system-lifecycle", "system-resources", "system-risk-assessment", "user-information",
            ],
            ["incident-response"]
        ),
        "legacy police risk tool, public deployer": (
            [
                "confirm-classification", "deployer-inform-persons", "deployer-inform-workers", "deployer-logs", "deployer-monitoring",
                "deployer-use", "event-logging", "explanation-requests", "fundamental-rights-impact", "impact-assessment", "legacy-status",
                "performance-monitoring", "public-use-registration", "responsible-use", "role-change-check", "system-data", "system-lifecycle",
                "system-resources", "system-risk-assessment", "user-information",
            ],
            ["incident-response", "incident-inform-provider", "incident-deployer-report"]
        ),
        "medical device with notified body, provider": (
            [
                "accessibility-requirements", "accuracy-robustness-security", "automatic-logs", "ce-marking", "confirm-classification",
                "conformity-assessment", "data-governance", "declaration-of-conformity", "event-logging", "human-oversight", "impact-assessment",
                "instructions-for-use", "logging-capability", "market-corrective-actions", "performance-monitoring", "post-market-monitoring",
                "post-market-plan", "provider-identification", "quality-management", "risk-management", "risk-reassessment", "system-data",
                "system-lifecycle", "system-resources", "system-risk-assessment", "technical-documentation", "user-information",
            ],
            ["incident-response", "incident-initial-report", "incident-investigation", "incident-complete-report"]
        ),
        "nudify app (new 2026 ban)": (
            [
                "confirm-classification", "event-logging", "impact-assessment", "performance-monitoring", "system-data", "system-lifecycle",
                "system-resources", "system-risk-assessment", "user-information", "withdraw-prohibited",
            ],
            ["incident-response"]
        ),
        "open-weights GPAI model with systemic risk": (
            [
                "confirm-classification", "event-logging", "gpai-copyright-summary", "gpai-model-documentation", "gpai-systemic-notification",
                "gpai-systemic-risk", "impact-assessment", "performance-monitoring", "system-data", "system-lifecycle", "system-resources",
                "system-risk-assessment", "user-information",
            ],
            ["incident-response", "gpai-incident-report"]
        ),
        "open-weights GPAI model, provider outside the Union": (
            [
                "confirm-classification", "event-logging", "gpai-copyright-summary", "impact-assessment", "performance-monitoring", "system-data",
                "system-lifecycle", "system-resources", "system-risk-assessment", "user-information",
            ],
            ["incident-response"]
        ),
        "own customer chatbot": (
            [
                "confirm-classification", "event-logging", "impact-assessment", "performance-monitoring", "responsible-use", "system-data",
                "system-lifecycle", "system-resources", "system-risk-assessment", "transparency-interaction", "upstream-model-information",
                "user-information",
            ],
            ["incident-response"]
        ),
        "public body's recruitment screening, deployer": (
            [
                "confirm-classification", "deployer-inform-persons", "deployer-inform-workers", "deployer-logs", "deployer-monitoring",
                "deployer-use", "event-logging", "explanation-requests", "fundamental-rights-impact", "impact-assessment", "performance-monitoring",
                "public-use-registration", "responsible-use", "role-change-check", "system-data", "system-lifecycle", "system-resources",
                "system-risk-assessment", "user-information",
            ],
            ["incident-response", "incident-inform-provider", "incident-deployer-report"]
        ),
        "spam filter, minimal": (
            [
                "confirm-classification", "event-logging", "impact-assessment", "performance-monitoring", "responsible-use", "system-data",
                "system-lifecycle", "system-resources", "system-risk-assessment", "user-information",
            ],
            ["incident-response"]
        ),
    ]

    @Test("each scenario gets exactly its obligations and its incident path", arguments: scenarios)
    func table(_ scenario: Scenario) throws {
        let want = try #require(Self.expected[scenario.name])
        let got = Self.obligations(scenario.profile)
        #expect(got.subtracting(want.tasks).isEmpty, "\(scenario.name): unexpected \(got.subtracting(want.tasks).sorted())")
        #expect(want.tasks.subtracting(got).isEmpty, "\(scenario.name): missing \(want.tasks.subtracting(got).sorted())")
        let incident = Self.roadmap.triggered(by: .incident).filter { $0.task.appliesTo?.matches(scenario.profile) ?? true }.map(\.task.key)
        #expect(incident == want.incident)
    }

    @Test("the review's errors stay fixed: who gets the FRIA, Art. 50, registration, provider duties, incident paths")
    func reviewErrors() throws {
        let deployerHigh = SystemProfile(roles: [.deployer], route: .annexIII, annexIII: "4(a)")
        // 2: FRIA only for public-service deployers and 5(b)/(c), never for point 2 or Annex I.
        #expect(!Self.obligations(deployerHigh).contains("fundamental-rights-impact"))
        #expect(Self.obligations(SystemProfile(roles: [.deployer], route: .annexIII, annexIII: "5(c)")).contains("fundamental-rights-impact"))
        #expect(!Self.obligations(SystemProfile(roles: [.deployer], route: .annexIII, annexIII: "5(a)")).contains("fundamental-rights-impact"))
        #expect(
            !Self.obligations(
                SystemProfile(roles: [.deployer], route: .annexI, annexIAct: "machinery", thirdPartyAssessment: true, publicService: true)
            )
            .contains("fundamental-rights-impact")
        )
        // 1: Art. 50 applies on top of high risk, and not to importers.
        let highChatbot = SystemProfile(roles: [.provider], route: .annexIII, annexIII: "5(a)", transparency: [.interacts])
        #expect(Self.obligations(highChatbot).isSuperset(of: ["transparency-interaction", "risk-management"]))
        #expect(
            !Self.obligations(SystemProfile(roles: [.importer], transparency: [.interacts, .syntheticContent])).contains {
                $0.hasPrefix("transparency-")
            }
        )
        // 3: no EU-database registration for Annex I products.
        let device = SystemProfile(roles: [.provider], route: .annexI, annexIAct: "MDR", thirdPartyAssessment: true)
        #expect(!Self.obligations(device).contains("eu-registration"))
        // 6, 7: importers and distributors get neither monitoring nor the provider's risk management.
        for role in [OperatorRole.importer, .distributor] {
            let keys = Self.obligations(SystemProfile(roles: [role], route: .annexIII, annexIII: "4(a)"))
            #expect(keys.isDisjoint(with: ["performance-monitoring", "risk-reassessment", "risk-management", "technical-documentation"]))
        }
        // 8: building on a GPAI model brings no Chapter V duty.
        #expect(!Self.obligations(SystemProfile(roles: [.provider], builtOnGPAI: true)).contains { $0.hasPrefix("gpai-") })
        // 15: with no high-risk system, ISO/IEC 42001's per-system work still exists.
        #expect(
            Self.obligations(SystemProfile(roles: [.provider])).isSuperset(of: ["system-risk-assessment", "impact-assessment", "system-lifecycle"])
        )
    }

    @Test("due dates follow the route and Art. 111: Annex I, Annex III, legacy, new bans, legacy GPAI models")
    func datesByRoute() throws {
        func due(_ key: String, _ profile: SystemProfile) -> CalendarDate? {
            DueDates.due(
                Self.roadmap.task(key)?.due,
                programStart: CalendarDate("2026-01-05")!,
                system: profile,
                dates: Self.roadmap.dates
            )
        }
        let annexIII = SystemProfile(roles: [.provider], route: .annexIII, annexIII: "4(a)")
        let annexI = SystemProfile(roles: [.provider], route: .annexI, annexIAct: "MDR", thirdPartyAssessment: true)
        let publicLegacy = SystemProfile(roles: [.provider], route: .annexIII, annexIII: "6(a)", publicService: true, legacy: true)
        #expect(due("conformity-assessment", annexIII) == CalendarDate("2027-12-02")!.adding(days: -60))
        #expect(due("conformity-assessment", annexI) == CalendarDate("2028-08-02")!.adding(days: -60))
        #expect(due("conformity-assessment", publicLegacy) == CalendarDate("2030-08-02")!.adding(days: -60))
        #expect(due("withdraw-prohibited", SystemProfile(roles: [.provider], prohibited: [.intimateImagery])) == CalendarDate("2026-12-02"))
        #expect(due("withdraw-prohibited", SystemProfile(roles: [.provider], prohibited: [.socialScoring])) == CalendarDate("2025-02-02"))
        #expect(
            due("transparency-marking", SystemProfile(roles: [.provider], transparency: [.syntheticContent], legacy: true))
                == CalendarDate("2026-12-02")
        )
        #expect(due("transparency-marking", SystemProfile(roles: [.provider], transparency: [.syntheticContent])) == CalendarDate("2026-08-02"))
        #expect(due("gpai-copyright-summary", SystemProfile(roles: [.provider], gpaiModel: .provider, legacy: true)) == CalendarDate("2027-08-02"))
        #expect(due("gpai-copyright-summary", SystemProfile(roles: [.provider], gpaiModel: .provider)) == CalendarDate("2025-08-02"))
    }

    @Test("a program of minimal-risk systems addresses every Annex A control (the statement of applicability)")
    func minimalCoversAnnexA() {
        let onceRefs = Set(Self.roadmap.tasks.filter { $0.task.trigger == nil && !$0.task.isPerSystem }.flatMap(\.task.refs))
        for profile in [SystemProfile(roles: [.deployer]), SystemProfile(roles: [.provider])] {
            let systemRefs = Set(
                Self.roadmap.tasks.filter { $0.task.trigger == nil && $0.task.appliesTo?.matches(profile) == true }.flatMap(\.task.refs)
            )
            let missing = ReferenceCatalogue.builtIn.annexAControls.map(\.id).filter { !onceRefs.union(systemRefs).contains($0) }
            #expect(missing.isEmpty, "\(profile.summary): \(missing)")
        }
    }

    @Test("the catalogue's own cross-references hold: pairs, clocks, paragraphs, subjects")
    func catalogueConsistent() {
        #expect(ReferenceCatalogue.builtIn.problems().isEmpty)
        #expect(ReferenceCatalogue.builtIn.clock(.death)?.days == 10)
        #expect(ReferenceCatalogue.builtIn.clock(.other)?.days == 15)
        #expect(ReferenceCatalogue.builtIn.clock(.widespread)?.days == 2 && ReferenceCatalogue.builtIn.clock(.criticalInfrastructure)?.days == 2)
        for ref in [
            "ai-act:art-2", "ai-act:art-51", "ai-act:art-52", "ai-act:art-54", "ai-act:art-86", "ai-act:art-111", "ai-act:annex-i",
            "ai-act:annex-viii",
        ] {
            #expect(ReferenceCatalogue.builtIn[ref] != nil, "\(ref)")
        }
        for ref in ["ai-act:art-6", "ai-act:art-23", "ai-act:art-24", "ai-act:annex-iii"] {
            #expect(ReferenceCatalogue.builtIn[ref]?.legalOnly == true, "\(ref)")
        }
    }
}
