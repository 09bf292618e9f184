import AccordStore
import ArgumentParser
import Foundation

/// `accord sso rule`: provider groups that grant roles.
struct SSORuleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rule",
        abstract: "Provider groups whose members hold a role in a program, applied at each SSO login.",
        subcommands: [SSORuleAdd.self, SSORuleList.self, SSORuleRemove.self]
    )
}

/// `accord sso rule add GROUP --program P --role R`.
struct SSORuleAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Members of a group hold a role in a program.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The group's name as the provider sends it.") var group: String
    @Option(help: "The program's slug.") var program: String
    @Option(help: "The role.") var role: String

    func run() async throws {
        let rule = try await withStore(database) { try await $0.addSSOGroupRule(group: group, program: program, role: role, actor: acting.actor) }
        print("rule \(rule.id): members of '\(rule.group)' hold \(rule.role) in \(rule.program)")
    }
}

/// `accord sso rule list`.
struct SSORuleList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the group rules.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let rules = try await withStore(database) { try await $0.ssoGroupRules(actor: acting.actor) }
        if output.json { return try printJSON(rules) }
        if rules.isEmpty { print("no group rules") }
        for rule in rules { print("\(rule.id)  \(rule.group)  ->  \(rule.role) in \(rule.program)") }
    }
}

/// `accord sso rule remove ID`.
struct SSORuleRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a group rule.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The rule's id (sso rule list).") var id: Int64

    func run() async throws {
        try await withStore(database) { try await $0.removeSSOGroupRule(id, actor: acting.actor) }
        print("rule \(id) removed")
    }
}
