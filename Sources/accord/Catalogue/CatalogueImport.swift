import AccordCore
import AccordStore
import ArgumentParser

/// `accord catalogue import FILE`: store a library version.
struct CatalogueImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a framework or mapping library file as a new catalogue version (versions are immutable).",
        discussion: """
            A framework library's requirement nodes become refs workflows may cite, as FRAMEWORK:REF_ID \
            (e.g. iso27001-2022:A.5.1; FRAMEWORK is the framework URN's last segment unless --framework-id names one). \
            A mapping library's pairs join the crosswalk; import the frameworks it maps first. \
            Problems are printed as FILE:LINE:COLUMN: error: message. See docs/catalogues.md.
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Option(name: .customLong("framework-id"), help: ArgumentHelp("The framework id to cite its requirements under.", valueName: "id"))
    var frameworkID: String?
    @Argument(help: "A library YAML file.")
    var file: String

    func validate() throws {
        if let frameworkID, !FrameworkLibraryLoader.isFrameworkID(frameworkID) {
            throw ValidationError("--framework-id '\(frameworkID)' is not a framework id: lower-case letters, digits, '.', '_' and '-', at most 64")
        }
    }

    func run() async throws {
        let text = try readTextFile(file)
        let outcome = try await withStore(database) {
            try await $0.importLibrary(yaml: text, file: file, frameworkID: frameworkID, actor: acting.actor)
        }
        let library = outcome.library
        guard outcome.stored else {
            print("\(library.urn) version \(library.version) is already imported with this content; nothing changed")
            return
        }
        var what: [String] = []
        if let framework = library.frameworkID { what.append("\(library.requirements) requirements cited as \(framework):…") }
        if library.mappings > 0 || library.frameworkID == nil { what.append("\(library.mappings) mappings") }
        print("imported \(library.urn) version \(library.version): \(what.joined(separator: ", "))")
        for warning in outcome.skipped.prefix(5) { print("\(warning.file):\(warning.line):\(warning.column): warning: \(warning.message)") }
        if outcome.skipped.count > 5 { print("… and \(outcome.skipped.count - 5) more mappings skipped") }
        if outcome.unrelated > 0 { print("\(outcome.unrelated) mappings marked not_related were left out") }
    }
}
