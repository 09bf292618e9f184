import Foundation
import Yams

/// A framework library in CISO Assistant's YAML library format, as read from the user's file: a
/// framework's `requirement_nodes` tree, the mappings between frameworks a mapping library holds, or
/// both. Only what Accord uses is read; other keys and other object kinds (risk matrices, threats,
/// reference controls, translations) are ignored, so newer files still import.
public struct FrameworkLibrary: Sendable, Equatable {
    /// Where a node was in the file, for errors found after reading (a mapping naming an unknown requirement).
    public struct Place: Sendable, Equatable {
        /// From 1.
        public var line: Int
        /// From 1.
        public var column: Int
    }
    /// One node of the framework's tree.
    public struct Requirement: Sendable, Equatable {
        /// The node's URN, which mapping libraries name it by.
        public var urn: String
        /// The id workflows cite: the framework's id, a colon and the node's `ref_id` (e.g. `iso27001-2022:A.5.1`).
        public var id: String
        /// The node's name, else the start of its description.
        public var title: String
        /// The node's description, as the library gives it.
        public var description: String?
        /// The id of the node above it.
        public var parent: String?
        /// Whether the library marks it assessable (a requirement, not a heading).
        public var assessable: Bool
    }
    /// The framework a library defines.
    public struct Framework: Sendable, Equatable {
        /// The framework's URN.
        public var urn: String
        /// The id its requirements are cited under: the URN's last segment unless the importer chose one.
        public var id: String
        /// Its name.
        public var name: String
        /// Its nodes, in the file's order.
        public var requirements: [Requirement]
    }
    /// How a mapping relates its source requirement to its target, in the library's words.
    public enum Relationship: String, Sendable, CaseIterable, Codable {
        /// The two ask the same.
        case equal
        /// The source asks part of what the target asks.
        case subset
        /// The source asks more than the target.
        case superset
        /// They overlap.
        case intersect
        /// The library says they are unrelated (not imported).
        case notRelated = "not_related"

        /// The relationship seen from the target.
        public var inverse: Relationship {
            switch self {
            case .subset: .superset
            case .superset: .subset
            default: self
            }
        }
    }
    /// One mapping of a mapping library, by URN as the file gives it.
    public struct Mapping: Sendable, Equatable {
        /// The source requirement's URN.
        public var source: String
        /// The target requirement's URN.
        public var target: String
        /// How they relate.
        public var relationship: Relationship
        /// The library's rationale or annotation, if any.
        public var rationale: String?
        /// Where the source and the target URNs are in the file.
        public var sourcePlace: Place
        /// Where the target URN is.
        public var targetPlace: Place
    }
    /// The library's URN; with `version`, what identifies one import.
    public var urn: String
    /// The library's `ref_id`.
    public var refID: String
    /// Its name.
    public var name: String
    /// Its version (the library's own, increased by its packager on each change).
    public var version: Int
    /// Who published the content.
    public var provider: String?
    /// The library's copyright line, shown beside its requirements.
    public var copyright: String?
    /// The framework it defines, if it is a framework library.
    public var framework: Framework?
    /// The mappings it holds, over all its mapping sets.
    public var mappings: [Mapping]
}

/// Reads CISO Assistant library YAML into a `FrameworkLibrary`, reporting every problem with its line and
/// column as workflows do.
public enum FrameworkLibraryLoader {
    /// The most YAML nodes a library may expand to: large mapping libraries hold tens of thousands of pairs.
    public static let maximumNodes = 2_000_000
    /// The longest title kept when a node has only a description.
    public static let titleLength = 120

    /// Loads a library.
    /// - Parameters:
    ///   - id: the id to cite the framework's requirements under, instead of its URN's last segment.
    ///   - reserved: ids that are taken (the built-in catalogue's frameworks).
    public static func load(
        yaml: String,
        file: String,
        id: String? = nil,
        reserved: Set<String> = ReferenceCatalogue.builtIn.frameworkIDs
    )
        -> Result<FrameworkLibrary, WorkflowInvalid>
    {
        let reader = NodeReader(file: file)
        guard
            let root = reader.root(
                of: yaml,
                empty: "the file is empty; a library needs urn, ref_id, name, version and objects",
                tooLarge: "; no framework library is that large",
                limit: maximumNodes
            )
        else { return .failure(WorkflowInvalid(diagnostics: reader.diagnostics)) }
        return reader.result(LibraryBuilder(reader: reader, chosenID: id, reserved: reserved).build(root))
    }

