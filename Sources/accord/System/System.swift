import AccordCore
public import ArgumentParser

/// `accord system`: the AI-system inventory of a program.
struct SystemCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "system",
        abstract: "The AI-system inventory: add, list, import from CSV.",
        subcommands: [SystemAdd.self, SystemList.self, SystemShow.self, SystemImport.self, SystemClassify.self]
    )
}

extension OperatorRole: ExpressibleByArgument {}
extension RiskClass: ExpressibleByArgument {}
