import AccordStore
import ArgumentParser

/// `accord task start TASK`.
struct TaskStart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start work on a task (its assignee, or a holder of its owner role)."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The task: id, or PROGRAM/TASK[@SYSTEM].") var task: String

    func run() async throws {
        let t = try await withStore(database) { try await $0.startTask(task, actor: acting.actor) }
        print("\(t.ref) is \(t.state) (assignee \(t.assignee.orDash))")
    }
}
