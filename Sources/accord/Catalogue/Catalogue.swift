import ArgumentParser

/// `accord catalogue`: reference catalogues beside the built-in one.
struct CatalogueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalogue",
        abstract: "Import framework and mapping libraries (CISO Assistant's YAML format) into the reference catalogue; list and show them.",
        subcommands: [CatalogueImport.self, CatalogueList.self, CatalogueShow.self]
    )
}
