import AccordCore
import AccordStore
import ArgumentParser

/// `accord task reject TASK --comment C`.
struct TaskReject: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject",
        abstract: "Reject a task in review: it goes back to work with your reason. Your password is asked again."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The task: id, or PROGRAM/TASK[@SYSTEM].") var task: String
    @Option(help: "Why it is rejected (required).") var comment: String
    @Flag(help: "Read the password from the first line of standard input.") var passwordStdin = false

    func run() async throws {
        guard let password = try readPassword(fromStdin: passwordStdin, confirm: false) else {
            throw CommandFailure("rejecting needs your password: give --password-stdin or run in a terminal")
        }
        let outcome = try await withStore(database) {
            try await $0.sign(task, decision: .reject, meaning: nil, comment: comment, password: password, actor: acting.actor)
        }
        printOutcome(outcome)
    }
}
