public import AccordCore
import Foundation
public import Postgres

/// An entry of a program's AI-system inventory.
public struct AISystem: Codable, Sendable, Equatable {
    /// Its slug in the program, from its name.
    public var slug: String
    /// Its name.
    public var name: String
    /// The first of the organisation's roles for it (provider, deployer…); every role is in `profile`.
    public var operatorRole: OperatorRole
    /// Its risk class under the AI Act, as one word.
    public var riskClass: RiskClass
    /// Whether general-purpose AI is involved (a model it provides or one it is built on).
    public var gpai: Bool
    /// Its Annex III area (1 to 8), when it has one.
    public var annexIII: Int?
    /// Its owner's handle, if any.
    public var owner: String?
    /// What it is used for.
    public var purpose: String?
    /// The day it was added, `YYYY-MM-DD`.
    public var addedOn: String
    /// Per-system tasks this system has.
    public var tasks: Int
    /// What the AI Act turns on for it: every role, the route, the Art. 50 cases and the rest.
    public var profile: SystemProfile
    /// The questionnaire and version that produced the profile (`ai-act-classification@1`); `nil` when it
    /// came from the inventory's flags.
    public var classifiedWith: String?
    /// The version of the law the classifying questionnaire followed.
    public var lawVersion: String?
    /// Why the classification should be walked again, when it should: it came from inventory flags, or
    /// from an older questionnaire or version of the law's dates.
    public var review: String?
}

/// A system to add.
public struct NewAISystem: Sendable {
    /// Its name; the slug is made from it.
    public var name: String
    /// What the organisation is for it under the AI Act.
    public var operatorRole: OperatorRole
    /// Its risk class under the AI Act.
    public var riskClass: RiskClass
    /// Whether it is a general-purpose AI model.
    public var gpai = false
    /// Its Annex III area (1 to 8), when it has one.
    public var annexIII: Int?
    /// Its owner's handle, if any.
    public var owner: String?
    /// What it is used for.
    public var purpose: String?
    /// Further roles the organisation holds for it (an in-house system is provider and deployer).
    public var moreRoles: [OperatorRole] = []
    /// The preliminary profile its inventory flags give; the questionnaire replaces it.
    public var profile: SystemProfile {
        var profile = SystemProfile(operatorRole: operatorRole, riskClass: riskClass, gpai: gpai, annexIII: annexIII)
        profile.roles = OperatorRole.allCases.filter { profile.roles.contains($0) || moreRoles.contains($0) }
        return profile
    }
    /// A system to add, with the facts that decide which tasks apply to it.
    public init(
        name: String,
        operatorRole: OperatorRole,
        riskClass: RiskClass,
        gpai: Bool = false,
        annexIII: Int? = nil,
        owner: String? = nil,
        purpose: String? = nil,
        moreRoles: [OperatorRole] = []
    ) {
        self.moreRoles = moreRoles
        self.name = name
        self.operatorRole = operatorRole
        self.riskClass = riskClass
        self.gpai = gpai
        self.annexIII = annexIII
        self.owner = owner
        self.purpose = purpose
    }
}

// Stored as their raw text, so rows decode into them directly (an unknown value is a decoding error naming the column).
extension OperatorRole: PostgresTextEnum {}
extension RiskClass: PostgresTextEnum {}

enum SystemSQL {
    static let insert = PostgresQuery<
        Int64, String, String, OperatorRole, RiskClass, Bool, String?, Int64?, String?, PostgresJSON, (id: Int64, addedOn: CalendarDate)
    >(
        "system_insert",
        """
        INSERT INTO accord.ai_system (program_id, slug, name, operator_role, risk_class, gpai, annex_iii, owner_id, purpose, profile, added_on)
        VALUES ($1, $2, $3, $4, $5, $6, $7::smallint, $8, $9, $10, current_date)
        RETURNING id, to_char(added_on, 'YYYY-MM-DD') AS added_on
        """
    ) { (id: try $0.decode(Int64.self, "id"), addedOn: try $0.decode(CalendarDateColumn.self, "added_on").date) }
    /// The columns an `AISystem` decodes from, over `ai_system s` and its owner `o`.
    static let columns = """
        SELECT s.slug, s.name, s.operator_role, s.risk_class, s.gpai, s.annex_iii, o.handle AS owner, s.purpose,
               to_char(s.added_on, 'YYYY-MM-DD') AS added_on, s.profile, s.classified_with, s.law_version,
               (SELECT count(*) FROM accord.task t WHERE t.system_id = s.id AND t.state <> 'retired') AS tasks
        FROM accord.ai_system s LEFT JOIN accord.person o ON o.id = s.owner_id
        """
    static let list = PostgresQuery<Int64, AISystem>(
        "system_list",
        "\(columns) WHERE s.program_id = $1 ORDER BY s.slug",
        row: AISystem.init(row:)
    )
    static let rows = PostgresQuery<Int64, SystemRow>(
        "system_rows",
        """
        SELECT id, slug, profile, to_char(added_on, 'YYYY-MM-DD') AS added_on
        FROM accord.ai_system WHERE program_id = $1 ORDER BY slug
        """,
        row: SystemRow.init(row:)
    )

