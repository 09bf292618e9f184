import AccordCore
public import Foundation
import Postgres

/// An imported library version, as `accord catalogue list` shows it.
public struct CatalogueLibrarySummary: Codable, Sendable, Equatable {
    /// The library's URN.
    public var urn: String
    /// The library's version.
    public var version: Int
    /// The library's name.
    public var name: String
    /// The id its framework's requirements are cited under; `nil` for a mapping library.
    public var frameworkID: String?
    /// Who published the content.
    public var provider: String?
    /// The library's copyright line.
    public var copyright: String?
    /// How many requirement nodes it holds.
    public var requirements: Int
    /// How many mappings it holds.
    public var mappings: Int
    /// Whether it is the version in use (the latest of its URN).
    public var current: Bool
    /// The SHA-256 of the file as imported, in hex.
    public var checksum: String
    /// When it was imported.
    public var importedAt: Date
    /// Who imported it.
    public var importedBy: String
}

/// One requirement of an imported framework, as `accord catalogue show` lists it.
public struct CatalogueRequirement: Codable, Sendable, Equatable {
    /// The id workflows cite.
    public var id: String
    /// Its title.
    public var title: String
    /// The id of the node above it.
    public var parent: String?
    /// Whether it is assessable (not a heading).
    public var assessable: Bool
}

/// Row shapes for the imported catalogue's queries.
struct CatalogueRows {
    struct Framework {
        var id: String
        var name: String
        var version: Int
        var urn: String
        var copyright: String?
    }
    struct Mapping {
        var source: String
        var target: String
        var relationship: String
        var rationale: String?
        var library: String
    }
}

enum CatalogueSQL {
    /// The versions in use: the latest of each library URN.
    static let latest = "WITH latest AS (SELECT DISTINCT ON (urn) * FROM accord.catalogue_library ORDER BY urn, version DESC)"

