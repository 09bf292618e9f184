import AccordCore
import ArgumentParser
import Foundation

/// `accord workflow validate FILE...`: every problem, one per line, as FILE:LINE:COLUMN: error: message.
struct WorkflowValidate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check workflow and questionnaire files without a database; print every problem as FILE:LINE:COLUMN: error: message."
    )

    @Argument(help: "Workflow or classification questionnaire YAML files (a questionnaire has a top-level 'questionnaire' key).")
    var files: [String]
    @Option(
        name: .customLong("library"),
        help: ArgumentHelp("A framework library file (CISO Assistant's YAML) whose requirements the files may cite; repeatable.", valueName: "file")
    )
    var libraries: [String] = []

    func run() throws {
        var failed = false
        var references: [Reference] = []
        for file in libraries {
            switch FrameworkLibraryLoader.load(yaml: try readTextFile(file), file: file) {
            case .success(let library): references += library.references
            case .failure(let invalid):
                failed = true
                for diagnostic in invalid.diagnostics { print(diagnostic) }
            }
        }
        let catalogue = ReferenceCatalogue.builtIn.including(frameworks: [], references: references, mappings: [])
        for file in files {
            let text: String
            do {
                text = try readTextFile(file)
            } catch let failure as CommandFailure {
                print("\(file):1:1: error: \(failure.message)")
                failed = true
                continue
            }
            if QuestionnaireLoader.isQuestionnaire(yaml: text) {
                switch QuestionnaireLoader.load(yaml: text, file: file, catalogue: catalogue) {
                case .success(let questionnaire): print(QuestionnaireLoader.summary(questionnaire, file: file))
                case .failure(let invalid):
                    failed = true
                    for diagnostic in invalid.diagnostics { print(diagnostic) }
                }
                continue
            }
            switch WorkflowLoader.load(yaml: text, file: file, catalogue: catalogue) {
            case .success(let workflow):
                print(WorkflowLoader.summary(workflow, file: file))
            case .failure(let invalid):
                failed = true
                for diagnostic in invalid.diagnostics { print(diagnostic) }
            }
        }
        if failed { throw ExitCode(1) }
    }
}
