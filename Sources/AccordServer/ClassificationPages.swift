import AccordCore
import AccordStore
import Foundation
import Hummingbird

/// `/programs/SLUG/systems/SYSTEM/classify`: the classification questionnaire walked in the browser, one
/// question more at each "Continue", without JavaScript. The answers so far travel in the form; the server
/// walks the tree over them, so changing an earlier answer changes the path. At the end the page shows the
/// resulting classification and what it does to the system's tasks (a dry run) before it is recorded.
struct ClassificationPages {
    let store: Store
    let renderer: PageRenderer

    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("programs/:program/systems/:system/classify", use: start)
            .post("programs/:program/systems/:system/classify", use: walk)
    }

    /// The first question, or the last recorded answers to walk again.
    @Sendable func start(_ request: Request, context: AccordContext) async throws -> Response {
        let slug = try context.parameters.require("program")
        let systemSlug = try context.parameters.require("system")
        let actor = try context.actor
        try await store.requireManager(program: slug, actor: actor, to: "classify AI systems")
        let previous = try await store.classifications(program: slug, system: systemSlug, actor: actor).last
        return try await render(
            context,
            slug: slug,
            systemSlug: systemSlug,
            answers: previous?.walk.answers ?? [:],
            reason: previous == nil ? .initial : .rerun
        )
    }

    /// Continue, preview or record.
    @Sendable func walk(_ request: Request, context: AccordContext) async throws -> Response {
        let slug = try context.parameters.require("program")
        let systemSlug = try context.parameters.require("system")
        let actor = try context.actor
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        let questionnaire = try await store.questionnaire(program: slug, actor: actor)
        let answers = Self.answers(from: form, questionnaire: questionnaire)
        let reason = form["reason"].flatMap(ClassificationReason.init(rawValue:)) ?? .initial
        let note = form["note"] ?? ""
        guard form["action"] == "record" else {
            return try await render(context, slug: slug, systemSlug: systemSlug, answers: answers, reason: reason, note: note, showProblems: true)
        }
        do {
            _ = try await store.classifySystem(program: slug, system: systemSlug, answers: answers, reason: reason, note: note, actor: actor)
        } catch let error as AccordError {
            return try await render(
                context,
                slug: slug,
                systemSlug: systemSlug,
                answers: answers,
                reason: reason,
                note: note,
                showProblems: true,
                error: error
            )
        }
        return Response(status: .seeOther, headers: [.location: "/programs/\(slug)/systems/\(systemSlug)?classified=1"])
    }

    /// The answers a form carries: `q-ID` for one option or text, `q-ID--VALUE` for each ticked option.
    static func answers(from form: [String: String], questionnaire: Questionnaire) -> [String: Answer] {
        var answers: [String: Answer] = [:]
        for question in questionnaire.questions where form["seen-\(question.id)"] != nil || form["q-\(question.id)"] != nil {
            switch question.kind {
            case .one: if let value = form["q-\(question.id)"] { answers[question.id] = .choice(value) }
            case .text: if let value = form["q-\(question.id)"] { answers[question.id] = .text(value) }
            case .several: answers[question.id] = .choices(question.options.map(\.value).filter { form["q-\(question.id)--\($0)"] != nil })
            }
        }
        return answers
    }

    private func render(
        _ context: AccordContext,
        slug: String,
        systemSlug: String,
        answers: [String: Answer],
        reason: ClassificationReason,
        note: String = "",
        showProblems: Bool = false,
        error: AccordError? = nil
    ) async throws -> Response {
        let actor = try context.actor
        let questionnaire = try await store.questionnaire(program: slug, actor: actor)
        let system = try await store.system(program: slug, system: systemSlug, actor: actor)
        let program = try await store.program(slug, actor: actor).summary
        let walk = questionnaire.walk(answers)
        var plan: ClassificationResult?
        if walk.isComplete {
            plan = try? await store.classifySystem(
                program: slug,
                system: systemSlug,
                answers: walk.answers,
                reason: reason,
                dryRun: true,
                actor: actor
            )
        }
        var page = PageModel(title: "Classify \(system.name) · \(program.title)", context: context)
        page.error = error?.message ?? (showProblems ? walk.problems.values.sorted().first.map { "Check the marked answer: \($0)" } : nil)
        let model = ClassifyPage(
            page: page,
            slug: slug,
            programTitle: program.title,
            system: system,
            questionnaire: questionnaire,
            walk: walk,
            given: answers,
            showProblems: showProblems,
            plan: plan,
            reason: reason,
            note: note
        )
        let status: HTTPResponse.Status =
            error.map { Problem($0).httpStatus } ?? (showProblems && !walk.problems.isEmpty ? .unprocessableContent : .ok)
        return renderer.render("classify", model, status: status)
    }
}

