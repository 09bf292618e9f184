import ArgumentParser

/// `accord token`: bearer tokens for API clients.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke API bearer tokens.",
        subcommands: [TokenCreate.self, TokenList.self, TokenRevoke.self]
    )
}
