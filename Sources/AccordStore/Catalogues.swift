public import AccordCore
import Foundation
import NIOConcurrencyHelpers
import Postgres

/// What importing a library did.
public struct CatalogueImportOutcome: Sendable, Equatable {
    /// The library version, as stored.
    public var library: CatalogueLibrarySummary
    /// Whether this import stored it (`false`: the same content was already imported; nothing changed).
    public var stored: Bool
    /// Mappings naming a requirement the imported framework does not have, left out.
    public var skipped: [WorkflowDiagnostic]
    /// Mappings the library marks `not_related`, left out.
    public var unrelated: Int
}

/// The merged catalogue of one database, with the generation it was built at.
struct CachedCatalogue {
    var generation: Int64
    var catalogue: ReferenceCatalogue
}

extension Store {
    /// Imports a framework or mapping library (CISO Assistant's YAML library format) as a new version of the
    /// reference catalogue. A library version is immutable: the same content again changes nothing, other
    /// content under the same version is refused. A new version may not drop a requirement a stored workflow cites.
    /// - Parameters:
    ///   - frameworkID: the id to cite the framework's requirements under, instead of its URN's last segment.
    public func importLibrary(yaml: String, file: String, frameworkID: String? = nil, actor: String?) async throws -> CatalogueImportOutcome {
        let library: FrameworkLibrary
        switch FrameworkLibraryLoader.load(yaml: yaml, file: file, id: frameworkID) {
        case .success(let loaded): library = loaded
        case .failure(let invalid): throw invalid
        }
        let checksum = sha256Hex(yaml)
        return try await pool.withTransaction { connection in
            let actorHandle =
                if let actor { try await Self.requireAdministrator(actor, to: "imports catalogues", on: connection).handle } else { "system" }
            try await connection.execute(CatalogueSQL.lock, 0x4143_434F_5244_4341)  // "ACCORDCA"
            if let stored = try await connection.queryFirst(CatalogueSQL.find, library.urn, library.version) {
                guard stored == checksum else {
                    throw AccordError(
                        .conflict,
                        "library \(library.urn) version \(library.version) is already imported with different content; library versions are immutable, so import the library's next version"
                    )
                }
                return CatalogueImportOutcome(
                    library: try await summary(library.urn, library.version, on: connection),
                    stored: false,
                    skipped: [],
                    unrelated: 0
                )
            }
            let owners = try await connection.query(CatalogueSQL.owners, library.urn, library.framework?.id ?? "")
            try await checkOwnership(of: library, owners: owners, frameworkIDChosen: frameworkID != nil, on: connection)
            // Mapping URNs resolve against what is imported now, with this file's own framework over an older version of it.
            var urns: [String: String] = [:]
            for row in try await connection.query(CatalogueSQL.urns) { urns[row.urn] = row.ref }
            let own = library.framework?.requirements ?? []
            if let framework = library.framework { urns = urns.filter { !$0.value.hasPrefix("\(framework.id):") } }
            for requirement in own { urns[requirement.urn] = requirement.id }
            let resolved: ResolvedMappings
            switch library.resolvedMappings(file: file, catalogue: .builtIn, urns: urns) {
            case .success(let mappings): resolved = mappings
            case .failure(let invalid): throw invalid
            }
            let id = try await connection.queryOne(
                CatalogueSQL.insert,
                library.urn,
                library.version,
                library.name,
                library.framework?.id,
                library.framework?.name,
                library.provider,
                library.copyright,
                file,
                yaml,
                checksum,
                actorHandle
            )
            struct RequirementRow: Encodable {
                var position: Int
                var ref, urn, title: String
                var description, parent: String?
                var assessable: Bool
            }
            struct MappingRow: Encodable {
                var position: Int
                var source, target, relationship: String
                var rationale: String?
            }
            let requirementRows = own.enumerated().map { position, node in
                RequirementRow(
                    position: position,
                    ref: node.id,
                    urn: node.urn,
                    title: node.title,
                    description: node.description,
                    parent: node.parent,
                    assessable: node.assessable
                )
            }
            if !requirementRows.isEmpty {
                try await connection.execute(CatalogueSQL.insertRequirements, id, try PostgresJSON(encoding: requirementRows))
            }
            let mappingRows = resolved.mappings.enumerated().map { position, pair in
                MappingRow(
                    position: position,
                    source: pair.source,
                    target: pair.target,
                    relationship: pair.relationship.rawValue,
                    rationale: pair.rationale
                )
            }
            if !mappingRows.isEmpty { try await connection.execute(CatalogueSQL.insertMappings, id, try PostgresJSON(encoding: mappingRows)) }
            try await connection.appendAudit(
                AuditRecord(
                    chain: organisationChain,
                    actor: actorHandle,
                    action: "catalogue.import",
                    objectType: "catalogue_library",
                    objectID: "\(library.urn)@\(library.version)",
                    after: auditJSON([
                        "urn": library.urn, "version": String(library.version), "framework": library.framework?.id ?? "",
                        "requirements": String(requirementRows.count), "mappings": String(mappingRows.count), "sha256": checksum, "file": file,
                    ])
                )
            )
            return CatalogueImportOutcome(
                library: try await summary(library.urn, library.version, on: connection),
                stored: true,
                skipped: resolved.skipped,
                unrelated: resolved.unrelated
            )
        }
    }