    static let catalogue: [any PostgresCheckable] = [insert, list, rows]
}

extension SystemRow {
    init(row: PostgresRow) throws {
        id = try row.decode(Int64.self, "id")
        slug = try row.decode(String.self, "slug")
        profile = try row.decode(PostgresJSON.self, "profile").decode(SystemProfile.self)
        addedOn = try row.decode(CalendarDateColumn.self, "added_on").date
    }
}

extension AISystem {
    init(row: PostgresRow) throws {
        self.init(
            slug: try row.decode(String.self, "slug"),
            name: try row.decode(String.self, "name"),
            operatorRole: try row.decode(OperatorRole.self, "operator_role"),
            riskClass: try row.decode(RiskClass.self, "risk_class"),
            gpai: try row.decode(Bool.self, "gpai"),
            annexIII: try row.decode(Int?.self, "annex_iii"),
            owner: try row.decode(String?.self, "owner"),
            purpose: try row.decode(String?.self, "purpose"),
            addedOn: try row.decode(String.self, "added_on"),
            tasks: try row.decode(Int.self, "tasks"),
            profile: try row.decode(PostgresJSON.self, "profile").decode(SystemProfile.self),
            classifiedWith: try row.decode(String?.self, "classified_with"),
            lawVersion: try row.decode(String?.self, "law_version")
        )
        review = Store.classificationReview(classifiedWith: classifiedWith, lawVersion: lawVersion)
    }
}

