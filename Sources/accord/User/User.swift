import ArgumentParser

/// `accord user`: people.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Add and list people.",
        subcommands: [UserAdd.self, UserList.self, UserDisable.self, UserEnable.self]
    )
}
