import AccordCore
import AccordReports
import AccordResources
public import AccordStore
import Foundation
public import MCP
import Postgres

/// Accord as a Model Context Protocol server, built on the official Swift SDK: the tools an AI assistant
/// may call, each run as the person whose token connected it, through the engine and its authorisation.
/// The assistant reads, and drafts work a person still completes; **no tool signs, rejects, assigns
/// authority or changes a role**, and the tool list says so.
public struct AccordTools: Sendable {
    let store: Store
    /// The person the token acts for.
    public let person: String
    /// Whether the token is read-only: the write tools are refused.
    public let readOnly: Bool
    /// What the audit entries of this connection's changes record as their origin (`accord.origin`), when
    /// the process serves other channels too; `nil` keeps the store's own.
    public let origin: String?

    /// Tools for a person's token.
    public init(store: Store, person: String, readOnly: Bool, origin: String? = nil) {
        self.store = store
        self.person = person
        self.readOnly = readOnly
        self.origin = origin
    }

    /// What the server tells the assistant when it connects.
    public static let instructions = """
        Accord runs an organisation's AI-compliance roadmap: EU AI Act obligations delivered through an \
        ISO/IEC 42001 AI management system. The tools read programs, inboxes, tasks and their evidence, as the \
        person whose token you hold, and may draft work a person completes (a comment, an evidence note, a \
        finding). No tool signs, rejects, assigns authority \
        or changes a role: signing stays a human act with re-authentication in Accord itself.
        """

