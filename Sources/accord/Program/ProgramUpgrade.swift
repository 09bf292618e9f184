import AccordStore
import ArgumentParser

/// `accord program upgrade PROGRAM --to V [--dry-run]`.
struct ProgramUpgrade: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upgrade",
        abstract: "Move a program to a newer workflow version: done work stays, new tasks are added, removed ones retired with a reason."
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @OptionGroup var output: JSONOption
    @Argument(help: "The program's slug.") var program: String
    @Option(help: "The workflow version to move to.") var to: Int
    @Flag(help: "Print the plan without writing it.") var dryRun = false

    func run() async throws {
        let plan = try await withStore(database) { try await $0.upgradeProgram(program, to: to, dryRun: dryRun, actor: acting.actor) }
        if output.json { return try printJSON(plan) }
        print(dryRun ? "plan for \(program) -> version \(to) (dry run; nothing written):" : "upgraded \(program) to version \(to):")
        for ref in plan.add { print("  + add     \(ref)") }
        for ref in plan.retire { print("  - retire  \(ref)") }
        for ref in plan.update { print("  ~ update  \(ref)") }
        for ref in plan.keep { print("  = keep    \(ref) (done; its template was removed)") }
        if plan.add.isEmpty && plan.retire.isEmpty && plan.update.isEmpty && plan.keep.isEmpty { print("  no task changes") }
        if !plan.systems.isEmpty { print("per AI system:") }
        for system in plan.systems {
            print("  \(system.system): +\(system.added.count) added, -\(system.retired.count) retired, \(system.kept.count) kept")
            if !system.added.isEmpty { print("    + \(system.added.joined(separator: " "))") }
            if !system.retired.isEmpty { print("    - \(system.retired.joined(separator: " "))") }
        }
    }
}
