import AccordStore
import ArgumentParser

/// `accord task assign TASK HANDLE`.
struct TaskAssign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assign",
        abstract: "Assign a task to a person holding a role in its program (administrators and managers)."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The task: id, or PROGRAM/TASK[@SYSTEM].") var task: String
    @Argument(help: "The assignee's handle.") var handle: String

    func run() async throws {
        let t = try await withStore(database) { try await $0.assignTask(task, to: handle, actor: acting.actor) }
        print("\(t.ref) assigned to \(t.assignee ?? handle) (\(t.state))")
    }
}
