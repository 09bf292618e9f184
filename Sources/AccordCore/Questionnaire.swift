import Foundation

/// The AI Act classification questionnaire (`workflows/ai-act-classification.yaml`, format in
/// docs/classification.md): a decision tree whose answers build an AI system's `SystemProfile`. Every
/// question and outcome cites the article, paragraph or annex point it rests on.
public struct Questionnaire: Sendable, Equatable, Codable {
    /// Its id, e.g. `ai-act-classification`.
    public var id: String
    /// Its version; loaded versions are immutable, like workflows'.
    public var version: Int
    /// The law it reads, in words.
    public var law: String
    /// The version of the law's text and dates it follows, e.g. `2026-1744`.
    public var lawVersion: String
    /// Its title.
    public var title: String
    /// What it is for.
    public var description: String
    /// The first question.
    public var start: String
    /// Every question, in file order.
    public var questions: [Question]
    /// Every conclusion an answer can record.
    public var outcomes: [Outcome]

    /// One question of the tree.
    public struct Question: Sendable, Equatable, Codable {
        /// Its id.
        public var id: String
        /// The question.
        public var text: String
        /// A longer explanation, when there is one.
        public var help: String?
        /// What it rests on.
        public var refs: [String]
        /// How it is answered.
        public var kind: Kind
        /// For `several`: at least one option must be chosen.
        public var required: Bool
        /// For `text`: the profile attribute the answer fills.
        public var field: TextField?
        /// The question after it, or `nil` for the end; options of a `one` question may override it.
        public var next: String?
        /// Its options (none for `text`).
        public var options: [Option]

        /// The option with this value.
        public func option(_ value: String) -> Option? { options.first { $0.value == value } }
    }

    /// How a question is answered.
    public enum Kind: String, Sendable, Equatable, Codable, CaseIterable {
        /// Exactly one option.
        case one
        /// Any number of options.
        case several
        /// Free text.
        case text
    }

    /// The text attributes of a profile a `text` question can fill.
    public enum TextField: String, Sendable, Equatable, Codable, CaseIterable {
        /// The Annex I Union harmonisation act.
        case annexIAct = "annex_i_act"
        /// The documented reason for an Art. 6(3) exemption.
        case exemptionReason = "exemption_reason"
    }

    /// One option of a question.
    public struct Option: Sendable, Equatable, Codable {
        /// Its value, as answers carry it.
        public var value: String
        /// What it says.
        public var text: String
        /// What choosing it sets in the profile.
        public var set: [Assignment]
        /// The conclusion it records, if any.
        public var outcome: String?
        /// For `one` questions: the question after it (`nil` for the question's next); `end` is `nil` too.
        public var next: String?
        /// Whether `next` was written as `end`.
        public var ends: Bool
    }

    /// A conclusion, cited.
    public struct Outcome: Sendable, Equatable, Codable {
        /// Its id.
        public var id: String
        /// What it concludes and what follows from it.
        public var text: String
        /// What it rests on.
        public var refs: [String]
    }

    /// The question with this id.
    public func question(_ id: String) -> Question? { questions.first { $0.id == id } }
    /// The outcome with this id.
    public func outcome(_ id: String) -> Outcome? { outcomes.first { $0.id == id } }
}

/// One assignment a questionnaire option makes to a profile, e.g. `roles: provider`.
public enum Assignment: Sendable, Equatable, Codable {
    case role(OperatorRole)
    case route(HighRiskRoute)
    case annexIII(String)
    case thirdPartyAssessment(Bool)
    case prohibited(ProhibitedPractice)
    case transparency(TransparencyCase)
    case gpaiModel(GPAIModelRole)
    case builtOnGPAI(Bool)
    case openSource(Bool)
    case publicService(Bool)
    case outsideUnion(Bool)
    case size(OrganisationSize)
    case legacy(Bool)

    /// The keys `set` takes.
    public static let keys = [
        "roles", "route", "annex_iii", "third_party_assessment", "prohibited", "transparency", "gpai_model", "built_on_gpai",
        "open_source", "public_service", "outside_union", "size", "legacy",
    ]