    /// Whether a text is a usable framework id: lower-case letters, digits, `.`, `_` and `-`, from a letter or digit.
    public static func isFrameworkID(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.count <= 64 else { return false }
        let allowed = { (c: Unicode.Scalar) in ("a"..."z").contains(c) || ("0"..."9").contains(c) || c == "." || c == "_" || c == "-" }
        return allowed(first) && first != "." && first != "_" && first != "-" && text.unicodeScalars.allSatisfy(allowed)
    }
}

private struct LibraryBuilder {
    let reader: NodeReader
    let chosenID: String?
    let reserved: Set<String>

    func build(_ root: Node) -> FrameworkLibrary? {
        guard let fields = fields(root, "a library", required: ["urn", "name", "version", "objects"]) else { return nil }
        let urn = self.urn(fields["urn"], "the library's urn")
        let name = reader.string(fields["name"], "name")
        let version = reader.int(fields["version"], "version")
        if let version, version < 1 { reader.report(at: fields["version"], "version must be 1 or more") }
        guard let objectsNode = fields["objects"], let objects = self.fields(objectsNode, "objects") else { return nil }
        var framework: FrameworkLibrary.Framework?
        if let node = objects["framework"] { framework = buildFramework(node) }
        var sets: [Node] = []
        if let node = objects["requirement_mapping_set"] { sets.append(node) }
        if let node = objects["requirement_mapping_sets"] { sets += reader.list(node, "requirement_mapping_sets") }
        let mappings = sets.flatMap(buildMappingSet)
        if objects["framework"] == nil && sets.isEmpty {
            let kinds = objectsNode.mapping?.keys.compactMap(\.string).joined(separator: ", ") ?? ""
            reader.report(
                at: objectsNode,
                "the library holds no framework and no requirement mapping set\(kinds.isEmpty ? "" : " (it has: \(kinds))"); Accord imports frameworks and the mappings between them"
            )
        }
        guard let urn, let name, let version else { return nil }
        return FrameworkLibrary(
            urn: urn,
            refID: fields["ref_id"].flatMap { reader.string($0, "ref_id") } ?? urn,
            name: name,
            version: version,
            provider: text(fields["provider"]),
            copyright: text(fields["copyright"]),
            framework: framework,
            mappings: mappings
        )
    }

    private func buildFramework(_ node: Node) -> FrameworkLibrary.Framework? {
        guard let fields = fields(node, "the framework", required: ["urn", "name", "requirement_nodes"]) else { return nil }
        guard let urn = urn(fields["urn"], "the framework's urn") else { return nil }
        let id = chosenID ?? String(urn.split(separator: ":").last ?? "")
        guard FrameworkLibraryLoader.isFrameworkID(id) else {
            reader.report(
                at: fields["urn"],
                "'\(id)' cannot be a framework id (lower-case letters, digits, '.', '_' and '-', at most 64); choose one with --framework-id"
            )
            return nil
        }
        guard !reserved.contains(id) else {
            reader.report(at: fields["urn"], "'\(id)' is the id of a built-in framework; import this library under another with --framework-id")
            return nil
        }
        var requirements: [FrameworkLibrary.Requirement] = []
        var parents: [(index: Int, urn: String, node: Node)] = []
        var byURN: [String: (index: Int, line: Int)] = [:]
        var byID: [String: Int] = [:]
        for nodeEntry in reader.list(fields["requirement_nodes"], "requirement_nodes") {
            guard let entry = self.fields(nodeEntry, "a requirement node", required: ["urn"]),
                let nodeURN = self.urn(entry["urn"], "a requirement node's urn")
            else { continue }
            let line = entry["urn"]?.mark?.line ?? 0
            if let earlier = byURN[nodeURN] {
                reader.report(at: entry["urn"], "urn '\(nodeURN)' is also the urn of the node at line \(earlier.line)")
                continue
            }
            let local = entry["ref_id"].flatMap { reader.string($0, "ref_id") }.map(Self.citable) ?? String(nodeURN.split(separator: ":").last ?? "")
            let requirementID = "\(id):\(local)"
            if let earlier = byID[requirementID] {
                reader.report(
                    at: entry["ref_id"] ?? entry["urn"],
                    "two nodes would be cited as '\(requirementID)' (lines \(earlier) and \(line)); ref_ids must differ"
                )
                continue
            }
            let description = text(entry["description"])
            let title = text(entry["name"]) ?? description.map(Self.shortened) ?? local
            byURN[nodeURN] = (requirements.count, line)
            byID[requirementID] = line
            if let parent = entry["parent_urn"], let parentURN = reader.string(parent, "parent_urn") {
                parents.append((requirements.count, parentURN, parent))
            }
            requirements.append(
                .init(
                    urn: nodeURN,
                    id: requirementID,
                    title: title,
                    description: description,
                    parent: nil,
                    assessable: entry["assessable"].flatMap { reader.bool($0, "assessable") } ?? false
                )
            )
        }
        for (index, parentURN, node) in parents {
            guard let parent = byURN[parentURN] else {
                reader.report(at: node, "parent_urn '\(parentURN)' is the urn of no node of this framework")
                continue
            }
            requirements[index].parent = requirements[parent.index].id
        }
        if requirements.isEmpty && reader.diagnostics.isEmpty {
            reader.report(at: fields["requirement_nodes"], "the framework has no requirement nodes")
        }
        return .init(urn: urn, id: id, name: reader.string(fields["name"], "the framework's name") ?? id, requirements: requirements)
    }

