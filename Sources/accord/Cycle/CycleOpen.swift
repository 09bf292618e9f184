import AccordCore
import AccordStore
import ArgumentParser

/// `accord cycle open PROGRAM [--period P3M]`.
struct CycleOpen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "open", abstract: "Open the next cycle and create its recurring tasks (managers).")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @Argument(help: "The program.") var program: String
    @Option(help: "How long the cycle lasts (default: the workflow's cycle period), e.g. P3M or P1Y.") var period: ISODuration?
    @Option(help: "The first day (default: today, or the day after the previous cycle).") var startsOn: String?

    func run() async throws {
        let start = try startsOn.map { text -> CalendarDate in
            guard let date = CalendarDate(text) else { throw CommandFailure("--starts-on '\(text)' is not a YYYY-MM-DD day") }
            return date
        }
        let detail = try await withStore(database) { try await $0.openCycle(program: program, period: period, startsOn: start, actor: acting.actor) }
        let c = detail.cycle
        print("opened cycle \(c.number) of \(c.program): \(c.startsOn) to \(c.endsOn) (\(c.period)), \(detail.tasks.count) recurring task(s)")
        printTable(["task", "due", "state", "title"], detail.tasks.map { [$0.ref, $0.dueOn.orDash, $0.state.rawValue, $0.title] })
        if let review = detail.review.first { print("it closes when \(review.ref) is signed by top management") }
    }
}
