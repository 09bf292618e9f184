import AccordStore
import ArgumentParser

/// `accord program show PROGRAM`.
struct ProgramShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a program: progress per step, overdue counts, next deadlines, roles."
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @OptionGroup var output: JSONOption
    @Argument(help: "The program's slug.") var program: String

    func run() async throws {
        let detail = try await withStore(database) { try await $0.program(program, actor: acting.actor) }
        if output.json { return try printJSON(detail) }
        let s = detail.summary
        print("\(s.slug): \(s.title)")
        print(
            "workflow \(s.workflow) version \(s.workflowVersion), started \(s.startsOn); \(s.tasks) tasks, \(s.progress)% finished, \(s.overdue) overdue; \(detail.systems) AI system(s)\n"
        )
        printTable(
            ["STEP", "TASKS", "DONE", "REVIEW", "WORKING", "OPEN", "BLOCKED", "OVERDUE", "PROGRESS"],
            detail.steps.map {
                [
                    $0.title, String($0.tasks), String($0.finished), String($0.inReview), String($0.inProgress), String($0.open), String($0.blocked),
                    String($0.overdue), "\($0.progress)%",
                ]
            }
        )
        if !detail.nextDeadlines.isEmpty {
            print("\nnext deadlines:")
            for d in detail.nextDeadlines { print("  \(d.dueOn)  \(d.task)  \(d.state)  \(d.assignee ?? "unassigned")") }
        }
        print("\nroles:")
        for role in detail.roles {
            print(
                "  \(role.role)\(role.leadership ? " (leadership)" : ""): \(role.members.isEmpty ? "nobody yet" : role.members.joined(separator: ", "))"
            )
        }
    }
}
