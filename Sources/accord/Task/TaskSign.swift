import AccordCore
import AccordStore
public import ArgumentParser

extension SignatureMeaning: ExpressibleByArgument {}

/// `accord task sign TASK --meaning M [--comment C] [--password-stdin]`.
struct TaskSign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a task in review. Your password is asked again; the signature binds the task and its current evidence.",
        discussion:
            "Separation of duties applies unless the workflow turns it off: the assignee and the submitter may not sign, and one person fills one slot."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The task: id, or PROGRAM/TASK[@SYSTEM].") var task: String
    @Option(help: "What the signature means: approval, review, responsibility, authorship.") var meaning: SignatureMeaning = .approval
    @Option(help: "A comment recorded with the signature.") var comment: String?
    @Flag(help: "Read the password from the first line of standard input.") var passwordStdin = false

    func run() async throws {
        guard let password = try readPassword(fromStdin: passwordStdin, confirm: false) else {
            throw CommandFailure("signing needs your password: give --password-stdin or run in a terminal")
        }
        let outcome = try await withStore(database) {
            try await $0.sign(task, decision: .approve, meaning: meaning, comment: comment, password: password, actor: acting.actor)
        }
        printOutcome(outcome)
    }
}

func printOutcome(_ outcome: SigningOutcome) {
    let s = outcome.signature
    let who = s.onBehalfOf.map { "\(s.printedName) (\(s.signer)) on behalf of \($0)" } ?? "\(s.printedName) (\(s.signer))"
    print(
        "\(outcome.recorded ? "" : "already recorded: ")\(s.task): \(s.decision == .approve ? "signed" : "rejected") by \(who) as \(s.role ?? "-"), \(s.meaning.rawValue), \(s.versionNote), subject sha256 \(s.subjectSHA256)"
    )
    switch outcome.taskState {
    case .done: print("\(s.task) is done: its approval policy is met")
    case .inReview: print("still needed: " + ApprovalPolicy.neededSummary(outcome.remaining))
    default: print("\(s.task) is \(outcome.taskState.rawValue)")
    }
}
