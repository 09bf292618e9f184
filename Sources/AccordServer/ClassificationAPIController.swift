import AccordCore
public import AccordStore
import Foundation
public import Hummingbird

extension Questionnaire: ResponseEncodable {}
extension ClassificationResult: ResponseEncodable {}

/// A classification to record: the answers (question id → value, list of values or text), why, and a note.
struct ClassificationBody: Decodable {
    var answers: [String: Answer]?
    var reason: String?
    var note: String?
}

extension ClassificationHistory: ResponseEncodable {}

/// The API of classifying AI systems under `/api/v1`: the questionnaire a program uses, a system's
/// classification history, and recording (or, with `dry_run=true`, previewing) a classification.
struct ClassificationAPIController {
    let store: Store

    /// The routes, relative to `/api/v1`.
    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("programs/:program/questionnaire", use: questionnaire)
            .get("programs/:program/systems/:system/classification", use: history)
            .post("programs/:program/systems/:system/classification", use: classify)
    }

    @Sendable func questionnaire(_ request: Request, context: AccordContext) async throws -> Questionnaire {
        try await store.questionnaire(program: try context.parameters.require("program"), actor: try context.actor)
    }

    @Sendable func history(_ request: Request, context: AccordContext) async throws -> ClassificationHistory {
        try await store.classificationHistory(
            program: try context.parameters.require("program"),
            system: try context.parameters.require("system"),
            actor: try context.actor
        )
    }

    @Sendable func classify(_ request: Request, context: AccordContext) async throws -> EditedResponse<ClassificationResult> {
        let slug = try context.parameters.require("program")
        let systemSlug = try context.parameters.require("system")
        let actor = try context.actor
        try await store.requireManager(program: slug, actor: actor, to: "classify AI systems")
        var dryRun = false
        if let text = request.uri.queryParameters["dry_run"] {
            guard text == "true" || text == "false" else { throw AccordError(.invalid, "dry_run is true or false", field: "dry_run") }
            dryRun = text == "true"
        }
        let body = try await request.decode(as: ClassificationBody.self, context: context)
        guard let answers = body.answers else {
            throw AccordError(.invalid, "give the answers: an object from question id to a value, a list of values or text", field: "answers")
        }
        var reason = ClassificationReason.initial
        if let text = body.reason {
            guard let parsed = ClassificationReason(rawValue: text) else {
                throw AccordError(
                    .invalid,
                    "reason is one of \(ClassificationReason.allCases.map(\.rawValue).joined(separator: ", "))",
                    field: "reason"
                )
            }
            reason = parsed
        }
        let result = try await store.classifySystem(
            program: slug,
            system: systemSlug,
            answers: answers,
            reason: reason,
            note: body.note,
            dryRun: dryRun,
            actor: actor
        )
        return EditedResponse(status: dryRun ? .ok : .created, response: result)
    }
}
