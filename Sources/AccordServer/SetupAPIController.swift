import AccordCore
public import AccordStore
import Foundation
public import Hummingbird
import HummingbirdAuth

extension WorkflowSummary: ResponseEncodable {}
extension AISystem: ResponseEncodable {}
extension RoleMembers: ResponseEncodable {}
extension RoleHolders: ResponseEncodable {}
extension UpgradePlan: ResponseEncodable {}

extension WorkflowSummary: CSVRecord {
    static let csvHeader = ["id", "version", "title", "steps", "tasks", "sha256", "loaded_at", "loaded_by"]
    var csvFields: [String] {
        [id, String(version), title, String(steps), String(tasks), checksum, ISO8601DateFormatter().string(from: loadedAt), loadedBy]
    }
}

extension AISystem: CSVRecord {
    static let csvHeader = ["slug", "name", "role", "risk", "gpai", "annex_iii", "owner", "purpose", "added_on", "tasks"]
    var csvFields: [String] {
        [
            slug, name, operatorRole.rawValue, riskClass.rawValue, gpai ? "yes" : "no", annexIII.map(String.init) ?? "", owner ?? "",
            purpose ?? "", addedOn, String(tasks),
        ]
    }
}

/// Bodies the setup operations accept; every field is optional here so that a missing one is refused by
/// name (422), after the caller's authority is checked.
struct StartProgramBody: Decodable {
    var workflow: String?
    var version: Int?
    var title: String?
    var slug: String?
    var starts_on: String?
}
struct HolderBody: Decodable { var handle: String? }
struct NewSystemBody: Decodable {
    var name: String?
    var role: String?
    var roles: [String]?
    var risk: String?
    var gpai: Bool?
    var annex_iii: Int?
    var owner: String?
    var purpose: String?
}
struct UpgradeBody: Decodable { var version: Int? }

/// An AI system and a page of the tasks it brought.
struct AISystemDetail: ResponseEncodable, Sendable {
    var system: AISystem
    var tasks: Page<TaskSummary>
}

/// A workflow file that did not load: a problem document (422) with each problem at its line and column.
struct WorkflowProblem: Encodable {
    struct Place: Encodable {
        var line: Int
        var column: Int
        var message: String
    }
    var type = "/problems/invalid-workflow"
    var title = "Invalid workflow"
    var status = 422
    var detail: String
    var problems: [Place]

    init(_ invalid: WorkflowInvalid) {
        problems = invalid.diagnostics.map { Place(line: $0.line, column: $0.column, message: $0.message) }
        detail = invalid.diagnostics.map { "\($0.line):\($0.column): \($0.message)" }.joined(separator: "\n")
    }

    func response() throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: .unprocessableContent,
            headers: [.contentType: "application/problem+json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(self)))
        )
    }
}

/// The API of setting a program up, under `/api/v1`: workflows, starting programs, role holders, the
/// AI-system inventory, upgrades and reinstating tasks. The engine checks authority; where a body must be
/// validated, the caller's authority over the program is checked first.
struct SetupAPIController {
    let store: Store

