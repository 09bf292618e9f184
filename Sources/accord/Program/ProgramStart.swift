import AccordCore
import AccordStore
import ArgumentParser

/// `accord program start WORKFLOW --title T`.
struct ProgramStart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start a program of a workflow; its tasks get their due dates and dependencies."
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @OptionGroup var output: JSONOption
    @Argument(help: "The workflow id, e.g. eu-ai-act-iso42001.") var workflow: String
    @Option(help: "The program's title.") var title: String
    @Option(help: "A short name used in task refs (default: from the title).") var slug: String?
    @Option(help: "The start date, YYYY-MM-DD (default: today, UTC).") var starts: String?
    @Option(help: "The workflow version (default: the latest).") var version: Int?

    func validate() throws {
        if let starts, CalendarDate(starts) == nil { throw ValidationError("--starts must be a date written YYYY-MM-DD") }
    }

    func run() async throws {
        let detail = try await withStore(database) { store in
            try await store.startProgram(
                workflow: workflow,
                version: version,
                title: title,
                slug: slug,
                startsOn: starts.flatMap(CalendarDate.init),
                actor: acting.actor
            )
        }
        if output.json { return try printJSON(detail) }
        print(
            "started \(detail.summary.slug): \(detail.summary.title) (\(detail.summary.workflow) version \(detail.summary.workflowVersion), from \(detail.summary.startsOn)), \(detail.summary.tasks) tasks"
        )
        print(
            "next: bind roles with 'accord role bind \(detail.summary.slug) ROLE HANDLE', add AI systems with 'accord system add \(detail.summary.slug) NAME ...'"
        )
    }
}
