import AccordCore
import AccordStore
import ArgumentParser

/// `accord task submit TASK`.
struct TaskSubmit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "submit", abstract: "Hand a task in: to review when it needs sign-off, else done.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The task: id, or PROGRAM/TASK[@SYSTEM].") var task: String

    func run() async throws {
        let t = try await withStore(database) { try await $0.submitTask(task, actor: acting.actor) }
        print(t.state == .done ? "\(t.ref) is done" : "\(t.ref) is \(t.state): waiting for its sign-offs")
    }
}
