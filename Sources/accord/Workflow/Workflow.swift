import ArgumentParser

/// `accord workflow`: roadmap definitions.
struct WorkflowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workflow",
        abstract: "Validate, load, list, show and compare workflow definitions (YAML roadmaps).",
        subcommands: [WorkflowValidate.self, WorkflowLoad.self, WorkflowList.self, WorkflowShow.self, WorkflowDiffCommand.self]
    )
}