    /// The assignment `key: value` names, or why there is none.
    static func parse(key: String, value: String) -> Result<Assignment, AssignmentProblem> {
        func choice<T: RawRepresentable & CaseIterable>(_ make: (T) -> Assignment, _ noun: String) -> Result<Assignment, AssignmentProblem>
        where T.RawValue == String {
            if let parsed = T(rawValue: value) { return .success(make(parsed)) }
            let names = T.allCases.map(\.rawValue)
            let hint = closest(to: value, among: names).first.map { "; did you mean '\($0)'?" } ?? "; one of \(names.joined(separator: ", "))"
            return .failure(AssignmentProblem("unknown \(noun) '\(value)'\(hint)"))
        }
        func flag(_ make: (Bool) -> Assignment) -> Result<Assignment, AssignmentProblem> {
            switch value {
            case "true": .success(make(true))
            case "false": .success(make(false))
            default: .failure(AssignmentProblem("\(key) is true or false, not '\(value)'"))
            }
        }
        switch key {
        case "roles": return choice(Assignment.role, "operator role")
        case "route": return choice(Assignment.route, "high-risk route")
        case "annex_iii":
            return AnnexIII.isPoint(value)
                ? .success(Assignment.annexIII(value))
                : .failure(AssignmentProblem("'\(value)' is not an Annex III point; write \"2\" or an area and sub-point as in \"5(b)\""))
        case "third_party_assessment": return flag(Assignment.thirdPartyAssessment)
        case "prohibited": return choice(Assignment.prohibited, "Art. 5 practice")
        case "transparency": return choice(Assignment.transparency, "Art. 50 case")
        case "gpai_model": return choice(Assignment.gpaiModel, "GPAI model role")
        case "built_on_gpai": return flag(Assignment.builtOnGPAI)
        case "open_source": return flag(Assignment.openSource)
        case "public_service": return flag(Assignment.publicService)
        case "outside_union": return flag(Assignment.outsideUnion)
        case "size": return choice(Assignment.size, "organisation size")
        case "legacy": return flag(Assignment.legacy)
        default:
            let hint = closest(to: key, among: keys).first.map { "; did you mean '\($0)'?" } ?? ""
            return .failure(AssignmentProblem("unknown attribute '\(key)' in set\(hint)"))
        }
    }

    /// The attribute and value as the questionnaire writes them, e.g. ("roles", "provider").
    public var pair: (key: String, value: String) {
        switch self {
        case .role(let role): ("roles", role.rawValue)
        case .route(let route): ("route", route.rawValue)
        case .annexIII(let point): ("annex_iii", point)
        case .thirdPartyAssessment(let value): ("third_party_assessment", String(value))
        case .prohibited(let practice): ("prohibited", practice.rawValue)
        case .transparency(let kind): ("transparency", kind.rawValue)
        case .gpaiModel(let role): ("gpai_model", role.rawValue)
        case .builtOnGPAI(let value): ("built_on_gpai", String(value))
        case .openSource(let value): ("open_source", String(value))
        case .publicService(let value): ("public_service", String(value))
        case .outsideUnion(let value): ("outside_union", String(value))
        case .size(let size): ("size", size.rawValue)
        case .legacy(let value): ("legacy", String(value))
        }
    }

    /// Written as the questionnaire writes it: `{"attribute": "value"}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode([pair.key: pair.value])
    }

    /// Read from `{"attribute": "value"}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let object = try container.decode([String: String].self)
        guard object.count == 1, let (key, value) = object.first else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "an assignment is one attribute: value pair")
        }
        switch Self.parse(key: key, value: value) {
        case .success(let assignment): self = assignment
        case .failure(let problem): throw DecodingError.dataCorruptedError(in: container, debugDescription: problem.message)
        }
    }

    func apply(to profile: inout SystemProfile) {
        switch self {
        case .role(let role):
            if !profile.roles.contains(role) { profile.roles = OperatorRole.allCases.filter { profile.roles.contains($0) || $0 == role } }
        case .route(let route): profile.route = route
        case .annexIII(let point): profile.annexIII = point
        case .thirdPartyAssessment(let value): profile.thirdPartyAssessment = value
        case .prohibited(let practice):
            profile.prohibited = ProhibitedPractice.allCases.filter { profile.prohibited.contains($0) || $0 == practice }
        case .transparency(let kind):
            profile.transparency = TransparencyCase.allCases.filter { profile.transparency.contains($0) || $0 == kind }
        case .gpaiModel(let role): profile.gpaiModel = role
        case .builtOnGPAI(let value): profile.builtOnGPAI = value
        case .openSource(let value): profile.openSource = value
        case .publicService(let value): profile.publicService = value
        case .outsideUnion(let value): profile.outsideUnion = value
        case .size(let size): profile.size = size
        case .legacy(let value): profile.legacy = value
        }
    }
}

/// Why a `set` entry names no assignment.
public struct AssignmentProblem: Error, Sendable {
    /// What is wrong, with a did-you-mean where one helps.
    public var message: String
    init(_ message: String) { self.message = message }
}

/// One answer: the chosen option of a `one` question, the chosen options of a `several` one, or text.
public enum Answer: Sendable, Equatable, Codable {
    case choice(String)
    case choices([String])
    case text(String)

    /// Reads a list of values as `choices` and a single value as text (the walk reads it as a choice where one is asked).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let list = try? container.decode([String].self) {
            self = .choices(list)
        } else {
            self = .text(try container.decode(String.self))
        }
    }

    /// Writes a value, or a list of values for `choices`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .choice(let value), .text(let value): try container.encode(value)
        case .choices(let values): try container.encode(values)
        }
    }

    /// The answer as words, e.g. "provider, deployer".
    public var summary: String {
        switch self {
        case .choice(let value), .text(let value): value
        case .choices(let values): values.isEmpty ? "none" : values.joined(separator: ", ")
        }
    }
}

