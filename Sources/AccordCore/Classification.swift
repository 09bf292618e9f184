/// What the AI Act turns on for one AI system: the organisation's roles for it, its high-risk route,
/// its Art. 50 cases, the Art. 5 screening, general-purpose AI, and the attributes that scope duties.
/// Written by the classification questionnaire (`workflows/ai-act-classification.yaml`) and read by
/// `applies_to` (docs/applicability.md says which duty each attribute brings).
public struct SystemProfile: Codable, Sendable, Equatable {
    /// Every role the organisation holds for the system (Art. 3(3)–(7)); an in-house system is provider and deployer.
    public var roles: [OperatorRole]
    /// How the system is high-risk, if it is (Art. 6).
    public var route: HighRiskRoute
    /// Annex I route: the Union harmonisation act of Annex I the product falls under (e.g. "Regulation (EU) 2017/745").
    public var annexIAct: String?
    /// Annex I route: whether that act requires a third-party conformity assessment of the product (Art. 6(1)(b)).
    public var thirdPartyAssessment: Bool
    /// Annex III route (or the point an Art. 6(3) exemption is claimed for): the point and sub-point, e.g. "4(a)", "5(b)", "2".
    public var annexIII: String?
    /// Art. 6(3) exemption claimed: the documented reason (Art. 6(4)).
    public var exemptionReason: String?
    /// The Art. 5 practices the screening found; empty when none.
    public var prohibited: [ProhibitedPractice]
    /// The Art. 50 cases that apply, whatever the risk class (Art. 50(6)).
    public var transparency: [TransparencyCase]
    /// Whether the organisation provides a general-purpose AI model itself (Art. 3(63), Chapter V).
    public var gpaiModel: GPAIModelRole
    /// Whether the system is built on a general-purpose AI model someone else provides (Art. 3(66)).
    public var builtOnGPAI: Bool
    /// The model is released under a free and open-source licence with public weights (Art. 53(2), 54(6)).
    public var openSource: Bool
    /// The deployer is a body governed by public law or a private entity providing public services (Art. 27(1), 49(3), 26(8)).
    public var publicService: Bool
    /// The provider is established outside the Union (Art. 22, 54).
    public var outsideUnion: Bool
    /// The organisation's size, for the relief the Act gives SMEs and small mid-caps (Art. 11(1), 17(2), 63, 99(6)).
    public var size: OrganisationSize
    /// Placed on the market or put into service before its obligations applied and not significantly changed since (Art. 111).
    public var legacy: Bool

    // Stored (jsonb) and exchanged (API, pack) with the vocabulary of `applies_to`.
    enum CodingKeys: String, CodingKey {
        case roles, route, prohibited, transparency, size, legacy
        case annexIAct = "annex_i_act"
        case thirdPartyAssessment = "third_party_assessment"
        case annexIII = "annex_iii"
        case exemptionReason = "exemption_reason"
        case gpaiModel = "gpai_model"
        case builtOnGPAI = "built_on_gpai"
        case openSource = "open_source"
        case publicService = "public_service"
        case outsideUnion = "outside_union"
    }

