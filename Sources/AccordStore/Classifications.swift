public import AccordCore
import AccordResources
public import Foundation
public import Postgres

extension ClassificationReason: PostgresTextEnum {}

extension Store {
    /// The classification questionnaires the build carries, by id.
    public static let questionnaires: [String: Questionnaire] = {
        var found: [String: Questionnaire] = [:]
        for file in Resources.questionnaires {
            switch QuestionnaireLoader.load(yaml: file.text, file: file.path) {
            case .success(let questionnaire): found[questionnaire.id] = questionnaire
            case .failure(let invalid): fatalError("the build carries an invalid questionnaire:\n\(invalid)")
            }
        }
        return found
    }()

    /// Why a system classified this way should be classified again, or `nil` when it is current.
    static func classificationReview(classifiedWith: String?, lawVersion: String?) -> String? {
        guard let current = questionnaires.values.sorted(by: { $0.id < $1.id }).first else { return nil }
        guard let classifiedWith else {
            return "classified from inventory flags, not by the questionnaire; walk \(current.id) (accord system classify)"
        }
        if classifiedWith != "\(current.id)@\(current.version)" {
            return "classified with \(classifiedWith); \(current.id) is now at version \(current.version)"
        }
        if lawVersion != current.lawVersion {
            return "classified under the law as of \(lawVersion ?? "?"); the questionnaire now follows \(current.lawVersion)"
        }
        return nil
    }

    /// The questionnaire a program's workflow classifies with, and its policy.
    static func classificationPolicy(_ workflow: Workflow) throws -> (ClassificationPolicy, Questionnaire) {
        guard let policy = workflow.classification else {
            throw AccordError(
                .conflict,
                "\(workflow.id) version \(workflow.version) has no classification questionnaire; upgrade the program to a version that has one"
            )
        }
        guard let questionnaire = questionnaires[policy.questionnaire] else {
            throw AccordError(
                .conflict,
                "this build carries no questionnaire '\(policy.questionnaire)', which \(workflow.id) version \(workflow.version) names"
            )
        }
        return (policy, questionnaire)
    }

