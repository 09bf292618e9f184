import AccordCore
import AccordStore
import ArgumentParser
import Foundation

/// `accord token create --as HANDLE [--name N] [--expires DATE] [--password-stdin | --admin-override REASON]`.
struct TokenCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a bearer token; it is printed once and only its hash is kept.",
        discussion: """
            A token acts as its person, so creating one takes that person's password (prompted, or the first \
            line of stdin with --password-stdin). An administrator may instead pass --admin-override with a \
            reason, which the audit log records with the operating-system user who ran the command.
            """
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Option(help: "Whose token (default: the acting person; administrators may name anyone).") var user: String?
    @Option(help: "What the token is for.") var name = "api"
    @Option(help: "The day it stops working, YYYY-MM-DD.") var expires: String?
    @Flag(help: "Read the token owner's password from the first line of standard input.") var passwordStdin = false
    @Option(
        name: .customLong("admin-override"),
        help: ArgumentHelp("An administrator creates the token without the owner's password; the reason is audited.", valueName: "reason")
    )
    var adminOverride: String?
    @Flag(help: "A token that only reads (GET and HEAD on the API): for a tool that should answer questions and never act.")
    var readOnly = false
    @Flag(help: "A provisioning token for an identity provider's SCIM client: it reaches /scim/v2 only, as you (an administrator).")
    var scim = false

    func validate() throws {
        if let expires, CalendarDate(expires) == nil { throw ValidationError("--expires must be a date written YYYY-MM-DD") }
        if passwordStdin && adminOverride != nil { throw ValidationError("give the password or --admin-override, not both") }
        if let adminOverride, adminOverride.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--admin-override needs a reason") }
    }

    func run() async throws {
        guard let owner = user ?? acting.actor else { throw CommandFailure("say who is acting: --as HANDLE or ACCORD_USER") }
        let proof: TokenProof
        if let adminOverride {
            proof = .administratorOverride(reason: adminOverride)
        } else {
            guard let password = try readPassword(fromStdin: passwordStdin, confirm: false) else {
                throw CommandFailure(
                    "creating a token takes \(owner)'s password: type it at the prompt, pipe it with --password-stdin, or, as an administrator, pass --admin-override REASON"
                )
            }
            proof = .password(password)
        }
        let (token, secret) = try await withStore(database) { store in
            try await store.createToken(
                for: owner,
                name: name,
                expires: expires.flatMap(CalendarDate.init),
                actor: acting.actor,
                proof: proof,
                provisioning: scim,
                readOnly: readOnly
            )
        }
        print(secret)
        FileHandle.standardError.write(
            Data(
                (scim
                    ? "provisioning token \(token.id) ('\(token.name)'): shown once; give it to the identity provider's SCIM client with the base URL PUBLIC_URL/scim/v2\n"
                    : "token \(token.id) for \(token.person) ('\(token.name)'): shown once; send it as 'Authorization: Bearer TOKEN'\n").utf8
            )
        )
    }
}
