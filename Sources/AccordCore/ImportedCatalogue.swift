/// A framework imported from a library file, in the catalogue beside the built-in ones.
public struct ImportedFramework: Codable, Sendable, Equatable {
    /// The id its requirements are cited under, e.g. `iso27001-2022`.
    public var id: String
    /// Its name, as the library gives it.
    public var name: String
    /// The version of the library it came from.
    public var version: Int
    /// The library's URN.
    public var libraryURN: String
    /// The library's copyright line.
    public var copyright: String?

    /// A framework as stored.
    public init(id: String, name: String, version: Int, libraryURN: String, copyright: String?) {
        self.id = id
        self.name = name
        self.version = version
        self.libraryURN = libraryURN
        self.copyright = copyright
    }
}

/// A mapping between two refs of the catalogue, from an imported mapping library.
public struct FrameworkMapping: Codable, Sendable, Equatable {
    /// The source ref, e.g. `iso27001-2022:A.5.1`.
    public var source: String
    /// The target ref, e.g. `iso42001:A.2.2`.
    public var target: String
    /// How the source relates to the target.
    public var relationship: FrameworkLibrary.Relationship
    /// The library's rationale, if it gives one.
    public var rationale: String?
    /// The mapping library's name.
    public var library: String

    /// A mapping as stored.
    public init(source: String, target: String, relationship: FrameworkLibrary.Relationship, rationale: String?, library: String) {
        self.source = source
        self.target = target
        self.relationship = relationship
        self.rationale = rationale
        self.library = library
    }
}

/// A mapping library's pairs with their URNs resolved to catalogue ids.
public struct ResolvedMappings: Sendable, Equatable {
    /// The pairs, each once, in the file's order.
    public var mappings: [FrameworkMapping]
    /// Pairs naming a requirement the imported framework does not have, left out (warnings, not errors).
    public var skipped: [WorkflowDiagnostic]
    /// Pairs the library marks `not_related`, left out.
    public var unrelated: Int
}

extension ReferenceCatalogue {
    /// Frameworks of CISO Assistant's libraries that are the built-in catalogue's, so mapping libraries
    /// naming their requirements map onto the built-in refs (`…:iso42001-2023:a.6.2.8` is `iso42001:A.6.2.8`).
    public static let libraryAliases: [String: String] = ["iso42001-2023": "iso42001"]

    /// The ref for a requirement URN of an aliased framework, matched regardless of case.
    /// - Parameter lowercased: the catalogue's ids by their lower-case form.
    static func aliasedRef(_ urn: String, lowercased: [String: String]) -> String? {
        guard let (framework, node) = requirementURNParts(urn), let builtIn = libraryAliases[framework] else { return nil }
        return lowercased["\(builtIn):\(node)".lowercased()]
    }
}

/// The framework and node parts of a requirement URN (`urn:intuitem:risk:req_node:FRAMEWORK:NODE`).
func requirementURNParts(_ urn: String) -> (framework: String, node: String)? {
    let parts = urn.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count >= 6, parts[3] == "req_node" else { return nil }
    return (String(parts[4]), parts[5...].joined(separator: ":"))
}

extension FrameworkLibrary {
    /// The library's mappings as pairs of catalogue ids.
    ///
    /// A URN resolves to a requirement of an imported framework (`urns`, the database's and this file's
    /// own) or, for an aliased framework, to the built-in ref. A URN of a framework nobody imported is an
    /// error at its line (import that library first); one of an imported framework that lacks it is skipped.
    /// - Parameters:
    ///   - urns: every imported requirement's URN and id.
    public func resolvedMappings(file: String, catalogue: ReferenceCatalogue, urns: [String: String]) -> Result<ResolvedMappings, WorkflowInvalid> {
        let known = Set(urns.keys.compactMap { requirementURNParts($0)?.framework }).union(ReferenceCatalogue.libraryAliases.keys)
        var errors: [WorkflowDiagnostic] = []
        var reportedFrameworks: Set<String> = []
        var skipped: [WorkflowDiagnostic] = []
        var seen: Set<String> = []
        var resolved: [FrameworkMapping] = []
        var unrelated = 0
        let lowercased = Dictionary(catalogue.references.map { ($0.id.lowercased(), $0.id) }, uniquingKeysWith: { first, _ in first })
        func resolve(_ urn: String, at place: Place) -> String? {
            if let id = ReferenceCatalogue.aliasedRef(urn, lowercased: lowercased) ?? urns[urn] { return id }
            let framework = requirementURNParts(urn)?.framework
            if let framework, known.contains(framework) {
                skipped.append(
                    .init(file: file, line: place.line, column: place.column, message: "'\(urn)' is not a requirement of '\(framework)'; skipped")
                )
            } else if reportedFrameworks.insert(framework ?? urn).inserted {
                let what = framework.map { "framework '\($0)'" } ?? "no framework Accord can tell"
                errors.append(
                    .init(
                        file: file,
                        line: place.line,
                        column: place.column,
                        message: "'\(urn)' belongs to \(what), which is not imported; import its library first"
                    )
                )
            }
            return nil
        }
        for mapping in mappings {
            let source = resolve(mapping.source, at: mapping.sourcePlace)
            let target = resolve(mapping.target, at: mapping.targetPlace)
            guard let source, let target else { continue }
            if mapping.relationship == .notRelated {
                unrelated += 1
                continue
            }
            guard seen.insert("\(source)\u{0}\(target)").inserted else { continue }
            resolved.append(.init(source: source, target: target, relationship: mapping.relationship, rationale: mapping.rationale, library: name))
        }
        if !errors.isEmpty { return .failure(WorkflowInvalid(diagnostics: errors)) }
        return .success(ResolvedMappings(mappings: resolved, skipped: skipped, unrelated: unrelated))
    }

    /// The framework's requirements as catalogue references.
    public var references: [Reference] {
        (framework?.requirements ?? []).map {
            Reference(id: $0.id, kind: $0.assessable ? "requirement" : "section", title: $0.title, legalOnly: false, gap: nil, parent: $0.parent)
        }
    }
}
