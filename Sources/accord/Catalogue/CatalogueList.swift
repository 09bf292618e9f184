import AccordStore
import ArgumentParser

/// `accord catalogue list`.
struct CatalogueList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the imported library versions (* marks the version in use).")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: JSONOption

    func run() async throws {
        let libraries = try await withStore(database) { try await $0.catalogueLibraries() }
        if output.json { return try printJSON(libraries) }
        printTable(
            ["FRAMEWORK", "LIBRARY", "VERSION", "REQUIREMENTS", "MAPPINGS", "NAME"],
            libraries.map {
                [
                    $0.frameworkID ?? "-", $0.urn, "\($0.version)\($0.current ? "*" : "")", String($0.requirements), String($0.mappings), $0.name,
                ]
            }
        )
    }
}