    /// The tools, the write ones marked as such.
    public static let tools: [Tool] = [
        Tool(
            name: "list_programs",
            description: "The compliance programs you may see, with their progress (tasks done, open, overdue).",
            inputSchema: .object(["type": "object", "properties": .object([:])]),
            annotations: .init(readOnlyHint: true)
        ),
        Tool(
            name: "my_inbox",
            description: "What waits for you: sign-offs you may give, your tasks, reminders and escalations.",
            inputSchema: .object(["type": "object", "properties": .object([:])]),
            annotations: .init(readOnlyHint: true)
        ),
        Tool(
            name: "get_task",
            description: "One task with its regulatory references (articles, clauses), evidence versions and signatures.",
            inputSchema: .object([
                "type": "object", "required": .array(["task"]),
                "properties": .object(["task": .object(["type": "string", "description": "A task id, or PROGRAM/TASK[@SYSTEM]"])]),
            ]),
            annotations: .init(readOnlyHint: true)
        ),
        Tool(
            name: "search_tasks",
            description: "Tasks of a program, optionally only the overdue ones, or those of one AI system, state or assignee.",
            inputSchema: .object([
                "type": "object", "required": .array(["program"]),
                "properties": .object([
                    "program": .object(["type": "string", "description": "The program's slug"]),
                    "overdue_only": .object(["type": "boolean"]), "system": .object(["type": "string"]),
                    "state": .object(["type": "string", "enum": .array(["blocked", "open", "in_progress", "in_review", "done", "not_applicable"])]),
                    "assignee": .object(["type": "string"]),
                ]),
            ]),
            annotations: .init(readOnlyHint: true)
        ),
        Tool(
            name: "ai_system",
            description:
                "What the law asks of one AI system: its classification profile (role, risk, route, Annex III point, transparency cases) and the tasks its obligations became, each citing its articles and clauses.",
            inputSchema: .object([
                "type": "object", "required": .array(["program", "system"]),
                "properties": .object([
                    "program": .object(["type": "string"]), "system": .object(["type": "string", "description": "The system's slug"]),
                ]),
            ]),
            annotations: .init(readOnlyHint: true)
        ),
        Tool(
            name: "report",
            description:
                "A program's report: status, accountability, soa (statement of applicability), crosswalk (AI Act articles to ISO/IEC 42001), overdue (late work and escalations) or cycles.",
            inputSchema: .object([
                "type": "object", "required": .array(["program", "kind"]),
                "properties": .object([
                    "program": .object(["type": "string"]),
                    "kind": .object(["type": "string", "enum": .array(ReportKind.allCases.map { .string($0.rawValue) })]),
                ]),
            ]),
            annotations: .init(readOnlyHint: true)
        ),
        Tool(
            name: "incidents",
            description: "A program's serious incidents with their Art. 73 reporting clock (deadline, time left), or one by number.",
            inputSchema: .object([
                "type": "object", "required": .array(["program"]),
                "properties": .object(["program": .object(["type": "string"]), "number": .object(["type": "integer"])]),
            ]),
            annotations: .init(readOnlyHint: true)
        ),
        Tool(
            name: "comment_on_task",
            title: "Comment on a task (writes)",
            description:
                "WRITES: adds a comment to a task, in your name and recorded in the audit trail as made through an assistant. It cannot be edited or removed. This never signs or approves anything.",
            inputSchema: .object([
                "type": "object", "required": .array(["task", "body"]),
                "properties": .object(["task": .object(["type": "string"]), "body": .object(["type": "string", "maxLength": 5000])]),
            ]),
            annotations: .init(readOnlyHint: false, destructiveHint: false, idempotentHint: false)
        ),
        Tool(
            name: "draft_evidence_note",
            title: "Draft an evidence note (writes)",
            description:
                "WRITES: attaches a Markdown note you drafted to a task as evidence, uploaded in your name and marked as drafted by an AI assistant via MCP. The task stays where it is: a person reviews the note and submits the task. Refused on a task in review or done, whose signatures new evidence would withdraw. This never signs or submits anything.",
            inputSchema: .object([
                "type": "object", "required": .array(["task", "title", "markdown"]),
                "properties": .object([
                    "task": .object(["type": "string", "description": "A task id, or PROGRAM/TASK[@SYSTEM]"]),
                    "title": .object([
                        "type": "string", "maxLength": 200, "description": "The evidence title; a second note under it is a new version",
                    ]),
                    "markdown": .object(["type": "string", "maxLength": 100_000]),
                    "assistant": .object(["type": "string", "maxLength": 60, "description": "Your own name, recorded as the tool used"]),
                ]),
            ]),
            annotations: .init(readOnlyHint: false, destructiveHint: false, idempotentHint: false)
        ),
        Tool(
            name: "report_finding",
            title: "Report a finding (writes)",
            description:
                "WRITES: raises a finding (a nonconformity or observation, ISO/IEC 42001 clause 10.2) in a program, in your name; its corrective-action tasks are created for people to work. This never signs, closes or assigns anything.",
            inputSchema: .object([
                "type": "object", "required": .array(["program", "title", "severity"]),
                "properties": .object([
                    "program": .object(["type": "string"]),
                    "title": .object(["type": "string", "maxLength": 500]),
                    "severity": .object(["type": "string", "enum": .array(FindingSeverity.allCases.map { .string($0.rawValue) })]),
                    "source": .object(["type": "string", "enum": .array(FindingSource.allCases.map { .string($0.rawValue) }), "default": "other"]),
                    "system": .object(["type": "string", "description": "The AI system's slug, when it concerns one"]),
                ]),
            ]),
            annotations: .init(readOnlyHint: false, destructiveHint: false, idempotentHint: false)
        ),
    ]

    /// The tools that write; a read-only token is refused them.
    static let writeTools: Set<String> = ["comment_on_task", "draft_evidence_note", "report_finding"]

    /// Runs a tool. A refusal by the engine is a tool error the assistant can read, not a protocol error.
    public func call(_ name: String, arguments: [String: Value]?) async -> CallTool.Result {
        await PostgresPool.$transactionSettings.withValue(origin.map { ["accord.origin": $0] } ?? [:]) {
            await run(name, arguments: arguments)
        }
    }

