import AccordCore
import AccordStore
public import ArgumentParser
import Foundation

/// `accord system classify PROGRAM SYSTEM [--answers FILE]`: walks the classification questionnaire.
struct SystemClassify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify an AI system under the AI Act by the questionnaire; its tasks follow the result.",
        discussion: """
            Without --answers the questions are asked one by one on the terminal (type the option's value, \
            several separated by commas, or 'none'). With --answers FILE the file holds a JSON object from \
            question id to answer: a value, a list of values, or text. The answers and the reasoning become \
            evidence of the system's confirm-classification task, which the legal role signs. Obligations \
            that now apply become tasks; outstanding ones that no longer apply are closed as not applicable \
            ("reclassified on DATE"); finished work stays. --dry-run shows all this and records nothing.
            """
    )
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @OptionGroup var output: JSONOption
    @Argument(help: "The program's slug.") var program: String
    @Argument(help: "The system's slug.") var system: String
    @Option(help: "A JSON file of answers (question id → value, list of values or text); '-' reads standard input.") var answers: String?
    @Option(help: "Why: initial, rerun, substantial-modification, intended-purpose-change, own-name-or-trademark (Art. 25(1)).")
    var reason: ClassificationReason = .initial
    @Option(help: "A note recorded with the classification.") var note: String?
    @Flag(help: "Show the resulting classification and task changes without recording them.") var dryRun = false

    func run() async throws {
        let result = try await withStore(database) { store in
            let questionnaire = try await store.questionnaire(program: program, actor: acting.actor)
            let given = try answers.map(Self.readAnswers) ?? Self.ask(questionnaire)
            return try await store.classifySystem(
                program: program,
                system: system,
                answers: given,
                reason: reason,
                note: note,
                dryRun: dryRun,
                actor: acting.actor
            )
        }
        if output.json { return try printJSON(result) }
        print("\(result.program)/\(result.system): \(result.profile.summary)")
        for outcome in result.walk.outcomes { print("  \(outcome.id): \(outcome.refs.joined(separator: ", "))") }
        let verb = result.recorded ? "" : "would be "
        func list(_ label: String, _ refs: [String]) {
            guard !refs.isEmpty else { return }
            print("\(label) \(verb)(\(refs.count)):")
            for ref in refs { print("  \(ref)") }
        }
        list("added", result.added)
        list("closed as not applicable", result.closed)
        list("reinstated", result.reinstated)
        list("kept (finished, no longer applies)", result.kept)
        if result.recorded, let task = result.task {
            print("recorded with \(result.questionnaire) (law \(result.lawVersion)); the answers await sign-off on \(task)")
        } else if !result.recorded {
            print("dry run: nothing recorded")
        }
    }

    static func readAnswers(_ path: String) throws -> [String: Answer] {
        let data: Data
        do {
            data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CommandFailure("cannot read \(path): \(error.localizedDescription)")
        }
        do {
            return try JSONDecoder().decode([String: Answer].self, from: data)
        } catch {
            throw CommandFailure("\(path) is not a JSON object of answers (question id → value, list of values or text)")
        }
    }

    /// Asks the questions on the path one by one until the walk ends.
    static func ask(_ questionnaire: Questionnaire) throws -> [String: Answer] {
        var answers: [String: Answer] = [:]
        print("\(questionnaire.title) (\(questionnaire.id) version \(questionnaire.version); \(questionnaire.law))")
        while true {
            let walk = questionnaire.walk(answers)
            guard let id = walk.next, let question = questionnaire.question(id) else { return answers }
            if let problem = walk.problems[id] { print("  \(problem)") }
            print("\n\(question.text) [\(question.refs.joined(separator: ", "))]")
            if let help = question.help { print("  \(help)") }
            for option in question.options { print("  \(option.value): \(option.text)") }
            switch question.kind {
            case .one: print("> one of the values above: ", terminator: "")
            case .several: print("> values separated by commas, or none: ", terminator: "")
            case .text: print("> ", terminator: "")
            }
            guard let line = readLine() else { throw CommandFailure("the questionnaire was left at question '\(id)'; nothing is recorded") }
            let text = line.trimmingCharacters(in: .whitespaces)
            switch question.kind {
            case .one: answers[id] = .choice(text)
            case .text: answers[id] = .text(text)
            case .several:
                // "none" is the question's own option where it has one; otherwise no option at all.
                let values = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                answers[id] = .choices(values == ["none"] && question.option("none") == nil ? [] : values)
            }
        }
    }
}

extension ClassificationReason: ExpressibleByArgument {}

/// `accord system show PROGRAM SYSTEM`: the system's classification, its history and its tasks.
struct SystemShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an AI system's classification and its history.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var acting: ActorOptions
    @OptionGroup var output: JSONOption
    @Argument(help: "The program's slug.") var program: String
    @Argument(help: "The system's slug.") var system: String

    struct Shown: Encodable {
        var system: AISystem
        var classifications: [ClassificationRecord]
    }

    func run() async throws {
        let shown = try await withStore(database) { store in
            let found = try await store.system(program: program, system: system, actor: acting.actor)
            return Shown(system: found, classifications: try await store.classifications(program: program, system: system, actor: acting.actor))
        }
        if output.json { return try printJSON(shown) }
        print("\(shown.system.slug): \(shown.system.name)")
        print("classification: \(shown.system.profile.summary)")
        print("classified with: \(shown.system.classifiedWith ?? "inventory flags") (law \(shown.system.lawVersion ?? "-"))")
        if let review = shown.system.review { print("review: \(review)") }
        print("tasks: \(shown.system.tasks)")
        for record in shown.classifications {
            print(
                "\(record.recordedAt) \(record.reason.rawValue) by \(record.recordedBy): \(record.profile.summary) (+\(record.changes.added.count) −\(record.changes.closed.count))"
            )
        }
    }
}
