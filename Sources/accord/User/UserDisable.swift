import AccordStore
import ArgumentParser
import Foundation

/// `accord user disable HANDLE`: a leaver, at once.
struct UserDisable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Disable a person: their sessions end, their tokens are revoked, and they can no longer log in or sign (administrators)."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The person's handle.") var handle: String

    func run() async throws {
        _ = try await withStore(database) { try await $0.disablePerson(handle, actor: acting.actor) }
        print("\(handle) disabled: sessions ended, tokens revoked")
    }
}

/// `accord user enable HANDLE`.
struct UserEnable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enable", abstract: "Enable a disabled person again (administrators).")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The person's handle.") var handle: String

    func run() async throws {
        _ = try await withStore(database) { try await $0.enablePerson(handle, actor: acting.actor) }
        print("\(handle) enabled; they log in afresh")
    }
}
