import AccordStore
import ArgumentParser

/// `accord delegate revoke ID`.
struct DelegateRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "End a delegation now.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The delegation's id.") var id: Int64

    func run() async throws {
        let d = try await withStore(database) { try await $0.revokeDelegation(id, actor: acting.actor) }
        print("delegation \(d.id) revoked: \(d.to) no longer signs for \(d.role) on behalf of \(d.from)")
    }
}
