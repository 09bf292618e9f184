import AccordResources
import Yams

/// One entry of the regulatory reference: an ISO/IEC 42001 clause or control, an AI Act article or annex.
public struct Reference: Codable, Sendable, Equatable {
    /// The id workflows use, e.g. `iso42001:A.6.2.8`, `ai-act:art-73`.
    public var id: String
    /// `clause`, `control`, `article` or `annex`.
    public var kind: String
    /// The official title.
    public var title: String
    /// An AI Act obligation ISO/IEC 42001 does not cover.
    public var legalOnly: Bool
    /// Why it is a gap, when it is one.
    public var gap: String?
    /// For a paragraph (`ai-act:art-26(5)`): the article it belongs to.
    public var parent: String?
    /// For an AI Act obligation: the AI systems it binds, in the `applies_to` vocabulary (the crosswalk
    /// report lists a system subject to it that no task addresses).
    public var subject: Applicability? = nil

    /// An entry; `subject` is the built-in catalogue's alone.
    public init(id: String, kind: String, title: String, legalOnly: Bool, gap: String?, parent: String?, subject: Applicability? = nil) {
        self.id = id
        self.kind = kind
        self.title = title
        self.legalOnly = legalOnly
        self.gap = gap
        self.parent = parent
        self.subject = subject
    }

    /// The article a ref counts under in roll-ups: a paragraph's parent, else itself.
    public var article: String { parent ?? id }

    /// `iso42001` or `ai-act`.
    public var framework: String { String(id.prefix { $0 != ":" }) }
}

/// One pair of the crosswalk: an AI Act article or paragraph and an ISO/IEC 42001 clause or control that
/// supports it, with how far it does.
public struct CrosswalkPair: Codable, Sendable, Equatable {
    /// How far the ISO/IEC 42001 requirement goes towards the Act's.
    public enum Coverage: String, Codable, Sendable, CaseIterable {
        /// Meeting the ISO requirement meets the Act's duty as far as a management system can.
        case full
        /// It supports the duty; the Act asks for more.
        case partial
    }
    /// The AI Act article or paragraph ref.
    public var article: String
    /// The ISO/IEC 42001 clause or control ref.
    public var iso: String
    /// How far it covers the article.
    public var coverage: Coverage
    /// Why, in one line.
    public var rationale: String
}

/// An Art. 73 notification clock, as data: the days from awareness within which a provider of a high-risk
/// system reports, at the latest ("immediately, and not later than").
public struct IncidentClock: Codable, Sendable, Equatable {
    /// The incident kind it is for.
    public var kind: IncidentKind
    /// Days from awareness.
    public var days: Int
    /// The paragraph that sets it, e.g. "Art. 73(2)".
    public var paragraph: String
    /// The catalogue ref.
    public var ref: String
    /// The case in words.
    public var text: String
}

/// The regulatory reference the binary carries (`reference/regulation.yaml`); workflows may only use its ids.
public struct ReferenceCatalogue: Sendable {
    /// Every entry, in the file's order.
    public let references: [Reference]
    /// The explicit AI Act ↔ ISO/IEC 42001 pairs, in the file's order.
    public let crosswalk: [CrosswalkPair]
    /// The Art. 73 clocks, one per incident kind.
    public let incidentClocks: [IncidentClock]
    /// The frameworks imported from library files (`accord catalogue import`), none in the built-in one.
    public let frameworks: [ImportedFramework]
    /// The mappings imported mapping libraries provide between refs of the catalogue.
    public let mappings: [FrameworkMapping]
    private let index: [String: Int]

    /// The catalogue compiled into this build.
    public static let builtIn: ReferenceCatalogue = {
        guard let file = Resources.regulation, let catalogue = try? ReferenceCatalogue(yaml: file.text) else {
            fatalError("the build carries no valid reference/regulation.yaml")
        }
        // The catalogue is part of the build: a broken cross-reference is a build defect (tests check it too).
        if let problem = catalogue.problems().first { fatalError("reference/regulation.yaml: \(problem)") }
        return catalogue
    }()

