import AccordCore
import AccordStore
import ArgumentParser

/// `accord workflow show ID`.
struct WorkflowShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a stored workflow: roles, steps, tasks and their refs.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: JSONOption
    @Argument(help: "The workflow id.")
    var id: String
    @Option(help: "The version (default: the latest).")
    var version: Int?

    func run() async throws {
        let workflow = try await withStore(database) { try await $0.workflow(id, version: version) }
        if output.json { return try printJSON(workflow) }
        print("\(workflow.id) version \(workflow.version): \(workflow.title)")
        print(
            "roles: "
                + workflow.roles.map { $0.key + ($0.leadership ? " (leadership)" : "") + ($0.manager ? " (manager)" : "") }.joined(separator: ", ")
        )
        for (name, date) in workflow.dates.sorted(by: { $0.value.date < $1.value.date }) { print("date \(name): \(date.date)") }
        if let cycle = workflow.cycle { print("cycles: every \(cycle.period), closed by a signed '\(cycle.review)'") }
        for (i, step) in workflow.steps.enumerated() {
            print("\n\(i + 1). \(step.title) [\(step.key)]")
            for task in step.tasks {
                var notes: [String] = []
                if let applies = task.appliesTo { notes.append("per system: \(applies.summary)") }
                if let approval = task.approval {
                    notes.append("sign-off: " + approval.signers.map { "\($0.quorum) \($0.role)" }.joined(separator: " + "))
                }
                if task.legalOnly { notes.append("legal only") }
                if let recurrence = task.recurrence { notes.append("recurs every \(recurrence)") }
                if let trigger = task.trigger { notes.append("per \(trigger.rawValue)") }
                print("   - \(task.key): \(task.title) (owner \(task.owner)\(notes.isEmpty ? "" : "; " + notes.joined(separator: "; ")))")
                if !task.refs.isEmpty { print("     refs: \(task.refs.joined(separator: ", "))") }
            }
        }
    }
}
