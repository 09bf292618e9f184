import AccordCore
import AccordStore
import ArgumentParser
import Foundation

/// `accord token create --as HANDLE [--name N] [--expires DATE]`.
struct TokenCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a bearer token; it is printed once and only its hash is kept.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Option(help: "Whose token (default: the acting person; administrators may name anyone).") var user: String?
    @Option(help: "What the token is for.") var name = "api"
    @Option(help: "The day it stops working, YYYY-MM-DD.") var expires: String?

    func validate() throws {
        if let expires, CalendarDate(expires) == nil { throw ValidationError("--expires must be a date written YYYY-MM-DD") }
    }

    func run() async throws {
        guard let owner = user ?? acting.actor else { throw CommandFailure("say who is acting: --as HANDLE or ACCORD_USER") }
        let (token, secret) = try await withStore(database) { store in
            try await store.createToken(for: owner, name: name, expires: expires.flatMap(CalendarDate.init), actor: acting.actor)
        }
        print(secret)
        FileHandle.standardError.write(Data("token \(token.id) for \(token.person) ('\(token.name)'): shown once; send it as 'Authorization: Bearer TOKEN'\n".utf8))
    }
}
