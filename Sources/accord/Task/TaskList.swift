import AccordCore
import AccordStore
import ArgumentParser

/// `accord task list`.
struct TaskList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List tasks you may see, filtered.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Option(help: "Only this program.") var program: String?
    @Flag(help: "Only tasks assigned to you, or unassigned in a role you hold.") var mine = false
    @Option(help: "Only tasks assigned to this person.") var assignee: String?
    @Option(help: "Only tasks in this state: blocked, open, in_progress, in_review, done, not_applicable, retired.") var state: TaskState?
    @Flag(help: "Only outstanding tasks past their due date.") var overdue = false
    @OptionGroup var output: JSONOption
    @Flag(help: "Print CSV (header row; quoted where needed).") var csv = false

    func validate() throws {
        if output.json && csv { throw ValidationError("choose one of --json and --csv") }
    }

    func run() async throws {
        let filter = TaskFilter(program: program, assignee: assignee, state: state, overdueOnly: overdue, mineOnly: mine)
        let tasks = try await withStore(database) { try await $0.tasks(filter, actor: acting.actor) }
        if output.json { return try printJSON(tasks) }
        let header = ["ID", "TASK", "STATE", "OWNER", "ASSIGNEE", "DUE", "LATE", "TITLE"]
        let rows = tasks.map {
            [
                String($0.id), $0.ref, $0.state.rawValue, $0.ownerRole, $0.assignee.orDash, $0.dueOn.orDash, $0.overdueDays.map { "\($0)d" } ?? "-",
                $0.title,
            ]
        }
        if csv {
            print(CSV.line(["id", "task", "state", "owner", "assignee", "due", "overdue_days", "title"]))
            for t in tasks {
                print(
                    CSV.line([
                        String(t.id), t.ref, t.state.rawValue, t.ownerRole, t.assignee ?? "", t.dueOn ?? "", t.overdueDays.map(String.init) ?? "",
                        t.title,
                    ])
                )
            }
            return
        }
        if tasks.isEmpty { return print("no tasks match") }
        printTable(header, rows)
    }
}
