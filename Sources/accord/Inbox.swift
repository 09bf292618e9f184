import AccordCore
import AccordStore
import ArgumentParser

/// `accord inbox`: what waits for the acting person.
struct InboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inbox",
        abstract: "What waits for you: reminders and escalations, sign-offs you can give now, your open tasks."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let inbox = try await withStore(database) { try await $0.inbox(actor: acting.actor) }
        if output.json { return try printJSON(inbox) }
        print("reminders and escalations (\(inbox.notices.count)):")
        for notice in inbox.notices { print("  \(notice.message)") }
        print(
            "\nsign-offs waiting for you (\(inbox.signOffs.count)\(inbox.signOffsMore ? ", the most late first; more wait: 'accord task list --state in_review'" : "")):"
        )
        printTable(
            ["  task", "due", "late", "title"],
            inbox.signOffs.map { ["  " + $0.ref, $0.dueOn.orDash, $0.overdueDays.map { "\($0)d" } ?? "-", $0.title] }
        )
        print("\nyour tasks (\(inbox.tasks.count)):")
        printTable(
            ["  task", "state", "due", "late", "title"],
            inbox.tasks.map { ["  " + $0.ref, $0.state.rawValue, $0.dueOn.orDash, $0.overdueDays.map { "\($0)d" } ?? "-", $0.title] }
        )
    }
}