    /// The questionnaire a program's systems are classified with.
    public func questionnaire(program slug: String, actor: String?) async throws -> Questionnaire {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let program = try await Self.visibleProgram(slug, for: acting, on: connection)
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            return try Self.classificationPolicy(workflow).1
        }
    }

    /// Classifies an AI system from the questionnaire's answers, in one audited transaction: the profile is
    /// replaced; obligations that now apply become tasks (start-relative dates count from today); outstanding
    /// tasks that no longer apply are closed as not applicable "reclassified on DATE"; tasks an earlier
    /// reclassification closed that apply again are reinstated; finished work and signatures stay. The
    /// answers and reasoning become evidence of the system's classification task, submitted for its
    /// sign-off. Administrators and program managers. A dry run computes all this and writes nothing.
    public func classifySystem(
        program slug: String,
        system systemSlug: String,
        answers: [String: Answer],
        reason: ClassificationReason,
        note: String? = nil,
        dryRun: Bool = false,
        actor: String?
    ) async throws -> ClassificationResult {
        let note = note?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
        return try await pool.withTransaction { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let program = try await Self.visibleProgram(slug, for: acting, on: connection)
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            try await Self.requireManager(acting, of: program, workflow: workflow, to: "classify AI systems", on: connection)
            let (policy, questionnaire) = try Self.classificationPolicy(workflow)
            let walk = questionnaire.walk(answers)
            if let problem = walk.problems.sorted(by: { $0.key < $1.key }).first {
                let question = questionnaire.question(problem.key)
                throw AccordError(
                    .invalid,
                    question.map { "question '\($0.id)' (\($0.text)): \(problem.value)" } ?? problem.value,
                    field: "answers.\(problem.key)"
                )
            }
            if let next = walk.next.flatMap(questionnaire.question) {
                throw AccordError(.invalid, "question '\(next.id)' is not answered: \(next.text)", field: "answers.\(next.id)")
            }
            guard let system = try await connection.queryFirst(ClassificationSQL.lockSystem, program.id, systemSlug) else {
                throw AccordError(.notFound, "'\(slug)' has no AI system '\(systemSlug)'", remedy: .listSystems(program: slug))
            }
            let today = CalendarDate.today()
            let closing = "reclassified on \(today)"
            let profile = walk.profile
            let tasks = try await connection.query(ClassificationSQL.tasks, system.id)
            var plan = ClassificationChanges(added: [], closed: [], reinstated: [], kept: [])
            var toClose: [Int64] = []
            var toReinstate: [Int64] = []
            for task in tasks {
                guard let template = workflow.task(task.key), template.trigger == nil, let condition = template.appliesTo else { continue }
                let ref = taskRef(program: slug, key: task.key, system: systemSlug, instance: task.instance)
                let applies = condition.matches(profile)
                if applies, task.state == .notApplicable, task.reason?.hasPrefix("reclassified on ") == true {
                    plan.reinstated.append(ref)
                    toReinstate.append(task.id)
                } else if !applies, task.state.isOutstanding {
                    plan.closed.append(ref)
                    toClose.append(task.id)
                } else if !applies, task.state == .done {
                    plan.kept.append(ref)
                }
            }
            let existing = Set(try await connection.query(ClassificationSQL.keys, system.id))
            let newTemplates = workflow.roadmapTasks.filter { $0.task.appliesTo?.matches(profile) == true && !existing.contains($0.task.key) }
            plan.added = newTemplates.map { taskRef(program: slug, key: $0.task.key, system: systemSlug) }
            let confirmRef = taskRef(program: slug, key: policy.task, system: systemSlug)
            var result = ClassificationResult(
                program: slug,
                system: systemSlug,
                questionnaire: "\(questionnaire.id)@\(questionnaire.version)",
                lawVersion: questionnaire.lawVersion,
                reason: reason,
                walk: walk,
                previous: system.profile,
                profile: profile,
                added: plan.added,
                closed: plan.closed,
                reinstated: plan.reinstated,
                kept: plan.kept,
                task: confirmRef,
                recorded: !dryRun
            )
            guard !dryRun else { return result }

            // The profile first, so tasks instantiated below see it.
            try await connection.execute(
                ClassificationSQL.update,
                system.id,
                try PostgresJSON(encoding: profile),
                profile.primaryRole,
                profile.riskClass,
                profile.gpai,
                profile.annexIIIArea.map(String.init),
                "\(questionnaire.id)@\(questionnaire.version)",
                questionnaire.lawVersion
            )
            for id in toClose {
                let task = try await Self.lockTask(id, on: connection)
                try await Self.transition(
                    task,
                    .markNotApplicable,
                    workflow: workflow,
                    program: program,
                    actor: acting,
                    reason: closing,
                    on: connection
                )
            }
            for id in toReinstate {
                let task = try await Self.lockTask(id, on: connection)
                try await Self.transition(
                    task,
                    .reinstate,
                    workflow: workflow,
                    program: program,
                    actor: acting,
                    reason: "applies again: \(closing)",
                    on: connection
                )
            }
            if !toReinstate.isEmpty { try await connection.execute(TaskSQL.settleStates, PostgresArray(toReinstate)) }
            // New obligations are dated from the day they became known.
            let reclassified = SystemRow(id: system.id, slug: system.slug, profile: profile, addedOn: max(system.addedOn, today))
            try await Self.instantiate(newTemplates, of: workflow, in: program, system: reclassified, on: connection)

            // The answers and reasoning become the classification task's evidence, awaiting its sign-off.
            var taskID: Int64?
            var evidenceID: Int64?
            if let found = try await connection.queryFirst(TaskSQL.instance, program.id, policy.task, system.id, "", nil) {
                let document = ClassificationEvidence(
                    program: slug,
                    system: systemSlug,
                    questionnaire: result.questionnaire,
                    law: questionnaire.law,
                    lawVersion: questionnaire.lawVersion,
                    reason: reason,
                    note: note,
                    recordedBy: acting.handle,
                    recordedOn: today.description,
                    summary: profile.summary,
                    profile: profile,
                    steps: walk.steps,
                    outcomes: walk.outcomes,
                    changes: plan
                )
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                let file = try checkedEvidence(
                    fileName: "classification-\(systemSlug)-\(today).json",
                    bytes: Array(try encoder.encode(document)),
                    title: "Classification answers and reasoning"
                )
                let version = try await Self.attach(file, to: found.id, by: acting, on: connection)
                evidenceID = version.id
                taskID = found.id
                let task = try await Self.lockTask(found.id, on: connection)
                if task.state == .open || task.state == .inProgress {
                    try await Self.transition(
                        task,
                        .submit,
                        workflow: workflow,
                        program: program,
                        actor: acting,
                        reason: "classification recorded for sign-off",
                        on: connection
                    )
                }
            } else {
                result.task = nil
            }
            _ = try await connection.queryOne(
                ClassificationSQL.insert,
                system.id,
                questionnaire.id,
                questionnaire.version,
                questionnaire.lawVersion,
                reason,
                note,
                try PostgresJSON(encoding: walk.answers),
                try PostgresJSON(encoding: walk),
                try PostgresJSON(encoding: profile),
                try PostgresJSON(encoding: system.profile),
                try PostgresJSON(encoding: plan),
                taskID,
                evidenceID,
                acting.id
            )
            try await connection.appendAudit(
                AuditRecord(
                    chain: programChain(slug),
                    actor: acting.handle,
                    action: "system.classify",
                    objectType: "ai_system",
                    objectID: systemSlug,
                    before: auditJSON(system.profile),
                    after: auditJSON(
                        ClassificationAuditRecord(
                            questionnaire: result.questionnaire,
                            lawVersion: questionnaire.lawVersion,
                            reason: reason.rawValue,
                            profile: profile,
                            added: plan.added,
                            closed: plan.closed,
                            reinstated: plan.reinstated,
                            kept: plan.kept
                        )
                    ),
                    reason: note ?? reason.rawValue
                )
            )
            return result
        }
    }

    /// Every classification recorded for a system, oldest first.
    public func classifications(program slug: String, system systemSlug: String, actor: String?) async throws -> [ClassificationRecord] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            let program = try await Self.visibleProgram(slug, for: acting, on: connection)
            guard try await connection.queryFirst(ClassificationSQL.systemID, program.id, systemSlug) != nil else {
                throw AccordError(.notFound, "'\(slug)' has no AI system '\(systemSlug)'", remedy: .listSystems(program: slug))
            }
            return try await connection.query(ClassificationSQL.history, program.id, systemSlug)
        }
    }
}