    /// Reads a stored profile; attributes it lacks (a profile written before they existed) take the "nothing applies" value.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            roles: try c.decode([OperatorRole].self, forKey: .roles),
            route: try c.decodeIfPresent(HighRiskRoute.self, forKey: .route) ?? .none,
            annexIAct: try c.decodeIfPresent(String.self, forKey: .annexIAct),
            thirdPartyAssessment: try c.decodeIfPresent(Bool.self, forKey: .thirdPartyAssessment) ?? false,
            annexIII: try c.decodeIfPresent(String.self, forKey: .annexIII),
            exemptionReason: try c.decodeIfPresent(String.self, forKey: .exemptionReason),
            prohibited: try c.decodeIfPresent([ProhibitedPractice].self, forKey: .prohibited) ?? [],
            transparency: try c.decodeIfPresent([TransparencyCase].self, forKey: .transparency) ?? [],
            gpaiModel: try c.decodeIfPresent(GPAIModelRole.self, forKey: .gpaiModel) ?? .none,
            builtOnGPAI: try c.decodeIfPresent(Bool.self, forKey: .builtOnGPAI) ?? false,
            openSource: try c.decodeIfPresent(Bool.self, forKey: .openSource) ?? false,
            publicService: try c.decodeIfPresent(Bool.self, forKey: .publicService) ?? false,
            outsideUnion: try c.decodeIfPresent(Bool.self, forKey: .outsideUnion) ?? false,
            size: try c.decodeIfPresent(OrganisationSize.self, forKey: .size) ?? .large,
            legacy: try c.decodeIfPresent(Bool.self, forKey: .legacy) ?? false
        )
    }

    /// A profile; every attribute not given is the "nothing applies" value.
    public init(
        roles: [OperatorRole],
        route: HighRiskRoute = .none,
        annexIAct: String? = nil,
        thirdPartyAssessment: Bool = false,
        annexIII: String? = nil,
        exemptionReason: String? = nil,
        prohibited: [ProhibitedPractice] = [],
        transparency: [TransparencyCase] = [],
        gpaiModel: GPAIModelRole = .none,
        builtOnGPAI: Bool = false,
        openSource: Bool = false,
        publicService: Bool = false,
        outsideUnion: Bool = false,
        size: OrganisationSize = .large,
        legacy: Bool = false
    ) {
        self.roles = OperatorRole.allCases.filter(roles.contains)
        self.route = route
        self.annexIAct = annexIAct
        self.thirdPartyAssessment = thirdPartyAssessment
        self.annexIII = annexIII
        self.exemptionReason = exemptionReason
        self.prohibited = ProhibitedPractice.allCases.filter(prohibited.contains)
        self.transparency = TransparencyCase.allCases.filter(transparency.contains)
        self.gpaiModel = gpaiModel
        self.builtOnGPAI = builtOnGPAI
        self.openSource = openSource
        self.publicService = publicService
        self.outsideUnion = outsideUnion
        self.size = size
        self.legacy = legacy
    }

    /// The profile an inventory row's preliminary flags give (before the questionnaire is walked): one
    /// role; high risk with an Annex III area is that point, high without one Annex III unspecified;
    /// limited risk is taken as "interacts with people"; the GPAI flag means built on a GPAI model.
    public init(operatorRole: OperatorRole, riskClass: RiskClass, gpai: Bool = false, annexIII: Int? = nil) {
        self.init(
            roles: [operatorRole],
            route: riskClass == .high ? .annexIII : .none,
            annexIII: riskClass == .high ? annexIII.map(String.init) : nil,
            prohibited: riskClass == .prohibited ? [.unspecified] : [],
            transparency: riskClass == .limited ? [.interacts] : [],
            builtOnGPAI: gpai
        )
    }

    /// The one-word class reports and lists show: prohibited, high, limited (an Art. 50 case) or minimal.
    public var riskClass: RiskClass {
        if !prohibited.isEmpty { return .prohibited }
        if route == .annexI || route == .annexIII { return .high }
        if !transparency.isEmpty { return .limited }
        return .minimal
    }

    /// The first of its roles in the order provider, deployer, importer, distributor.
    public var primaryRole: OperatorRole { roles.first ?? .deployer }

    /// Whether general-purpose AI is involved at all: a model it provides, or one it is built on.
    public var gpai: Bool { gpaiModel != .none || builtOnGPAI }

    /// The Annex III area (1 to 8) of `annexIII`.
    public var annexIIIArea: Int? { annexIII.flatMap { Int($0.prefix { $0.isNumber }) } }

    /// The profile in words, e.g. "provider and deployer; high-risk, Annex III 4(a); Art. 50: interacts".
    public var summary: String {
        var parts = [roles.map(\.rawValue).joined(separator: " and ")]
        switch route {
        case .none: parts.append(riskClass == .prohibited ? "prohibited practice" : "not high-risk")
        case .annexI: parts.append("high-risk, Annex I product" + (annexIAct.map { " (\($0))" } ?? ""))
        case .annexIII: parts.append("high-risk, Annex III" + (annexIII.map { " point \($0)" } ?? ""))
        case .exempt: parts.append("Art. 6(3) exemption claimed" + (annexIII.map { " for Annex III point \($0)" } ?? ""))
        }
        if !prohibited.isEmpty { parts.append("Art. 5: " + prohibited.map(\.rawValue).joined(separator: ", ")) }
        if !transparency.isEmpty { parts.append("Art. 50: " + transparency.map(\.rawValue).joined(separator: ", ")) }
        switch gpaiModel {
        case .none: if builtOnGPAI { parts.append("built on a GPAI model") }
        case .provider: parts.append("GPAI model provider")
        case .systemic: parts.append("GPAI model with systemic risk")
        }
        if publicService { parts.append("public-service deployer") }
        if outsideUnion { parts.append("provider outside the Union") }
        if size != .large { parts.append(size.rawValue) }
        if legacy { parts.append("on the market before its date (Art. 111)") }
        return parts.joined(separator: "; ")
    }
}

