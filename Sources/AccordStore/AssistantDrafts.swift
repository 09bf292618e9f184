import AccordCore
public import Foundation
import Postgres

extension Store {
    /// Stores a note an AI assistant drafted as evidence of a task, in the name of the person whose token it
    /// holds and marked with the assistant as the tool that wrote it. The note opens with a line saying so,
    /// which every download, pack and reviewer sees.
    ///
    /// A draft never changes what a signature signed: a task in review or done is refused (new evidence
    /// there would withdraw its signatures), so the person decides, in Accord, whether the draft goes in.
    /// - Parameters:
    ///   - assistant: the assistant's own name when it gave one ("Claude"), kept to 60 characters.
    public func draftEvidenceNote(
        to ref: String,
        title: String,
        markdown: String,
        assistant: String?,
        at now: Date = Date(),
        actor: String?
    ) async throws -> EvidenceVersion {
        let title = title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty else { throw AccordError(.invalid, "the note needs a title", field: "title") }
        guard title.count <= 200 else { throw AccordError(.invalid, "the note's title is longer than 200 characters", field: "title") }
        let body = markdown.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !body.isEmpty else { throw AccordError(.invalid, "the note is empty", field: "markdown") }
        let name = assistant.map { String($0.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) }) }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .flatMap { $0.isEmpty ? nil : String($0.prefix(60)) }
        let tool = name.map { "AI assistant (\($0)) via MCP" } ?? "AI assistant via MCP"
        return try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let id = try await Self.resolveTask(ref, for: acting, on: connection)
            let task = try await Self.lockTask(id, on: connection)
            guard task.state != .inReview, task.state != .done else {
                throw AccordError(
                    .conflict,
                    "task '\(task.ref)' is \(task.state.rawValue): evidence added now would withdraw its signatures, so an assistant may not add it; attach it yourself in Accord if it should go in"
                )
            }
            let stamp = ISO8601DateFormatter.string(from: now, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime])
            let text = """
                > Drafted by \(tool) for \(acting.handle) on \(stamp). A person reviews it before the task is submitted.

                # \(title)

                \(body)

                """
            var file = try checkedEvidence(fileName: Self.noteFileName(title), bytes: Array(text.utf8), title: title)
            file.draftedWith = tool
            return try await Self.attach(file, to: id, by: acting, on: connection)
        }
    }

    /// `note-<title in lowercase letters, digits and dashes>.md`, at most 80 characters.
    static func noteFileName(_ title: String) -> String {
        var slug = ""
        for scalar in title.lowercased().unicodeScalars {
            if CharacterSet.alphanumerics.contains(scalar), scalar.isASCII {
                slug.unicodeScalars.append(scalar)
            } else if !slug.isEmpty, !slug.hasSuffix("-") {
                slug += "-"
            }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        return "note-\(slug.isEmpty ? "draft" : String(slug.prefix(70))).md"
    }
}
