import AccordCore
import AccordStore
import ArgumentParser
import Foundation

/// `accord audit verify [--program P] [--checkpoint FILE]`.
struct AuditVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute every link of the chain, check signatures and evidence; with a checkpoint, also catch a cut or rewritten chain.",
        discussion: "Exits 0 with what was verified, or 2 naming each problem."
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @OptionGroup var output: JSONOption
    @Option(help: "The program (default: every chain; administrators).") var program: String?
    @Option(help: "A checkpoint file from 'accord audit checkpoint' (JSON: one object, an array, or one per line).") var checkpoint: String?

    func run() async throws {
        let checkpoints = try checkpoint.map { try parseCheckpoints(try readTextFile($0), file: $0) } ?? []
        let result = try await withStore(database) { try await $0.verifyAudit(program: program, checkpoints: checkpoints, actor: acting.actor) }
        if output.json {
            try printJSON(result)
        } else {
            for chain in result.chains {
                print(
                    "\(chain.chain): \(chain.verified) of \(chain.entries) entries verified\(chain.checkpointChecked ? ", checkpoint checked" : "")"
                )
            }
            print("\(result.signatures) signature(s) and \(result.evidence) evidence file(s) checked")
            for problem in result.problems { print("problem: \(problem)") }
            print(result.ok ? "ok" : "FAILED: \(result.problems.count) problem(s)")
        }
        if !result.ok { throw ExitCode(2) }
    }
}

func parseCheckpoints(_ text: String, file: String) throws -> [Checkpoint] {
    let decoder = JSONDecoder()
    let data = Data(text.utf8)
    if let one = try? decoder.decode(Checkpoint.self, from: data) { return [one] }
    if let many = try? decoder.decode([Checkpoint].self, from: data) { return many }
    var result: [Checkpoint] = []
    for (i, line) in text.split(separator: "\n").enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
        guard let one = try? decoder.decode(Checkpoint.self, from: Data(line.utf8)) else {
            throw CommandFailure("\(file):\(i + 1): not a checkpoint (expected the JSON that 'accord audit checkpoint' prints)")
        }
        result.append(one)
    }
    return result
}