    /// A framework id belongs to one library URN, and a URN keeps its id across versions; a new version
    /// keeps every requirement a stored workflow cites.
    private func checkOwnership(
        of library: FrameworkLibrary,
        owners: [CatalogueOwner],
        frameworkIDChosen: Bool,
        on connection: PostgresConnection
    ) async throws {
        guard let framework = library.framework else { return }
        if let other = owners.first(where: { $0.urn != library.urn && $0.frameworkID == framework.id }) {
            throw AccordError(
                .conflict,
                "framework id '\(framework.id)' is taken by the library \(other.urn); import this one under another with --framework-id"
            )
        }
        guard let previous = owners.first(where: { $0.urn == library.urn }) else { return }
        if let previousID = previous.frameworkID, previousID != framework.id {
            let hint = frameworkIDChosen ? "" : "; pass --framework-id \(previousID)"
            throw AccordError(
                .conflict,
                "library \(library.urn) is imported as '\(previousID)'; its requirements' ids cannot change between versions\(hint)"
            )
        }
        let kept = Set(framework.requirements.map(\.id))
        let dropped = Set(try await connection.query(CatalogueSQL.refs, previous.id)).subtracting(kept)
        guard !dropped.isEmpty else { return }
        var citing: [String] = []
        for stored in try await connection.query(WorkflowSQL.list) {
            let workflow = try await Self.workflow(stored.id, version: stored.version, checksum: stored.checksum, on: connection)
            let cited = Set(workflow.tasks.flatMap(\.task.refs)).intersection(dropped)
            if let first = cited.sorted().first { citing.append("\(stored.id)@\(stored.version) cites \(first)") }
        }
        if !citing.isEmpty {
            throw AccordError(
                .conflict,
                "version \(library.version) of \(library.urn) drops requirements stored workflows cite (\(citing.joined(separator: ", "))); load workflow versions without them first"
            )
        }
    }

    private func summary(_ urn: String, _ version: Int, on connection: PostgresConnection) async throws -> CatalogueLibrarySummary {
        guard let found = try await connection.query(CatalogueSQL.list).first(where: { $0.urn == urn && $0.version == version }) else {
            throw AccordError(.notFound, "no library \(urn) version \(version) is imported")
        }
        return found
    }

    /// Every imported library version, frameworks first.
    public func catalogueLibraries() async throws -> [CatalogueLibrarySummary] {
        try await pool.withConnection { try await $0.query(CatalogueSQL.list) }
    }

    /// The requirements of an imported framework's version in use.
    public func catalogueRequirements(framework: String) async throws -> [CatalogueRequirement] {
        let found = try await pool.withConnection { try await $0.query(CatalogueSQL.requirements, framework) }
        guard !found.isEmpty else {
            throw AccordError(.notFound, "no imported framework is called '\(framework)'; `accord catalogue list` shows the imported ones")
        }
        return found
    }

    /// The reference catalogue workflows are checked against: the built-in one and the imported versions in use.
    public func referenceCatalogue() async throws -> ReferenceCatalogue {
        try await pool.withConnection { try await referenceCatalogue(on: $0) }
    }

    /// The catalogue on a connection; rebuilt only when a library was imported since (any instance's import).
    func referenceCatalogue(on connection: PostgresConnection) async throws -> ReferenceCatalogue {
        let generation = try await connection.queryOne(CatalogueSQL.generation)
        if generation == 0 { return .builtIn }
        if let cached = catalogueCache.withLockedValue({ $0 }), cached.generation == generation { return cached.catalogue }
        let frameworks = try await connection.query(CatalogueSQL.frameworks).map {
            ImportedFramework(id: $0.id, name: $0.name, version: $0.version, libraryURN: $0.urn, copyright: $0.copyright)
        }
        let references = try await connection.query(CatalogueSQL.requirements, nil).map {
            Reference(id: $0.id, kind: $0.assessable ? "requirement" : "section", title: $0.title, legalOnly: false, gap: nil, parent: $0.parent)
        }
        let mappings = try await connection.query(CatalogueSQL.mappings).compactMap { row in
            FrameworkLibrary.Relationship(rawValue: row.relationship).map {
                FrameworkMapping(source: row.source, target: row.target, relationship: $0, rationale: row.rationale, library: row.library)
            }
        }
        let catalogue = ReferenceCatalogue.builtIn.including(frameworks: frameworks, references: references, mappings: mappings)
        catalogueCache.withLockedValue { $0 = CachedCatalogue(generation: generation, catalogue: catalogue) }
        return catalogue
    }
}
