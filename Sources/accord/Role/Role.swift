import AccordStore
import ArgumentParser

/// `accord role`: who holds which role in a program.
struct RoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "role",
        abstract: "Bind people to a program's roles.",
        subcommands: [RoleBind.self, RoleUnbind.self, RoleList.self]
    )
}
