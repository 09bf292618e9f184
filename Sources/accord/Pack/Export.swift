import AccordPack
import AccordReports
import AccordStore
import ArgumentParser
import Foundation

/// `accord export PROGRAM -o pack.zip`.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a program's evidence pack: evidence, signatures, audit chain, checkpoint, reports and a printable index, in one ZIP."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program.") var program: String
    @Option(name: .shortAndLong, help: "The ZIP file to write (replaced if it exists).") var output: String
    @Flag(help: "Write the statement of applicability and each control's state as OSCAL assessment-results JSON instead (docs/reports.md).")
    var oscal = false

    func run() async throws {
        let temporary = output + ".partial"
        if oscal {
            let document = try await withStore(database) { try await $0.oscalAssessmentResults(program: program, actor: acting.actor) }
            do {
                try document.write(to: URL(fileURLWithPath: temporary))
                _ = try? FileManager.default.removeItem(atPath: output)
                try FileManager.default.moveItem(atPath: temporary, toPath: output)
            } catch {
                try? FileManager.default.removeItem(atPath: temporary)
                throw CommandFailure("cannot write \(output): \(error.localizedDescription)")
            }
            print("wrote \(output): OSCAL assessment-results of \(program) (\(document.count) bytes)")
            return
        }
        do {
            let pack = try await withStore(database) { try await $0.exportPack(program: program, to: temporary, actor: acting.actor) }
            _ = try? FileManager.default.removeItem(atPath: output)
            try FileManager.default.moveItem(atPath: temporary, toPath: output)
            print(
                "wrote \(output): \(pack.files) files, \(pack.evidenceFiles) evidence file(s) (\(pack.evidenceBytes) bytes), \(pack.signatures) signature(s), \(pack.auditEntries) audit entries"
            )
            print("manifest SHA-256 \(pack.manifestSHA256); check it with: accord verify-pack \(output)")
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }
}
