import ArgumentParser

/// `accord evidence`: documents attached to tasks.
struct EvidenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evidence",
        abstract: "Attach, list and download evidence (every version is kept).",
        subcommands: [EvidenceAdd.self, EvidenceList.self, EvidenceGet.self]
    )
}
