import AccordCore
import AccordReports
public import AccordStore
import Foundation
public import Hummingbird
import HummingbirdAuth

extension TaskComment: ResponseEncodable {}
extension AssignedTasks: ResponseEncodable {}

/// The body of `POST /programs/{program}/assign`: each task and its new assignee. Read leniently (a missing
/// list is an empty one), so that who may assign is decided before what was sent is judged.
struct AssignmentsBody: Decodable {
    struct Item: Decodable {
        var task: Int64
        var assignee: String
    }
    var assignments: [Item]?
}

/// The body of `POST /tasks/{task}/comments`; read leniently for the same reason.
struct CommentBody: Decodable {
    var body: String?
}

/// The work on tasks through the API, under `/api/v1` next to `APIController`: assigning many tasks at
/// once, a program's evidence pack and OSCAL export, and a task's comment thread.
struct WorkAPIController {
    let store: Store

    /// The routes, relative to `/api/v1`.
    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .post("programs/:program/assign", use: assign)
            .post("programs/:program/pack", use: pack)
            .get("programs/:program/oscal", use: oscal)
            .get("tasks/:task/comments", use: comments)
            .post("tasks/:task/comments", use: addComment)
    }

    @Sendable func assign(_ request: Request, context: AccordContext) async throws -> AssignedTasks {
        let body = try await request.decode(as: AssignmentsBody.self, context: context)
        return try await store.assignTasks(
            (body.assignments ?? []).map { (task: String($0.task), assignee: $0.assignee) },
            program: try context.parameters.require("program"),
            actor: try context.actor
        )
    }

    @Sendable func pack(_ request: Request, context: AccordContext) async throws -> Response {
        try await evidencePackDownload(store, program: try context.parameters.require("program"), actor: try context.actor, context: context)
    }

    @Sendable func oscal(_ request: Request, context: AccordContext) async throws -> Response {
        try await oscalDownload(store, program: try context.parameters.require("program"), actor: try context.actor)
    }

    @Sendable func comments(_ request: Request, context: AccordContext) async throws -> Response {
        let list = try ListRequest(request, defaultFormat: .json)
        let task = try taskID(context)
        let paged = try await store.comments(of: task, paging: list.paging, actor: try context.actor)
        return try listDownload(paged, name: "task-\(task)-comments", format: list.format)
    }

    @Sendable func addComment(_ request: Request, context: AccordContext) async throws -> EditedResponse<TaskComment> {
        let body = try await request.decode(as: CommentBody.self, context: context)
        let comment = try await store.addComment(to: try taskID(context), body: body.body ?? "", actor: try context.actor)
        return EditedResponse(status: .created, response: comment)
    }

    /// The task in the path: a numeric id.
    private func taskID(_ context: AccordContext) throws -> String {
        let value = try context.parameters.require("task")
        guard Int64(value) != nil else { throw AccordError(.invalid, "a task is addressed by its numeric id in the API") }
        return value
    }
}

extension TaskComment: CSVRecord {
    static let csvHeader = ["id", "task", "author", "author_name", "at", "body"]
    var csvFields: [String] { [String(id), task, author, authorName, ISO8601DateFormatter().string(from: at), body] }
}
