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

    /// `iso42001` or `ai-act`.
    public var framework: String { String(id.prefix { $0 != ":" }) }
}

/// The regulatory reference the binary carries (`reference/regulation.yaml`); workflows may only use its ids.
public struct ReferenceCatalogue: Sendable {
    /// Every entry, in the file's order.
    public let references: [Reference]
    private let index: [String: Int]

    /// The catalogue compiled into this build.
    public static let builtIn: ReferenceCatalogue = {
        guard let file = Resources.regulation, let catalogue = try? ReferenceCatalogue(yaml: file.text) else {
            fatalError("the build carries no valid reference/regulation.yaml")
        }
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
            }
            var references: [Entry]
        }
        let file = try YAMLDecoder().decode(File.self, from: yaml)
        references = file.references.map { Reference(id: $0.id, kind: $0.kind, title: $0.title, legalOnly: $0.legal_only ?? false, gap: $0.gap) }
        var index: [String: Int] = [:]
        for (i, reference) in references.enumerated() { index[reference.id] = i }
        self.index = index
    }

    /// The entry with this id.
    public subscript(id: String) -> Reference? { index[id].map { references[$0] } }

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