/// A system's classification: the current profile, whether it needs a new walk, and every walk recorded
/// (the API's answer, and each entry of the evidence pack's `systems.json`).
public struct ClassificationHistory: Codable, Sendable, Equatable {
    /// The system's slug.
    public var system: String
    /// Its name.
    public var name: String
    /// Its profile now.
    public var profile: SystemProfile
    /// The profile in words.
    public var summary: String
    /// `questionnaire@version` of the walk behind it; `nil` for inventory flags.
    public var classifiedWith: String?
    /// The law's version that walk followed.
    public var lawVersion: String?
    /// Why it should be walked again, when it should.
    public var review: String?
    /// Every walk recorded, oldest first.
    public var classifications: [ClassificationRecord]

    init(_ system: AISystem, classifications: [ClassificationRecord]) {
        self.system = system.slug
        name = system.name
        profile = system.profile
        summary = system.profile.summary
        classifiedWith = system.classifiedWith
        lawVersion = system.lawVersion
        review = system.review
        self.classifications = classifications
    }
}

extension Store {
    /// A system's classification and its history, for a member of its program.
    public func classificationHistory(program slug: String, system systemSlug: String, actor: String?) async throws -> ClassificationHistory {
        let system = try await self.system(program: slug, system: systemSlug, actor: actor)
        return ClassificationHistory(system, classifications: try await classifications(program: slug, system: system.slug, actor: actor))
    }

    /// The program's systems with their classification histories, for the evidence pack.
    func packSystems(of program: ProgramRow) async throws -> [ClassificationHistory] {
        try await pool.withConnection { connection in
            var systems: [ClassificationHistory] = []
            for system in try await Self.systems(program, on: connection) {
                systems.append(
                    ClassificationHistory(system, classifications: try await connection.query(ClassificationSQL.history, program.id, system.slug))
                )
            }
            return systems
        }
    }
}

/// The evidence document a classification attaches: everything a signer or auditor needs to check it.
struct ClassificationEvidence: Encodable {
    var program: String
    var system: String
    var questionnaire: String
    var law: String
    var lawVersion: String
    var reason: ClassificationReason
    var note: String?
    var recordedBy: String
    var recordedOn: String
    var summary: String
    var profile: SystemProfile
    var steps: [ClassificationWalk.Step]
    var outcomes: [Questionnaire.Outcome]
    var changes: ClassificationChanges
}

struct ClassificationAuditRecord: Encodable {
    var questionnaire: String
    var lawVersion: String
    var reason: String
    var profile: SystemProfile
    var added: [String]
    var closed: [String]
    var reinstated: [String]
    var kept: [String]
}