/// The classification page's model.
struct ClassifyPage {
    struct OptionView {
        var name: String, value: String, text: String, checked: Bool, inputID: String
    }
    struct QuestionView {
        var id: String, text: String, help: String?, refs: String
        var one: Bool, several: Bool, isText: Bool
        var options: [OptionView], textValue: String
        var invalid: Bool, problem: String?
        var current: Bool
    }
    struct OutcomeView { var id: String, text: String, refs: String }
    struct ReasonView { var value: String, label: String, selected: Bool }
    var page: PageModel
    var csrf: String, slug: String, programTitle: String, systemSlug: String, systemName: String, currentSummary: String
    var review: String?
    var title: String, law: String, version: Int
    var questions: [QuestionView]
    var complete: Bool
    var summary: String
    var outcomes: [OutcomeView], hasOutcomes: Bool
    var added: [String], hasAdded: Bool, closed: [String], hasClosed: Bool, reinstated: [String], hasReinstated: Bool
    var kept: [String], hasKept: Bool
    var reasons: [ReasonView], note: String

    init(
        page: PageModel,
        slug: String,
        programTitle: String,
        system: AISystem,
        questionnaire: Questionnaire,
        walk: ClassificationWalk,
        given: [String: Answer],
        showProblems: Bool,
        plan: ClassificationResult?,
        reason: ClassificationReason,
        note: String
    ) {
        self.page = page
        csrf = page.person?.csrf ?? ""
        self.slug = slug
        self.programTitle = programTitle
        systemSlug = system.slug
        systemName = system.name
        currentSummary = system.profile.summary
        review = system.review
        title = questionnaire.title
        law = questionnaire.law
        version = questionnaire.version
        let onPath = walk.steps.map(\.question) + [walk.next].compactMap { $0 }
        questions = onPath.compactMap { id in
            guard let question = questionnaire.question(id) else { return nil }
            let answer = given[id]
            let chosen: Set<String> =
                switch answer {
                case .choice(let value)?: [value]
                case .choices(let values)?: Set(values)
                default: []
                }
            let problem = showProblems ? walk.problems[id] : nil
            return QuestionView(
                id: id,
                text: question.text,
                help: question.help,
                refs: question.refs.joined(separator: ", "),
                one: question.kind == .one,
                several: question.kind == .several,
                isText: question.kind == .text,
                options: question.options.enumerated().map { index, option in
                    OptionView(
                        name: question.kind == .several ? "q-\(id)--\(option.value)" : "q-\(id)",
                        value: option.value,
                        text: option.text,
                        checked: chosen.contains(option.value),
                        inputID: "q-\(id)-\(index)"
                    )
                },
                textValue: { if case .text(let text)? = answer { return text } else { return "" } }(),
                invalid: problem != nil,
                problem: problem,
                current: id == walk.next
            )
        }
        complete = walk.isComplete
        summary = plan?.profile.summary ?? walk.profile.summary
        outcomes = walk.outcomes.map { OutcomeView(id: $0.id, text: $0.text, refs: $0.refs.joined(separator: ", ")) }
        hasOutcomes = !outcomes.isEmpty
        added = plan?.added ?? []
        hasAdded = !added.isEmpty
        closed = plan?.closed ?? []
        hasClosed = !closed.isEmpty
        reinstated = plan?.reinstated ?? []
        hasReinstated = !reinstated.isEmpty
        kept = plan?.kept ?? []
        hasKept = !kept.isEmpty
        let labels: [ClassificationReason: String] = [
            .initial: "First classification",
            .rerun: "Walked again (the questionnaire, the law or the answers changed)",
            .substantialModification: "Substantial modification (Art. 25(1)(b))",
            .intendedPurposeChange: "Change of intended purpose (Art. 25(1)(c))",
            .ownNameOrTrademark: "Our name or trademark put on it (Art. 25(1)(a))",
        ]
        reasons = ClassificationReason.allCases.map { ReasonView(value: $0.rawValue, label: labels[$0] ?? $0.rawValue, selected: $0 == reason) }
        self.note = note
    }
}
