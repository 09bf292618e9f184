import AccordStore
import ArgumentParser

/// `accord token revoke ID`.
struct TokenRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a token now.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The token's id.") var id: Int64

    func run() async throws {
        try await withStore(database) { try await $0.revokeToken(id, actor: acting.actor) }
        print("token \(id) revoked")
    }
}