    /// The routes, relative to `/api/v1`.
    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("workflows", use: workflows)
            .post("workflows", use: loadWorkflow)
            .post("programs", use: startProgram)
            .get("programs/:program/roles", use: roles)
            .post("programs/:program/roles/:role/holders", use: addHolder)
            .delete("programs/:program/roles/:role/holders/:handle", use: removeHolder)
            .get("programs/:program/systems", use: systems)
            .post("programs/:program/systems", use: addSystem)
            .post("programs/:program/systems/import", use: importSystems)
            .get("programs/:program/systems/:system", use: system)
            .post("programs/:program/upgrade", use: upgrade)
            .post("tasks/:task/reinstate", use: reinstate)
    }

    @Sendable func workflows(_ request: Request, context: AccordContext) async throws -> Response {
        let list = try ListRequest(request, defaultFormat: .json)
        return try listDownload(try await store.workflows(paging: list.paging, actor: try context.actor), name: "workflows", format: list.format)
    }

    @Sendable func loadWorkflow(_ request: Request, context: AccordContext) async throws -> Response {
        let person = try context.requireIdentity().person
        guard person.isAdmin else { throw AccordError(.forbidden, "only an administrator loads workflows; '\(person.handle)' is not one") }
        let body = try await request.body.collect(upTo: WorkflowPages.maxWorkflowBytes)
        guard let text = String(bytes: body.readableBytesView, encoding: .utf8) else {
            throw AccordError(.invalid, "the body is not a workflow: it is not UTF-8 text")
        }
        let name = request.uri.queryParameters["filename"].map { baseName(String($0)) } ?? "workflow.yaml"
        do {
            switch try await store.loadWorkflow(yaml: text, file: name.isEmpty ? "workflow.yaml" : name, actor: person.handle) {
            case .stored(let summary): return try EditedResponse(status: .created, response: summary).response(from: request, context: context)
            case .unchanged(let summary): return try summary.response(from: request, context: context)
            }
        } catch let invalid as WorkflowInvalid {
            return try WorkflowProblem(invalid).response()
        }
    }

    @Sendable func startProgram(_ request: Request, context: AccordContext) async throws -> EditedResponse<ProgramDetail> {
        let person = try context.requireIdentity().person
        guard person.isAdmin else { throw AccordError(.forbidden, "only an administrator starts programs; '\(person.handle)' is not one") }
        let body = try await request.decode(as: StartProgramBody.self, context: context)
        guard let workflow = body.workflow, !workflow.isEmpty else {
            throw AccordError(.invalid, "name the workflow the program runs", field: "workflow")
        }
        guard let title = body.title, !title.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw AccordError(.invalid, "give the program a title", field: "title")
        }
        var startsOn: CalendarDate?
        if let text = body.starts_on {
            guard let date = CalendarDate(text) else { throw AccordError(.invalid, "starts_on is a date, YYYY-MM-DD", field: "starts_on") }
            startsOn = date
        }
        let detail = try await store.startProgram(
            workflow: workflow,
            version: body.version,
            title: title,
            slug: body.slug,
            startsOn: startsOn,
            actor: person.handle
        )
        return EditedResponse(status: .created, response: detail)
    }

    @Sendable func roles(_ request: Request, context: AccordContext) async throws -> Items<RoleHolders> {
        Items(items: try await store.roleHolders(program: try context.parameters.require("program"), actor: try context.actor))
    }

    @Sendable func addHolder(_ request: Request, context: AccordContext) async throws -> RoleMembers {
        let slug = try context.parameters.require("program")
        try await store.requireManager(program: slug, actor: try context.actor, to: "change role bindings")
        let body = try await request.decode(as: HolderBody.self, context: context)
        guard let handle = body.handle, !handle.isEmpty else { throw AccordError(.invalid, "name the person to bind", field: "handle") }
        return try await store.bindRole(program: slug, role: try context.parameters.require("role"), handles: [handle], actor: try context.actor)
    }

    @Sendable func removeHolder(_ request: Request, context: AccordContext) async throws -> RoleMembers {
        try await store.unbindRole(
            program: try context.parameters.require("program"),
            role: try context.parameters.require("role"),
            handles: [try context.parameters.require("handle")],
            actor: try context.actor
        )
    }

    @Sendable func systems(_ request: Request, context: AccordContext) async throws -> Response {
        let slug = try context.parameters.require("program")
        let list = try ListRequest(request, defaultFormat: .json)
        return try listDownload(
            try await store.systems(program: slug, paging: list.paging, actor: try context.actor),
            name: "\(slug)-systems",
            format: list.format
        )
    }

    @Sendable func addSystem(_ request: Request, context: AccordContext) async throws -> EditedResponse<AISystem> {
        let slug = try context.parameters.require("program")
        try await store.requireManager(program: slug, actor: try context.actor, to: "add AI systems")
        let body = try await request.decode(as: NewSystemBody.self, context: context)
        guard let name = body.name, !name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw AccordError(.invalid, "give the AI system a name", field: "name")
        }
        let names = body.roles ?? body.role.map { [$0] } ?? []
        let roles = names.compactMap(OperatorRole.init(rawValue:))
        guard let role = roles.first, roles.count == names.count else {
            throw AccordError(.invalid, "role (or roles, a list) is one of provider, deployer, importer, distributor", field: "role")
        }
        guard let risk = body.risk.flatMap(RiskClass.init(rawValue:)) else {
            throw AccordError(.invalid, "risk is one of prohibited, high, limited, minimal", field: "risk")
        }
        let system = NewAISystem(
            name: name,
            operatorRole: role,
            riskClass: risk,
            gpai: body.gpai ?? false,
            annexIII: body.annex_iii,
            owner: body.owner,
            purpose: body.purpose,
            moreRoles: Array(roles.dropFirst())
        )
        let added = try await store.addSystems(program: slug, [system], actor: try context.actor)
        guard let first = added.first else { throw AccordError(.conflict, "the AI system was not added") }
        return EditedResponse(status: .created, response: first)
    }

    @Sendable func importSystems(_ request: Request, context: AccordContext) async throws -> EditedResponse<Items<AISystem>> {
        let slug = try context.parameters.require("program")
        try await store.requireManager(program: slug, actor: try context.actor, to: "add AI systems")
        let body = try await request.body.collect(upTo: ProgramSetupPages.maxImportBytes)
        guard let text = String(bytes: body.readableBytesView, encoding: .utf8) else {
            throw AccordError(.invalid, "the body is not a spreadsheet: it is not UTF-8 text (save it as CSV UTF-8)")
        }
        let systems = try Store.parseSystemsCSV(text, file: "body")
        return EditedResponse(status: .created, response: Items(items: try await store.addSystems(program: slug, systems, actor: try context.actor)))
    }

    @Sendable func system(_ request: Request, context: AccordContext) async throws -> AISystemDetail {
        let slug = try context.parameters.require("program")
        let actor = try context.actor
        let system = try await store.system(program: slug, system: try context.parameters.require("system"), actor: actor)
        let list = try ListRequest(request, defaultFormat: .json)
        let tasks = try await store.tasks(.of(program: slug, system: system.slug), paging: list.paging, actor: actor)
        return AISystemDetail(system: system, tasks: Page(tasks))
    }

    @Sendable func upgrade(_ request: Request, context: AccordContext) async throws -> UpgradePlan {
        let slug = try context.parameters.require("program")
        try await store.requireManager(program: slug, actor: try context.actor, to: "upgrade the program")
        var dryRun = false
        if let text = request.uri.queryParameters["dry_run"] {
            guard text == "true" || text == "false" else { throw AccordError(.invalid, "dry_run is true or false", field: "dry_run") }
            dryRun = text == "true"
        }
        let body = try await request.decode(as: UpgradeBody.self, context: context)
        guard let version = body.version else { throw AccordError(.invalid, "name the version to upgrade to", field: "version") }
        return try await store.upgradeProgram(slug, to: version, dryRun: dryRun, actor: try context.actor)
    }

    @Sendable func reinstate(_ request: Request, context: AccordContext) async throws -> TaskSummary {
        let value = try context.parameters.require("task")
        guard Int64(value) != nil else { throw AccordError(.invalid, "a task is addressed by its numeric id in the API") }
        return try await store.reinstateTask(value, actor: try context.actor)
    }
}