    /// Serialises imports, so URN resolution and framework ownership see one state.
    static let lock = PostgresCommand<Int64>("catalogue_lock", "SELECT pg_advisory_xact_lock($1)")
    /// Changes whenever a version is imported: the cache key of the merged catalogue.
    static let generation = PostgresQuery<Int64>(
        "catalogue_generation",
        "SELECT coalesce(max(id), 0)::bigint AS generation FROM accord.catalogue_library"
    ) { try $0.decode(Int64.self, "generation") }
    static let find = PostgresQuery<String, Int, String>(
        "catalogue_find",
        "SELECT checksum FROM accord.catalogue_library WHERE urn = $1 AND version = $2"
    ) { try $0.decode(String.self, "checksum") }
    /// The latest version of this URN and the library holding this framework id, to keep ids owned.
    static let owners = PostgresQuery<String, String, CatalogueOwner>(
        "catalogue_owners",
        """
        \(latest)
        SELECT id, urn, version, framework_id FROM latest WHERE urn = $1 OR framework_id = $2 ORDER BY version DESC
        """
    ) {
        CatalogueOwner(
            id: try $0.decode(Int64.self, "id"),
            urn: try $0.decode(String.self, "urn"),
            version: try $0.decode(Int.self, "version"),
            frameworkID: try $0.decode(String?.self, "framework_id")
        )
    }
    static let insert = PostgresQuery<String, Int, String, String?, String?, String?, String?, String, String, String, String, Int64>(
        "catalogue_insert",
        """
        INSERT INTO accord.catalogue_library (urn, version, name, framework_id, framework_name, provider, copyright, file, source, checksum, imported_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id
        """
    ) { try $0.decode(Int64.self, "id") }
    static let insertRequirements = PostgresCommand<Int64, PostgresJSON>(
        "catalogue_insert_requirements",
        """
        INSERT INTO accord.catalogue_requirement (library_id, position, ref, urn, title, description, parent, assessable)
        SELECT $1, r.position, r.ref, r.urn, r.title, r.description, r.parent, r.assessable
        FROM jsonb_to_recordset($2::jsonb) AS r(position integer, ref text, urn text, title text, description text, parent text, assessable boolean)
        """
    )
    static let insertMappings = PostgresCommand<Int64, PostgresJSON>(
        "catalogue_insert_mappings",
        """
        INSERT INTO accord.catalogue_mapping (library_id, position, source, target, relationship, rationale)
        SELECT $1, m.position, m.source, m.target, m.relationship, m.rationale
        FROM jsonb_to_recordset($2::jsonb) AS m(position integer, source text, target text, relationship text, rationale text)
        """
    )
    /// The ids of a library version's requirements.
    static let refs = PostgresQuery<Int64, String>(
        "catalogue_refs",
        "SELECT ref FROM accord.catalogue_requirement WHERE library_id = $1"
    ) { try $0.decode(String.self, "ref") }
    /// Every requirement URN in use, with its id: what mapping libraries resolve against.
    static let urns = PostgresQuery<CatalogueURN>(
        "catalogue_urns",
        "\(latest) SELECT r.urn, r.ref FROM latest l JOIN accord.catalogue_requirement r ON r.library_id = l.id"
    ) { CatalogueURN(urn: try $0.decode(String.self, "urn"), ref: try $0.decode(String.self, "ref")) }
    static let frameworks = PostgresQuery<CatalogueRows.Framework>(
        "catalogue_frameworks",
        "\(latest) SELECT framework_id, framework_name, version, urn, copyright FROM latest WHERE framework_id IS NOT NULL ORDER BY framework_id"
    ) {
        CatalogueRows.Framework(
            id: try $0.decode(String.self, "framework_id"),
            name: try $0.decode(String?.self, "framework_name") ?? "",
            version: try $0.decode(Int.self, "version"),
            urn: try $0.decode(String.self, "urn"),
            copyright: try $0.decode(String?.self, "copyright")
        )
    }
    static let requirements = PostgresQuery<String?, CatalogueRequirement>(
        "catalogue_requirements",
        """
        \(latest)
        SELECT r.ref, r.title, r.parent, r.assessable FROM latest l JOIN accord.catalogue_requirement r ON r.library_id = l.id
        WHERE $1::text IS NULL OR l.framework_id = $1 ORDER BY l.framework_id, r.position
        """
    ) {
        CatalogueRequirement(
            id: try $0.decode(String.self, "ref"),
            title: try $0.decode(String.self, "title"),
            parent: try $0.decode(String?.self, "parent"),
            assessable: try $0.decode(Bool.self, "assessable")
        )
    }
    static let mappings = PostgresQuery<CatalogueRows.Mapping>(
        "catalogue_mappings",
        "\(latest) SELECT m.source, m.target, m.relationship, m.rationale, l.name FROM latest l JOIN accord.catalogue_mapping m ON m.library_id = l.id ORDER BY l.urn, m.position"
    ) {
        CatalogueRows.Mapping(
            source: try $0.decode(String.self, "source"),
            target: try $0.decode(String.self, "target"),
            relationship: try $0.decode(String.self, "relationship"),
            rationale: try $0.decode(String?.self, "rationale"),
            library: try $0.decode(String.self, "name")
        )
    }
    static let list = PostgresQuery<CatalogueLibrarySummary>(
        "catalogue_list",
        """
        SELECT l.urn, l.version, l.name, l.framework_id, l.provider, l.copyright, l.checksum, l.imported_at, l.imported_by,
               (SELECT count(*) FROM accord.catalogue_requirement r WHERE r.library_id = l.id)::bigint AS requirements,
               (SELECT count(*) FROM accord.catalogue_mapping m WHERE m.library_id = l.id)::bigint AS mappings,
               l.version = max(l.version) OVER (PARTITION BY l.urn) AS current
        FROM accord.catalogue_library l ORDER BY l.framework_id NULLS LAST, l.urn, l.version
        """
    ) {
        CatalogueLibrarySummary(
            urn: try $0.decode(String.self, "urn"),
            version: try $0.decode(Int.self, "version"),
            name: try $0.decode(String.self, "name"),
            frameworkID: try $0.decode(String?.self, "framework_id"),
            provider: try $0.decode(String?.self, "provider"),
            copyright: try $0.decode(String?.self, "copyright"),
            requirements: Int(try $0.decode(Int64.self, "requirements")),
            mappings: Int(try $0.decode(Int64.self, "mappings")),
            current: try $0.decode(Bool.self, "current"),
            checksum: try $0.decode(String.self, "checksum"),
            importedAt: try $0.decode(Date.self, "imported_at"),
            importedBy: try $0.decode(String.self, "imported_by")
        )
    }

    static let catalogue: [any PostgresCheckable] = [
        lock, generation, find, owners, insert, insertRequirements, insertMappings, refs, urns, frameworks, requirements, mappings, list,
    ]
}

/// A library holding a URN or a framework id.
struct CatalogueOwner {
    var id: Int64
    var urn: String
    var version: Int
    var frameworkID: String?
}

/// An imported requirement's URN and id.
struct CatalogueURN {
    var urn: String
    var ref: String
}