/// The organisation's role for an AI system (AI Act Art. 3).
public enum OperatorRole: String, Codable, Sendable, CaseIterable {
    case provider, deployer, importer, distributor
}

/// An AI system's risk class under the AI Act, as one word (derived from the profile).
public enum RiskClass: String, Codable, Sendable, CaseIterable {
    case prohibited, high, limited, minimal
}

/// How a system is high-risk under Art. 6.
public enum HighRiskRoute: String, Codable, Sendable, CaseIterable {
    /// Not high-risk.
    case none
    /// A safety component of, or itself, a product under Annex I legislation needing third-party assessment (Art. 6(1)).
    case annexI = "annex-i"
    /// Listed in Annex III (Art. 6(2)).
    case annexIII = "annex-iii"
    /// Listed in Annex III but claimed not high-risk under Art. 6(3), documented under Art. 6(4).
    case exempt
}

/// The practices Art. 5(1) prohibits, with the two added by Regulation (EU) 2026/1744 (from 2026-12-02).
public enum ProhibitedPractice: String, Codable, Sendable, CaseIterable {
    /// 5(1)(a): subliminal, manipulative or deceptive techniques causing significant harm.
    case manipulation
    /// 5(1)(b): exploiting vulnerabilities of age, disability or social or economic situation.
    case exploitation
    /// 5(1)(ba), added by 2026/1744: generating non-consensual intimate imagery of identifiable people.
    case intimateImagery = "intimate-imagery"
    /// 5(1)(bb), added by 2026/1744: generating child sexual abuse material.
    case childAbuseMaterial = "child-abuse-material"
    /// 5(1)(c): social scoring leading to unjustified detrimental treatment.
    case socialScoring = "social-scoring"
    /// 5(1)(d): predicting criminal offences from profiling alone.
    case predictivePolicing = "predictive-policing"
    /// 5(1)(e): untargeted scraping of facial images to build recognition databases.
    case faceScraping = "face-scraping"
    /// 5(1)(f): emotion recognition at work or in education, outside medical or safety reasons.
    case emotionAtWork = "emotion-at-work"
    /// 5(1)(g): biometric categorisation inferring sensitive characteristics.
    case sensitiveCategorisation = "sensitive-categorisation"
    /// 5(1)(h): real-time remote biometric identification in public spaces for law enforcement.
    case realTimeIdentification = "real-time-identification"
    /// Recorded as prohibited before the screening named the practice (an inventory flag).
    case unspecified

    /// Whether the ban applies only from 2026-12-02 (added by Regulation (EU) 2026/1744).
    public var addedIn2026: Bool { self == .intimateImagery || self == .childAbuseMaterial }
}

/// The cases of Art. 50, each with whose duty it is.
public enum TransparencyCase: String, Codable, Sendable, CaseIterable {
    /// 50(1), provider: the system interacts directly with natural persons.
    case interacts
    /// 50(2), provider: the system generates synthetic audio, image, video or text.
    case syntheticContent = "synthetic-content"
    /// 50(3), deployer: emotion recognition or biometric categorisation.
    case emotionOrBiometric = "emotion-or-biometric"
    /// 50(4) first subparagraph, deployer: deep fakes.
    case deepFake = "deep-fake"
    /// 50(4) second subparagraph, deployer: text published to inform the public on matters of public interest.
    case publicInterestText = "public-interest-text"
}