    private func run(_ name: String, arguments: [String: Value]?) async -> CallTool.Result {
        do {
            if Self.writeTools.contains(name), readOnly {
                throw AccordError(.forbidden, "this token is read-only: the assistant may read, not write")
            }
            let arguments = arguments ?? [:]
            func text(_ key: String) throws -> String {
                guard let value = arguments[key]?.stringValue, !value.isEmpty else {
                    throw AccordError(.invalid, "the argument '\(key)' is needed", field: key)
                }
                return value
            }
            /// One of an enumeration's values, by its raw value; `fallback` when the argument is absent.
            func choice<T: RawRepresentable & CaseIterable>(_ key: String, _: T.Type, default fallback: T? = nil) throws -> T
            where T.RawValue == String {
                if arguments[key] == nil, let fallback { return fallback }
                guard let value = arguments[key]?.stringValue.flatMap(T.init(rawValue:)) else {
                    throw AccordError(.invalid, "\(key) is one of \(T.allCases.map(\.rawValue).joined(separator: ", "))", field: key)
                }
                return value
            }
            switch name {
            case "list_programs":
                return try json(try await store.programs(actor: person))
            case "my_inbox":
                return try json(try await store.inbox(actor: person))
            case "get_task":
                return try json(try await store.task(try text("task"), actor: person))
            case "search_tasks":
                var filter = TaskFilter(program: try text("program"), assignee: arguments["assignee"]?.stringValue)
                filter.overdueOnly = arguments["overdue_only"]?.boolValue ?? false
                filter.system = arguments["system"]?.stringValue
                filter.state = arguments["state"]?.stringValue.flatMap(TaskState.init(rawValue:))
                return try json(try await store.tasks(filter, actor: person))
            case "ai_system":
                let program = try text("program")
                let system = try await store.system(program: program, system: try text("system"), actor: person)
                var filter = TaskFilter(program: program)
                filter.system = system.slug
                return try json(SystemObligations(system: system, tasks: try await store.tasks(filter, actor: person)))
            case "report":
                return try json(try await store.report(try choice("kind", ReportKind.self), program: try text("program"), actor: person))
            case "incidents":
                let program = try text("program")
                if let number = arguments["number"]?.intValue {
                    return try json(try await store.incident(program: program, number: number, actor: person))
                }
                return try json(try await store.incidents(program: program, actor: person))
            case "comment_on_task":
                return try json(try await store.addComment(to: try text("task"), body: try text("body"), actor: person))
            case "draft_evidence_note":
                let note = try await store.draftEvidenceNote(
                    to: try text("task"),
                    title: try text("title"),
                    markdown: try text("markdown"),
                    assistant: arguments["assistant"]?.stringValue,
                    actor: person
                )
                return try json(note)
            case "report_finding":
                let finding = try await store.addFinding(
                    program: try text("program"),
                    source: try choice("source", FindingSource.self, default: .other),
                    severity: try choice("severity", FindingSeverity.self),
                    title: try text("title"),
                    system: arguments["system"]?.stringValue,
                    actor: person
                )
                return try json(finding)
            default:
                return CallTool.Result(content: [.text(text: "no tool '\(name)'", annotations: nil, _meta: nil)], isError: true)
            }
        } catch let refusal as AccordError {
            return CallTool.Result(content: [.text(text: refusal.message, annotations: nil, _meta: nil)], isError: true)
        } catch {
            return CallTool.Result(content: [.text(text: "the tool failed: \(error)", annotations: nil, _meta: nil)], isError: true)
        }
    }

    private func json(_ value: some Encodable) throws -> CallTool.Result {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return CallTool.Result(content: [.text(text: String(decoding: try encoder.encode(value), as: UTF8.self), annotations: nil, _meta: nil)])
    }

