public import AccordCore
import AccordStore

/// How a scenario answers the built-in classification questionnaire (`workflows/ai-act-classification.yaml`).
public enum HighRiskAnswer: Sendable {
    /// Not an Annex I product and no Annex III area.
    case none
    /// An Annex I product under `act`, with or without third-party conformity assessment.
    case annexI(act: String, thirdParty: Bool)
    /// Annex III at this point ("4(a)", "5(b)", "2"), profiling natural persons or not.
    case annexIII(String, profiling: Bool = true)
    /// Annex III at this point, with the Art. 6(3) exemption claimed for this reason.
    case exempt(String, reason: String)
}

/// The GPAI answer of a scenario.
public enum GPAIAnswer: Sendable {
    case none, builtOn
    case model(systemic: Bool, openSource: Bool)
}

/// The answers that walk the built-in questionnaire to a scenario's profile.
public func classificationAnswers(
    roles: [String] = ["provider"],
    prohibited: [String] = [],
    highRisk: HighRiskAnswer = .none,
    valueChain: [String] = [],
    transparency: [String] = [],
    gpai: GPAIAnswer = .none,
    outsideUnion: Bool = false,
    publicService: Bool = false,
    size: String = "large",
    legacy: Bool = false
) -> [String: Answer] {
    var answers: [String: Answer] = [
        "roles": .choices(roles), "is-ai-system": .choice("yes"), "scope-exclusions": .choice("none"),
        "prohibited": .choices(prohibited.isEmpty ? ["none"] : prohibited), "transparency": .choices(transparency.isEmpty ? ["none"] : transparency),
        "outside-union": .choice(outsideUnion ? "yes" : "no"),
        "public-service": .choice(publicService ? "yes" : "no"), "size": .choice(size), "legacy": .choice(legacy ? "yes" : "no"),
        "value-chain": .choices(valueChain.isEmpty ? ["none"] : valueChain),
    ]
    let areas = [
        1: "biometrics", 2: "critical-infrastructure", 3: "education", 4: "employment", 5: "essential-services", 6: "law-enforcement",
        7: "migration", 8: "justice-democracy",
    ]
    func annexIII(_ point: String) {
        let area = Int(point.prefix { $0.isNumber }) ?? 0
        answers["annex-iii-area"] = .choice(areas[area] ?? "none")
        guard area != 2, let question = Store.questionnaires["ai-act-classification"]?.question("annex-iii-\(area)") else { return }
        // The sub-point's option is the one that sets it.
        if let option = question.options.first(where: { $0.set.contains(.annexIII(point)) }) { answers["annex-iii-\(area)"] = .choice(option.value) }
    }
    switch highRisk {
    case .none:
        answers["annex-i-product"] = .choice("no")
        answers["annex-iii-area"] = .choice("none")
    case .annexI(let act, let thirdParty):
        answers["annex-i-product"] = .choice("yes")
        answers["annex-i-act"] = .text(act)
        answers["annex-i-third-party"] = .choice(thirdParty ? "yes" : "no")
        if !thirdParty { answers["annex-iii-area"] = .choice("none") }
    case .annexIII(let point, let profiling):
        answers["annex-i-product"] = .choice("no")
        annexIII(point)
        answers["profiling"] = .choice(profiling ? "yes" : "no")
        answers["exemption"] = .choice("no")
    case .exempt(let point, let reason):
        answers["annex-i-product"] = .choice("no")
        annexIII(point)
        answers["profiling"] = .choice("no")
        answers["exemption"] = .choice("narrow-procedural-task")
        answers["exemption-reason"] = .text(reason)
    }
    switch gpai {
    case .none: answers["gpai-model"] = .choice("none")
    case .builtOn: answers["gpai-model"] = .choice("built-on")
    case .model(let systemic, let openSource):
        answers["gpai-model"] = .choice("provides-model")
        answers["gpai-systemic"] = .choice(systemic ? "yes" : "no")
        answers["gpai-open-source"] = .choice(openSource ? "yes" : "no")
    }
    return answers
}

/// The answers for a deployer of an Annex III system at `point` (e.g. a bank's credit scoring, "5(b)").
public func classificationAnswers(deployerOf point: String, publicService: Bool = false) throws -> [String: Answer] {
    classificationAnswers(roles: ["deployer"], highRisk: .annexIII(point), publicService: publicService)
}