/// Whether the organisation provides a general-purpose AI model.
public enum GPAIModelRole: String, Codable, Sendable, CaseIterable {
    /// It provides none (it may still build on one).
    case none
    /// It provides a general-purpose AI model (Art. 53).
    case provider
    /// It provides a general-purpose AI model with systemic risk (Art. 51, 55).
    case systemic
}

/// The organisation's size, for the relief the Act gives.
public enum OrganisationSize: String, Codable, Sendable, CaseIterable {
    /// Neither an SME nor a small mid-cap.
    case large
    /// A micro, small or medium-sized enterprise (Recommendation 2003/361/EC).
    case sme
    /// A small mid-cap, given the SME relief by Regulation (EU) 2026/1744.
    case smc
}

/// The AI systems a per-system task applies to: every condition given must hold; a missing condition holds
/// for any system. Lists match when the system has any of their values. `any` needs one of its branches
/// to hold, `not` that its conditions do not all hold.
public struct Applicability: Codable, Sendable, Equatable {
    /// The organisation's roles for the system, any of which matches.
    public var operatorRoles: [OperatorRole]?
    /// The derived risk classes, any of which matches.
    public var riskClasses: [RiskClass]?
    /// The high-risk routes, any of which matches.
    public var routes: [HighRiskRoute]?
    /// Annex III points: "5" matches every sub-point of 5, "5(b)" only that one.
    public var annexIII: [String]?
    /// Whether Annex I legislation requires third-party conformity assessment.
    public var thirdPartyAssessment: Bool?
    /// Art. 50 cases, any of which matches.
    public var transparency: [TransparencyCase]?
    /// Art. 5 practices, any of which matches.
    public var prohibited: [ProhibitedPractice]?
    /// GPAI model roles, any of which matches.
    public var gpaiModel: [GPAIModelRole]?
    /// Whether the system is built on someone else's GPAI model.
    public var builtOnGPAI: Bool?
    /// Whether the model is open source with public weights.
    public var openSource: Bool?
    /// Whether the deployer is a public body or provides public services.
    public var publicService: Bool?
    /// Whether the provider is established outside the Union.
    public var outsideUnion: Bool?
    /// Organisation sizes, any of which matches.
    public var size: [OrganisationSize]?
    /// Whether the system is a legacy system under Art. 111.
    public var legacy: Bool?
    /// When set, whether general-purpose AI is involved at all (a model provided or built on).
    public var gpai: Bool?
    /// Branches, one of which must hold.
    public var any: [Applicability]?
    /// Conditions that must not all hold.
    public indirect enum Negation: Codable, Sendable, Equatable { case not(Applicability) }
    /// The excluded case.
    public var not: Negation?

    /// Creates the conditions; with none given, every system matches.
    public init(
        operatorRoles: [OperatorRole]? = nil,
        riskClasses: [RiskClass]? = nil,
        routes: [HighRiskRoute]? = nil,
        annexIII: [String]? = nil,
        thirdPartyAssessment: Bool? = nil,
        transparency: [TransparencyCase]? = nil,
        prohibited: [ProhibitedPractice]? = nil,
        gpaiModel: [GPAIModelRole]? = nil,
        builtOnGPAI: Bool? = nil,
        openSource: Bool? = nil,
        publicService: Bool? = nil,
        outsideUnion: Bool? = nil,
        size: [OrganisationSize]? = nil,
        legacy: Bool? = nil,
        gpai: Bool? = nil,
        any: [Applicability]? = nil,
        not: Applicability? = nil
    ) {
        self.operatorRoles = operatorRoles
        self.riskClasses = riskClasses
        self.routes = routes
        self.annexIII = annexIII
        self.thirdPartyAssessment = thirdPartyAssessment
        self.transparency = transparency
        self.prohibited = prohibited
        self.gpaiModel = gpaiModel
        self.builtOnGPAI = builtOnGPAI
        self.openSource = openSource
        self.publicService = publicService
        self.outsideUnion = outsideUnion
        self.size = size
        self.legacy = legacy
        self.gpai = gpai
        self.any = any
        self.not = not.map(Negation.not)
    }

