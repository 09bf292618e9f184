import AccordStore
import ArgumentParser

/// `accord catalogue show FRAMEWORK`.
struct CatalogueShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "List an imported framework's requirements, with the ids workflows cite them by."
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: JSONOption
    @Argument(help: "The framework id, e.g. iso27001-2022.")
    var framework: String

    func run() async throws {
        let requirements = try await withStore(database) { try await $0.catalogueRequirements(framework: framework) }
        if output.json { return try printJSON(requirements) }
        printTable(["REF", "KIND", "TITLE"], requirements.map { [$0.id, $0.assessable ? "requirement" : "section", $0.title] })
    }
}
