import AccordStore
import ArgumentParser

/// `accord task not-applicable TASK --reason R`.
struct TaskNotApplicable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "not-applicable",
        abstract: "Declare a task out of scope, with the reason (kept for the statement of applicability)."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The task: id, or PROGRAM/TASK[@SYSTEM].") var task: String
    @Option(help: "Why it does not apply.") var reason: String

    func run() async throws {
        let t = try await withStore(database) { try await $0.markNotApplicable(task, reason: reason, actor: acting.actor) }
        print("\(t.ref) is not applicable")
    }
}