    private func buildMappingSet(_ node: Node) -> [FrameworkLibrary.Mapping] {
        guard let fields = fields(node, "a requirement mapping set", required: ["requirement_mappings"]) else { return [] }
        return reader.list(fields["requirement_mappings"], "requirement_mappings").compactMap { entry in
            guard
                let mapping = self.fields(
                    entry,
                    "a requirement mapping",
                    required: ["source_requirement_urn", "target_requirement_urn", "relationship"]
                ),
                let source = urn(mapping["source_requirement_urn"], "source_requirement_urn"),
                let target = urn(mapping["target_requirement_urn"], "target_requirement_urn"),
                let relationshipNode = mapping["relationship"],
                let word = reader.string(relationshipNode, "relationship")
            else { return nil }
            guard let relationship = FrameworkLibrary.Relationship(rawValue: word) else {
                let words = FrameworkLibrary.Relationship.allCases.map(\.rawValue)
                let hint = closest(to: word, among: words).first.map { "; did you mean '\($0)'?" } ?? "; one of: \(words.joined(separator: ", "))"
                reader.report(at: relationshipNode, "unknown relationship '\(word)'\(hint)")
                return nil
            }
            return .init(
                source: source,
                target: target,
                relationship: relationship,
                rationale: text(mapping["rationale"]) ?? text(mapping["annotation"]),
                sourcePlace: place(mapping["source_requirement_urn"]),
                targetPlace: place(mapping["target_requirement_urn"])
            )
        }
    }

    /// A mapping's fields, unknown keys allowed: the format grows, and what Accord does not use it ignores.
    private func fields(_ node: Node, _ what: String, required: [String] = []) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            reader.report(at: node, "\(what) must be a mapping (key: value lines)")
            return nil
        }
        var fields: [String: Node] = [:]
        for (key, value) in mapping {
            if let name = key.scalar?.string { fields[name] = value }
        }
        for name in required where fields[name] == nil { reader.report(at: node, "\(what) needs '\(name)'") }
        return fields
    }

    private func urn(_ node: Node?, _ what: String) -> String? {
        guard let text = reader.string(node, what) else { return nil }
        guard text.lowercased().hasPrefix("urn:"), !text.contains(where: \.isWhitespace) else {
            reader.report(at: node, "\(what) '\(text)' is not a URN (urn:…, without spaces)")
            return nil
        }
        return text.lowercased()
    }

    /// An optional text field: `null`, empty or a non-scalar reads as absent.
    private func text(_ node: Node?) -> String? {
        guard let scalar = node?.scalar, scalar.tag != Tag(.null), !scalar.string.isEmpty, scalar.string != "null", scalar.string != "~" else {
            return nil
        }
        return scalar.string.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func place(_ node: Node?) -> FrameworkLibrary.Place {
        FrameworkLibrary.Place(line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1)
    }

    /// A ref_id as a workflow cites it: runs of spaces become one `-` ("Article 9" → "Article-9").
    static func citable(_ refID: String) -> String {
        refID.split(whereSeparator: \.isWhitespace).joined(separator: "-")
    }

    /// The first line of a description, cut at `titleLength` characters.
    static func shortened(_ description: String) -> String {
        let line = description.split(whereSeparator: \.isNewline).first.map(String.init) ?? description
        guard line.count > FrameworkLibraryLoader.titleLength else { return line }
        return String(line.prefix(FrameworkLibraryLoader.titleLength - 1)).trimmingCharacters(in: .whitespaces) + "…"
    }
}