    /// The excluded conditions, when there are some.
    public var excluded: Applicability? {
        guard case .not(let inner) = not else { return nil }
        return inner
    }

    /// The conditions in words, e.g. "provider, annex-iii, not (annex III 2)".
    public var summary: String {
        var parts: [String] = []
        func list<T: RawRepresentable>(_ values: [T]?, _ label: String) where T.RawValue == String {
            if let values { parts.append((label.isEmpty ? "" : label + " ") + values.map(\.rawValue).joined(separator: "/")) }
        }
        func flag(_ value: Bool?, _ label: String) {
            if let value { parts.append(value ? label : "not \(label)") }
        }
        list(operatorRoles, "")
        if let risks = riskClasses { parts.append(risks.map(\.rawValue).joined(separator: "/") + " risk") }
        list(routes, "route")
        if let points = annexIII { parts.append("Annex III " + points.joined(separator: "/")) }
        flag(thirdPartyAssessment, "third-party assessment")
        list(transparency, "Art. 50")
        list(prohibited, "Art. 5")
        list(gpaiModel, "GPAI model")
        flag(builtOnGPAI, "built on GPAI")
        flag(openSource, "open source")
        flag(publicService, "public-service deployer")
        flag(outsideUnion, "outside the Union")
        list(size, "size")
        flag(legacy, "legacy (Art. 111)")
        flag(gpai, "GPAI")
        if let any { parts.append("any of (" + any.map(\.summary).joined(separator: " | ") + ")") }
        if let excluded { parts.append("not (" + excluded.summary + ")") }
        return parts.isEmpty ? "every system" : parts.joined(separator: ", ")
    }

    /// Whether a system with this profile is in scope.
    public func matches(_ system: SystemProfile) -> Bool {
        func some<T: Equatable>(_ wanted: [T]?, _ held: [T]) -> Bool { wanted.map { $0.contains(where: held.contains) } ?? true }
        func same<T: Equatable>(_ wanted: T?, _ held: T) -> Bool { wanted.map { $0 == held } ?? true }
        guard some(operatorRoles, system.roles),
            some(riskClasses, [system.riskClass]),
            some(routes, [system.route]),
            same(thirdPartyAssessment, system.thirdPartyAssessment),
            some(transparency, system.transparency),
            some(prohibited, system.prohibited),
            some(gpaiModel, [system.gpaiModel]),
            same(builtOnGPAI, system.builtOnGPAI),
            same(openSource, system.openSource),
            same(publicService, system.publicService),
            same(outsideUnion, system.outsideUnion),
            some(size, [system.size]),
            same(legacy, system.legacy),
            same(gpai, system.gpai)
        else { return false }
        if let points = annexIII {
            guard let held = system.annexIII, points.contains(where: { Self.point(held, isWithin: $0) }) else { return false }
        }
        if let any, !any.contains(where: { $0.matches(system) }) { return false }
        if let excluded, excluded.matches(system) { return false }
        return true
    }

    /// Whether Annex III point `held` ("5(b)") is `wanted` ("5(b)") or within it ("5").
    static func point(_ held: String, isWithin wanted: String) -> Bool {
        held == wanted || (!wanted.contains("(") && held.hasPrefix(wanted + "("))
    }
}

/// The points of Annex III: eight areas, most with lettered sub-points.
public enum AnnexIII {
    /// The last sub-point letter of each area (area 2, critical infrastructure, has none).
    public static let subPoints: [Int: Character?] = [1: "c", 2: nil, 3: "d", 4: "b", 5: "d", 6: "e", 7: "d", 8: "b"]

    /// Whether `text` names an area ("5") or an area and sub-point ("5(b)").
    public static func isPoint(_ text: String) -> Bool {
        let area = Int(text.prefix { $0.isNumber })
        guard let area, let last = subPoints[area] else { return false }
        let rest = text.drop { $0.isNumber }
        if rest.isEmpty { return true }
        guard let last, rest.count == 3, rest.first == "(", rest.last == ")", let letter = rest.dropFirst().first else { return false }
        return letter >= "a" && letter <= last
    }
}