/// A walk of the questionnaire over some answers: the questions on the path with their answers, the
/// outcomes reached, and either the next question to answer or the finished profile.
public struct ClassificationWalk: Sendable, Equatable, Codable {
    /// One answered question on the path.
    public struct Step: Sendable, Equatable, Codable {
        /// The question's id.
        public var question: String
        /// The question.
        public var text: String
        /// What it rests on.
        public var refs: [String]
        /// The answer given.
        public var answer: Answer
        /// The chosen options' texts (the answer itself for text).
        public var answerText: [String]
    }

    /// The answered questions on the path, in order.
    public var steps: [Step]
    /// The outcomes the answers recorded, in order.
    public var outcomes: [Questionnaire.Outcome]
    /// The first question on the path still unanswered; `nil` when the walk reached the end.
    public var next: String?
    /// Problems with the answers on the path (an unknown option, a missing required choice), by question id.
    public var problems: [String: String]
    /// The profile the answers build (complete only when `next` is `nil` and there are no problems).
    public var profile: SystemProfile

    /// Whether the walk reached the end with no problems.
    public var isComplete: Bool { next == nil && problems.isEmpty }

    /// The answers on the path only, as stored.
    public var answers: [String: Answer] { Dictionary(uniqueKeysWithValues: steps.map { ($0.question, $0.answer) }) }
}

extension Questionnaire {
    /// Walks the tree from `start` over `answers`. Answers to questions not on the path are ignored; the
    /// walk stops at the first question unanswered or answered wrongly. A `one` answer may come as a
    /// one-element list, a `several` one as a single value.
    public func walk(_ answers: [String: Answer]) -> ClassificationWalk {
        var walk = ClassificationWalk(steps: [], outcomes: [], next: nil, problems: [:], profile: SystemProfile(roles: []))
        var current: String? = start
        var visited: Set<String> = []
        while let id = current, let question = question(id), visited.insert(id).inserted {
            guard let given = answers[id] else {
                walk.next = id
                return walk
            }
            var chosen: [Option] = []
            switch (question.kind, given) {
            case (.text, .text(let text)), (.text, .choice(let text)):
                let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !text.isEmpty else {
                    walk.problems[id] = "write an answer"
                    walk.next = id
                    return walk
                }
                switch question.field {
                case .annexIAct: walk.profile.annexIAct = text
                case .exemptionReason: walk.profile.exemptionReason = text
                case nil: break
                }
                walk.steps.append(.init(question: id, text: question.text, refs: question.refs, answer: .text(text), answerText: [text]))
                current = question.next
                continue
            case (.text, .choices):
                walk.problems[id] = "write one answer"
            case (.one, .choice(let value)), (.one, .text(let value)):
                if let option = question.option(value) { chosen = [option] } else { walk.problems[id] = Self.unknown(value, in: question) }
            case (.one, .choices(let values)):
                if values.count != 1 {
                    walk.problems[id] = "choose one option"
                } else if let option = question.option(values[0]) {
                    chosen = [option]
                } else {
                    walk.problems[id] = Self.unknown(values[0], in: question)
                }
            case (.several, .choices(let values)):
                chosen = values.compactMap(question.option)
                if let bad = values.first(where: { question.option($0) == nil }) { walk.problems[id] = Self.unknown(bad, in: question) }
            case (.several, .choice(let value)), (.several, .text(let value)):
                if let option = question.option(value) { chosen = [option] } else { walk.problems[id] = Self.unknown(value, in: question) }
            }
            if question.kind == .several, question.required, chosen.isEmpty, walk.problems[id] == nil {
                walk.problems[id] = "choose at least one option"
            }
            if walk.problems[id] != nil {
                walk.next = id
                return walk
            }
            for option in chosen {
                for assignment in option.set { assignment.apply(to: &walk.profile) }
                if let outcome = option.outcome.flatMap(outcome), !walk.outcomes.contains(outcome) { walk.outcomes.append(outcome) }
            }
            let answer: Answer = question.kind == .one ? .choice(chosen[0].value) : .choices(chosen.map(\.value))
            walk.steps.append(.init(question: id, text: question.text, refs: question.refs, answer: answer, answerText: chosen.map(\.text)))
            if question.kind == .one, let option = chosen.first, option.ends || option.next != nil {
                current = option.next
            } else {
                current = question.next
            }
        }
        if walk.next == nil, let missing = Self.incomplete(walk.profile) { walk.problems["end"] = missing }
        return walk
    }

    /// Why a finished walk's profile cannot be recorded, if it cannot.
    static func incomplete(_ profile: SystemProfile) -> String? {
        if profile.roles.isEmpty { return "the answers give the organisation no role for the system" }
        if profile.route == .annexI, profile.annexIAct == nil { return "an Annex I product needs its Union harmonisation act" }
        if profile.route == .annexIII || profile.route == .exempt, profile.annexIII == nil { return "an Annex III system needs its point" }
        if profile.route == .exempt, profile.exemptionReason == nil { return "an Art. 6(3) exemption needs its documented reason (Art. 6(4))" }
        return nil
    }

    static func unknown(_ value: String, in question: Question) -> String {
        "'\(value)' is not an option; one of \(question.options.map(\.value).joined(separator: ", "))"
    }
}
