import AccordCore
import AccordSSO
import AccordStore
public import ArgumentParser
import AsyncHTTPClient
import Foundation

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
    @Flag(help: "Sign with a fresh login at your identity provider instead of a password: prints the address to open.") var sso = false
    @Option(
        help: ArgumentHelp("The site as people reach it, whose /sso/callback the provider answers (default: ACCORD_PUBLIC_URL).", valueName: "url")
    )
    var publicURL: String?

    func run() async throws {
        if sso {
            let base = publicURL ?? ProcessInfo.processInfo.environment["ACCORD_PUBLIC_URL"] ?? "http://127.0.0.1:8080"
            let outcome = try await withStore(database) {
                try await signThroughSSO($0, task: task, intent: intentFor(task), base: base, actor: acting.actor)
            }
            print(outcome)
            return
        }
        guard let password = try readPassword(fromStdin: passwordStdin, confirm: false) else {
            throw CommandFailure(
                "signing needs your password: give --password-stdin or run in a terminal (or --sso, if you sign through your identity provider)"
            )
        }
        let outcome = try await withStore(database) {
            try await $0.sign(task, decision: .approve, meaning: meaning, comment: comment, password: password, actor: acting.actor)
        }
        printOutcome(outcome)
    }
}

extension TaskSign {
    func intentFor(_ task: String) -> SigningIntent { SigningIntent(task: task, decision: .approve, meaning: meaning, comment: comment) }
}

/// Signing through SSO from the terminal: a challenge whose address the signer opens in a browser; the
/// running server (`accord serve`) receives the provider's answer and signs; this waits for the outcome.
func signThroughSSO(_ store: Store, task: String, intent: SigningIntent, base: String, actor: String?) async throws -> String {
    guard let handle = actor else { throw CommandFailure("say who is signing: --as or ACCORD_USER") }
    guard let issuer = try await store.ssoIdentities(of: handle, actor: handle).first else {
        throw CommandFailure("\(handle) is linked to no identity provider; sign with your password instead")
    }
    let ticket = try await store.beginSSO(issuer: issuer.issuerID, purpose: .sign(intent), browser: nil, actor: handle)
    let root = base.hasSuffix("/") ? String(base.dropLast()) : base
    let url = try await OpenIDClient(http: OpenIDClient.providerHTTP).authorizationURL(ticket, redirectURI: root + "/sso/callback")
    print("open this address in your browser and log in again at \(issuer.displayName) to sign (valid 10 minutes):\n\(url)")
    fflush(nil)
    while Date() < ticket.expiresAt.addingTimeInterval(5) {
        let challenge = try await store.signingChallenge(ticket.id, actor: handle)
        switch challenge.status {
        case "signed": return "\(task): signed through \(issuer.displayName) (signature \(challenge.signature ?? 0))"
        case "refused": throw CommandFailure("not signed: \(challenge.reason ?? "refused")", exitCode: 5)
        default: try await Task.sleep(for: .seconds(2))
        }
    }
    throw CommandFailure("not signed: the challenge expired before the provider answered", exitCode: 5)
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
