import AccordStore
import ArgumentParser

/// `accord system import PROGRAM FILE.csv`.
struct SystemImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import AI systems from a CSV spreadsheet (header: name,role,risk[,gpai,annex_iii,owner,purpose]); all rows or none."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program's slug.") var program: String
    @Argument(help: "A CSV file with a header row.") var file: String

    func run() async throws {
        let systems = try Store.parseSystemsCSV(try readTextFile(file), file: file)
        let added = try await withStore(database) { try await $0.addSystems(program: program, systems, actor: acting.actor) }
        print("imported \(added.count) AI system(s) into \(program): \(added.reduce(0) { $0 + $1.tasks }) per-system task(s)")
    }
}