    /// A server with these tools, for any transport.
    public func server() async -> Server {
        let server = Server(
            name: "accord",
            version: "1",
            instructions: Self.instructions,
            capabilities: .init(
                prompts: .init(listChanged: false),
                resources: .init(subscribe: false, listChanged: false),
                tools: .init(listChanged: false)
            )
        )
        await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: Self.tools) }
        await server.withMethodHandler(ListResources.self) { _ in ListResources.Result(resources: Self.resources, nextCursor: nil) }
        await server.withMethodHandler(ReadResource.self) { params in
            guard let file = Self.resourceFiles[params.uri] else { throw MCPError.invalidParams("no resource \(params.uri)") }
            return ReadResource.Result(contents: [Resource.Content.text(file.text, uri: params.uri, mimeType: "application/yaml")])
        }
        await server.withMethodHandler(ListPrompts.self) { _ in ListPrompts.Result(prompts: Self.prompts, nextCursor: nil) }
        await server.withMethodHandler(GetPrompt.self) { params in
            guard let prompt = Self.promptTexts[params.name] else { throw MCPError.invalidParams("no prompt \(params.name)") }
            let program = params.arguments?["program"] ?? "the program"
            return GetPrompt.Result(description: prompt.0, messages: [.user(.text(text: prompt.1(program)))])
        }
        await server.withMethodHandler(CallTool.self) { params in await self.call(params.name, arguments: params.arguments) }
        return server
    }
}

/// One AI system and the tasks its obligations became.
struct SystemObligations: Encodable {
    var system: AISystem
    var tasks: [TaskSummary]
}

extension AccordTools {
    /// The files behind the resources: the built-in workflows and the regulation catalogue, by URI.
    static let resourceFiles: [String: EmbeddedFile] = {
        var files: [String: EmbeddedFile] = [:]
        for workflow in Resources.workflows { files["accord://workflows/\(workflow.name)"] = workflow }
        if let regulation = Resources.regulation { files["accord://reference/regulation.yaml"] = regulation }
        return files
    }()

    /// The resources: the workflow definitions (roadmap as code) and the regulation catalogue every ref cites.
    static let resources: [Resource] = resourceFiles.keys.sorted().map { uri in
        uri.hasPrefix("accord://reference/")
            ? Resource(
                name: "Regulation catalogue",
                uri: uri,
                description: "ISO/IEC 42001 clauses and Annex A controls and the EU AI Act articles every task cites, in our own words",
                mimeType: "application/yaml"
            )
            : Resource(
                name: "Workflow \(uri.split(separator: "/").last ?? "")",
                uri: uri,
                description: "A built-in roadmap: roles, steps, tasks, approval policies and their regulatory refs",
                mimeType: "application/yaml"
            )
    }

    /// The prompts, each taking the program's slug.
    static let prompts: [Prompt] = [
        Prompt(
            name: "prepare-management-review",
            description: "Prepare my management review (ISO/IEC 42001 clause 9.3) from the program's state",
            arguments: [.init(name: "program", description: "The program's slug", required: true)]
        ),
        Prompt(
            name: "what-blocks-certification",
            description: "What stands between the program and an ISO/IEC 42001 certification audit",
            arguments: [.init(name: "program", description: "The program's slug", required: true)]
        ),
    ]

    static let promptTexts: [String: (String, @Sendable (String) -> String)] = [
        "prepare-management-review": (
            "Prepare a management review",
            {
                "Prepare the inputs of a management review (ISO/IEC 42001 clause 9.3) for program \($0). Use the report tool for status, overdue, cycles and accountability, my_inbox for what waits on me, and incidents for serious incidents. List the status of actions from previous reviews, changes, the performance of the AI management system, nonconformities and opportunities. Cite the clause or article of each point. Do not sign or approve anything: the review is signed in Accord."
            }
        ),
        "what-blocks-certification": (
            "What blocks certification",
            {
                "For program \($0), find what blocks an ISO/IEC 42001 certification audit. Use report soa for controls without justification or status, report overdue for late work and escalations, and search_tasks for tasks not done whose refs are clauses 4 to 10. Group the blockers by clause, most late first, and name who owns each. Note that certification gives no presumption of conformity with the EU AI Act."
            }
        ),
    ]
}