extension Store {
    /// Adds AI systems to a program's inventory, and the per-system tasks that apply to each, in one
    /// transaction: all are added, or none. Administrators and program managers.
    public func addSystems(program slug: String, _ systems: [NewAISystem], actor: String?) async throws -> [AISystem] {
        for system in systems {
            guard !system.name.trimmingCharacters(in: .whitespaces).isEmpty else { throw AccordError(.invalid, "an AI system needs a name") }
            if let area = system.annexIII, !(1...8).contains(area) {
                throw AccordError(
                    .invalid,
                    "Annex III area \(area) does not exist: the areas are 1 (biometrics) to 8 (justice and democratic processes)"
                )
            }
        }
        return try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let program = try await Self.visibleProgram(slug, for: acting, on: connection)
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            try await Self.requireManager(acting, of: program, workflow: workflow, to: "add AI systems", on: connection)
            var added: Set<String> = []
            for system in systems {
                let systemSlug = slugify(system.name)
                guard !systemSlug.isEmpty else { throw AccordError(.invalid, "AI system name '\(system.name)' needs at least one letter or digit") }
                let ownerID = if let owner = system.owner { try await Self.person(owner, on: connection).id } else { Int64?.none }
                let inserted: (id: Int64, addedOn: CalendarDate)
                do {
                    inserted = try await connection.queryOne(
                        SystemSQL.insert,
                        program.id,
                        systemSlug,
                        system.name,
                        system.operatorRole,
                        system.riskClass,
                        system.gpai,
                        system.annexIII.map { String($0) },
                        ownerID,
                        system.purpose,
                        try PostgresJSON(encoding: system.profile)
                    )
                } catch let error as PostgresError where error.isUniqueViolation {
                    throw AccordError(.conflict, "program '\(slug)' already has an AI system '\(systemSlug)'")
                }
                let systemRow = SystemRow(
                    id: inserted.id,
                    slug: systemSlug,
                    profile: system.profile,
                    addedOn: inserted.addedOn
                )
                let applicable = workflow.roadmapTasks.filter { $0.task.appliesTo?.matches(systemRow.profile) == true }
                let created = try await Self.instantiate(applicable, of: workflow, in: program, system: systemRow, on: connection)
                try await connection.appendAudit(
                    AuditRecord(
                        chain: programChain(slug),
                        actor: acting.handle,
                        action: "system.add",
                        objectType: "ai_system",
                        objectID: systemSlug,
                        after: auditJSON(
                            SystemAddRecord(
                                name: system.name,
                                role: system.operatorRole.rawValue,
                                roles: system.profile.roles.map(\.rawValue),
                                risk: system.riskClass.rawValue,
                                gpai: system.gpai,
                                annexIII: system.annexIII,
                                owner: system.owner,
                                tasks: created.keys.sorted()
                            )
                        )
                    )
                )
                added.insert(systemSlug)
            }
            return try await Self.systems(program, on: connection).filter { added.contains($0.slug) }
        }
    }

    /// A program's AI systems.
    public func systems(program slug: String, actor: String?) async throws -> [AISystem] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            return try await Self.systems(try await Self.visibleProgram(slug, for: acting, on: connection), on: connection)
        }
    }

    static func systems(_ program: ProgramRow, on connection: PostgresConnection) async throws -> [AISystem] {
        try await connection.query(SystemSQL.list, program.id)
    }

    /// Reads an inventory spreadsheet (CSV with a header row: name, role, risk; optional gpai, annex_iii,
    /// owner, purpose). Every problem names its row and column; nothing is returned when any row is bad.
    public static func parseSystemsCSV(_ text: String, file: String) throws -> [NewAISystem] {
        let rows: [(line: Int, fields: [String])]
        do {
            rows = try CSV.parse(text)
        } catch let error as CSV.Malformed {
            throw AccordError(.invalid, "\(file):\(error.line): \(error.message)")
        }
        guard let header = rows.first else {
            throw AccordError(.invalid, "\(file): the file is empty; it needs a header row: name,role,risk,gpai,annex_iii,owner,purpose")
        }
        let known = ["name", "role", "risk", "gpai", "annex_iii", "owner", "purpose"]
        var columns: [String: Int] = [:]
        var problems: [String] = []
        for (i, raw) in header.fields.enumerated() {
            let name = raw.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: " ", with: "_")
            if known.contains(name) {
                columns[name] = i
            } else {
                let hint = closest(to: name, among: known).first.map { "; did you mean '\($0)'?" } ?? ""
                problems.append("\(file):\(header.line): column \(i + 1) '\(raw)' is not a known column\(hint)")
            }
        }
        for required in ["name", "role", "risk"] where columns[required] == nil {
            problems.append("\(file):\(header.line): the header has no '\(required)' column")
        }
        guard problems.isEmpty else { throw AccordError(.invalid, problems.joined(separator: "\n")) }
        var systems: [NewAISystem] = []
        var names: [String: Int] = [:]
        for row in rows.dropFirst() {
            func value(_ column: String) -> String? {
                guard let i = columns[column], i < row.fields.count else { return nil }
                let text = row.fields[i].trimmingCharacters(in: .whitespaces)
                return text.isEmpty ? nil : text
            }
            func at(_ column: String) -> String { "\(file):\(row.line): column \((columns[column] ?? 0) + 1) (\(column))" }
            if row.fields.count > header.fields.count {
                problems.append("\(file):\(row.line): \(row.fields.count) fields, but the header has \(header.fields.count)")
                continue
            }
            guard let name = value("name") else {
                problems.append("\(at("name")): the name is empty")
                continue
            }
            if let first = names[slugify(name)] { problems.append("\(at("name")): '\(name)' repeats the system of line \(first)") }
            names[slugify(name)] = row.line
            // Several roles as "provider;deployer" or "provider+deployer" (an in-house system is both).
            let roleNames = (value("role") ?? "").lowercased().split(whereSeparator: { $0 == ";" || $0 == "+" || $0 == "|" })
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let roles = roleNames.compactMap(OperatorRole.init(rawValue:))
            let role = roles.count == roleNames.count ? roles.first : nil
            if role == nil {
                problems.append(
                    "\(at("role")): '\(value("role") ?? "")' is not one of provider, deployer, importer, distributor (several as provider;deployer)"
                )
            }
            let risk = value("risk").flatMap { RiskClass(rawValue: $0.lowercased()) }
            if risk == nil { problems.append("\(at("risk")): '\(value("risk") ?? "")' is not one of prohibited, high, limited, minimal") }
            var gpai = false
            if let text = value("gpai") {
                switch text.lowercased() {
                case "yes", "true", "y", "1": gpai = true
                case "no", "false", "n", "0": gpai = false
                default: problems.append("\(at("gpai")): '\(text)' is not yes or no")
                }
            }
            var annex: Int?
            if let text = value("annex_iii") {
                if let area = Int(text), (1...8).contains(area) {
                    annex = area
                } else {
                    problems.append("\(at("annex_iii")): '\(text)' is not an Annex III area 1 to 8")
                }
            }
            if let role, let risk {
                systems.append(
                    NewAISystem(
                        name: name,
                        operatorRole: role,
                        riskClass: risk,
                        gpai: gpai,
                        annexIII: annex,
                        owner: value("owner"),
                        purpose: value("purpose"),
                        moreRoles: Array(roles.dropFirst())
                    )
                )
            }
        }
        guard problems.isEmpty else { throw AccordError(.invalid, problems.joined(separator: "\n")) }
        guard !systems.isEmpty else { throw AccordError(.invalid, "\(file): no systems below the header row") }
        return systems
    }
}

struct SystemAddRecord: Encodable {
    var name: String
    var role: String
    var roles: [String]
    var risk: String
    var gpai: Bool
    var annexIII: Int?
    var owner: String?
    var tasks: [String]
}
