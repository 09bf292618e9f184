import ArgumentParser

/// `accord program`: running roadmaps.
struct ProgramCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "program",
        abstract: "Start, list, show and upgrade programs (running roadmaps).",
        subcommands: [ProgramStart.self, ProgramList.self, ProgramShow.self, ProgramUpgrade.self]
    )
}