    /// Parses a catalogue.
    public init(yaml: String) throws {
        struct File: Decodable {
            struct Entry: Decodable {
                var id: String
                var kind: String
                var title: String
                var legal_only: Bool?
                var gap: String?
                var parent: String?
            }
            struct Mapping: Decodable {
                struct Control: Decodable {
                    var ref: String
                    var coverage: CrosswalkPair.Coverage
                    var rationale: String
                }
                var article: String
                var controls: [Control]
            }
            var references: [Entry]
            var crosswalk: [Mapping]?
            var incident_clocks: [IncidentClock]?
        }
        let file = try YAMLDecoder().decode(File.self, from: yaml)
        var references = file.references.map {
            Reference(id: $0.id, kind: $0.kind, title: $0.title, legalOnly: $0.legal_only ?? false, gap: $0.gap, parent: $0.parent)
        }
        crosswalk = (file.crosswalk ?? []).flatMap { mapping in
            mapping.controls.map { CrosswalkPair(article: mapping.article, iso: $0.ref, coverage: $0.coverage, rationale: $0.rationale) }
        }
        incidentClocks = file.incident_clocks ?? []
        // `subject` is read as applies_to is, with the workflow reader (lines and columns in its errors).
        let reader = NodeReader(file: "reference/regulation.yaml")
        let builder = WorkflowBuilder(reader: reader, catalogue: .empty)
        var subjects: [String: Applicability] = [:]
        if case .mapping(let top)? = try Yams.compose(yaml: yaml), case .sequence(let entries)? = top["references"] {
            for entry in entries {
                guard let fields = entry.mapping, let id = fields["id"]?.string, let subject = fields["subject"] else { continue }
                subjects[id] = builder.buildApplicability(subject, "subject of \(id)")
            }
        }
        if !reader.diagnostics.isEmpty { throw WorkflowInvalid(diagnostics: reader.diagnostics) }
        references = references.map { reference in
            var reference = reference
            reference.subject = subjects[reference.id]
            return reference
        }
        var index: [String: Int] = [:]
        for (i, reference) in references.enumerated() { index[reference.id] = i }
        self.index = index
        self.references = references
        frameworks = []
        mappings = []
    }

    private init(
        references: [Reference] = [],
        crosswalk: [CrosswalkPair] = [],
        incidentClocks: [IncidentClock] = [],
        frameworks: [ImportedFramework] = [],
        mappings: [FrameworkMapping] = []
    ) {
        self.references = references
        self.crosswalk = crosswalk
        self.incidentClocks = incidentClocks
        self.frameworks = frameworks
        self.mappings = mappings
        var index: [String: Int] = [:]
        for (i, reference) in references.enumerated() { index[reference.id] = i }
        self.index = index
    }

    /// This catalogue with imported frameworks, their requirements and the mappings between refs added.
    public func including(frameworks: [ImportedFramework], references: [Reference], mappings: [FrameworkMapping]) -> ReferenceCatalogue {
        ReferenceCatalogue(
            references: self.references + references.filter { self[$0.id] == nil },
            crosswalk: crosswalk,
            incidentClocks: incidentClocks,
            frameworks: self.frameworks + frameworks,
            mappings: self.mappings + mappings
        )
    }

    /// The ids of the frameworks in the catalogue (`iso42001`, `ai-act` and the imported ones).
    public var frameworkIDs: Set<String> { Set(references.map(\.framework)) }

    /// A catalogue with nothing in it.
    static let empty = ReferenceCatalogue()

    /// The entry with this id.
    public subscript(id: String) -> Reference? { index[id].map { references[$0] } }

    /// The clock for an incident kind, which a valid catalogue has (`problems()` checks it).
    func requiredClock(_ kind: IncidentKind) -> IncidentClock {
        guard let clock = clock(kind) else { fatalError("reference/regulation.yaml has no incident clock for \(kind.rawValue)") }
        return clock
    }

    /// The clock for an incident kind.
    public func clock(_ kind: IncidentKind) -> IncidentClock? { incidentClocks.first { $0.kind == kind } }

    /// What is wrong with the catalogue's own cross-references: a pair or clock naming an unknown ref, a
    /// pair whose sides are the wrong way round, a paragraph without its article, a kind without its clock.
    public func problems() -> [String] {
        var problems: [String] = []
        for reference in references {
            if let parent = reference.parent, self[parent] == nil { problems.append("\(reference.id): parent '\(parent)' is not in the catalogue") }
        }
        for pair in crosswalk {
            if self[pair.article]?.framework != "ai-act" { problems.append("crosswalk: '\(pair.article)' is not an AI Act ref of the catalogue") }
            if self[pair.iso]?.framework != "iso42001" {
                problems.append("crosswalk \(pair.article): '\(pair.iso)' is not an ISO/IEC 42001 ref of the catalogue")
            }
            if self[pair.article]?.legalOnly == true {
                problems.append("crosswalk: '\(pair.article)' is legal-only, so no ISO requirement supports it")
            }
        }
        for kind in IncidentKind.allCases where clock(kind) == nil { problems.append("incident_clocks: no clock for '\(kind.rawValue)'") }
        for clock in incidentClocks where self[clock.ref] == nil { problems.append("incident_clocks: '\(clock.ref)' is not in the catalogue") }
        return problems
    }

    /// The 38 Annex A controls of ISO/IEC 42001.
    public var annexAControls: [Reference] { references.filter { $0.kind == "control" } }

    /// The ids closest to an unknown one, for "did you mean".
    public func suggestions(for id: String) -> [String] {
        closest(to: id, among: references.map(\.id))
    }
}

/// The candidates within a small edit distance of `word`, nearest first.
public func closest(to word: String, among candidates: [String], limit: Int = 1) -> [String] {
    let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
        .filter { $0.1 <= max(2, word.count / 3) }
        .sorted { $0.1 < $1.1 }
    return scored.prefix(limit).map(\.0)
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
