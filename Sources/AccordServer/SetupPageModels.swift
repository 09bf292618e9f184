import AccordCore
import AccordStore
import Foundation

// The page models of setting a program up: workflows, starting a program, roles, the AI-system
// inventory and upgrades. Mustache looks a missing (nil) value up in the enclosing context, so optional
// text is spelled out as "" with a flag beside it, and names are ones no enclosing model uses.

/// A choice of a `<select>`.
struct Choice {
    var value: String, label: String, selected: Bool
}

/// One problem of an upload, at its place in the file.
struct UploadProblem {
    var place: String, message: String
}

/// `/workflows`: the stored versions and, for administrators, the upload form.
struct WorkflowsPage {
    struct Line { var id: String, version: Int, title: String, steps: Int, tasks: Int, loadedAt: String, loadedBy: String }
    var page: PageModel
    var csrf: String, isAdmin: Bool
    var workflows: [Line], hasWorkflows: Bool, pager: Pager
    /// The refused upload's file name and each of its problems.
    var uploadName = "", problems: [UploadProblem] = [], hasProblems = false, fileInvalid = false

    init(page: PageModel, isAdmin: Bool, workflows: Paged<WorkflowSummary>) {
        self.page = page
        csrf = page.person?.csrf ?? ""
        self.isAdmin = isAdmin
        let format = PageTime.isoFormatter()
        self.workflows = workflows.items.map {
            Line(
                id: $0.id,
                version: $0.version,
                title: $0.title,
                steps: $0.steps,
                tasks: $0.tasks,
                loadedAt: format.string(from: $0.loadedAt),
                loadedBy: $0.loadedBy
            )
        }
        hasWorkflows = !self.workflows.isEmpty
        pager = Pager(workflows, path: "/workflows", label: "Pages of workflows")
    }
}

/// `/workflows/ID`: one version's roles, steps and task templates.
struct WorkflowPage {
    struct RoleLine { var key: String, title: String, roleNote: String, kind: String }
    struct TemplateLine { var key: String, title: String, owner: String, after: String, signers: String, appliesText: String }
    struct StepLine { var key: String, title: String, templates: [TemplateLine] }
    struct VersionLink { var number: Int, isShown: Bool }
    var page: PageModel
    var workflowID: String, version: Int, workflowTitle: String, workflowNote: String, hasNote: Bool
    var versions: [VersionLink], roles: [RoleLine], steps: [StepLine], isAdmin: Bool

    init(page: PageModel, workflow: Workflow, versions: [Int], isAdmin: Bool) {
        self.page = page
        workflowID = workflow.id
        version = workflow.version
        workflowTitle = workflow.title
        workflowNote = workflow.description ?? ""
        hasNote = !workflowNote.isEmpty
        self.versions = versions.map { VersionLink(number: $0, isShown: $0 == workflow.version) }
        roles = workflow.roles.map {
            RoleLine(
                key: $0.key,
                title: $0.title,
                roleNote: $0.description ?? "",
                kind: [$0.manager ? "manages" : nil, $0.leadership ? "top management" : nil].compactMap { $0 }.joined(separator: ", ")
            )
        }
        steps = workflow.steps.map { step in
            StepLine(
                key: step.key,
                title: step.title,
                templates: step.tasks.map {
                    TemplateLine(
                        key: $0.key,
                        title: $0.title,
                        owner: $0.owner,
                        after: $0.dependsOn.joined(separator: ", "),
                        signers: $0.approval?.signersSummary ?? "",
                        appliesText: $0.appliesTo.map { "per AI system: \($0.summary)" } ?? ""
                    )
                }
            )
        }
        self.isAdmin = isAdmin
    }
}

/// `/programs/new`: start a program from a stored workflow version.
struct StartProgramPage {
    var page: PageModel
    var csrf: String, choices: [Choice]
    var programTitle = "", slug = "", startsOn = ""
    var workflowInvalid = false, titleInvalid = false, slugInvalid = false, startsOnInvalid = false

    init(page: PageModel, workflows: [WorkflowSummary], input: [String: String] = [:]) {
        self.page = page
        csrf = page.person?.csrf ?? ""
        let chosen = input["workflow"] ?? ""
        choices = workflows.map {
            let value = "\($0.id)@\($0.version)"
            return Choice(value: value, label: "\($0.title) (\($0.id) version \($0.version))", selected: value == chosen)
        }
        programTitle = input["title"] ?? ""
        slug = input["slug"] ?? ""
        startsOn = input["starts_on"] ?? ""
    }

    /// Marks the field a refusal concerns.
    mutating func mark(_ error: AccordError) {
        switch error.field {
        case "title": titleInvalid = true
        case "slug": slugInvalid = true
        case "starts_on": startsOnInvalid = true
        default: workflowInvalid = error.field == "workflow" || error.code == .notFound
        }
    }
}

/// `/programs/SLUG/roles`: each role, what it is for and who holds it; managers add and remove holders.
struct RolesPage {
    struct Holder { var handle: String, roleKey: String }
    struct Line {
        var role: String, title: String, roleNote: String, hasRoleNote: Bool, kind: String, holders: [Holder], hasHolders: Bool
        var handleValue: String, handleInvalid: Bool
    }
    var page: PageModel
    var csrf: String, slug: String, programTitle: String, canManage: Bool, roles: [Line]

    init(page: PageModel, slug: String, programTitle: String, roles: [RoleHolders], canManage: Bool) {
        self.page = page
        csrf = page.person?.csrf ?? ""
        self.slug = slug
        self.programTitle = programTitle
        self.canManage = canManage
        self.roles = roles.map { role in
            var kind = [role.manager ? "manages the program" : nil, role.leadership ? "top management" : nil]
            if role.grantsAuthority && !role.leadership { kind.append("signs") }
            if let max = role.maxMembers { kind.append("at most \(max)") }
            return Line(
                role: role.role,
                title: role.title,
                roleNote: role.description ?? "",
                hasRoleNote: role.description != nil,
                kind: kind.compactMap { $0 }.joined(separator: " · "),
                holders: role.holders.map { Holder(handle: $0, roleKey: role.role) },
                hasHolders: !role.holders.isEmpty,
                handleValue: "",
                handleInvalid: false
            )
        }
    }

    /// Keeps the handle typed into a role's form and marks it.
    mutating func mark(role: String, handle: String) {
        guard let i = roles.firstIndex(where: { $0.role == role }) else { return }
        roles[i].handleValue = handle
        roles[i].handleInvalid = true
    }
}

/// One AI system as the inventory lists it.
struct SystemLine {
    var systemSlug: String, name: String, operatorRole: String, riskClass: String, gpaiText: String, annexText: String, ownerText: String
    var purposeText: String, addedOn: String, taskCount: Int
    var summary: String, classifiedWith: String, review: String?
    init(_ s: AISystem) {
        systemSlug = s.slug
        name = s.name
        operatorRole = s.profile.roles.map(\.rawValue).joined(separator: " and ")
        summary = s.profile.summary
        classifiedWith = s.classifiedWith.map { "\($0), law \(s.lawVersion ?? "-")" } ?? "the inventory's flags (not yet by the questionnaire)"
        review = s.review
        riskClass = s.riskClass.rawValue
        gpaiText = s.gpai ? "yes" : "no"
        annexText = s.annexIII.map { "area \($0)" } ?? "-"
        ownerText = s.owner ?? "-"
        purposeText = s.purpose ?? ""
        addedOn = s.addedOn
        taskCount = s.tasks
    }
}

/// `/programs/SLUG/systems`: the inventory, the add form and the spreadsheet import.
struct SystemsPage {
    var page: PageModel
    var csrf: String, slug: String, programTitle: String, canManage: Bool
    var systems: [SystemLine], hasSystems: Bool, pager: Pager
    var roleChoices: [Choice], riskChoices: [Choice]
    /// The add form's input, kept after a refusal, and the field at fault.
    var name = "", annex = "", owner = "", purpose = "", gpaiChecked = false
    var nameInvalid = false, roleInvalid = false, riskInvalid = false, annexInvalid = false, ownerInvalid = false
    /// The refused import's file name and each of its problems.
    var importName = "", importProblems: [UploadProblem] = [], hasImportProblems = false, importInvalid = false

    init(page: PageModel, slug: String, programTitle: String, systems: Paged<AISystem>, canManage: Bool, input: [String: String] = [:]) {
        self.page = page
        csrf = page.person?.csrf ?? ""
        self.slug = slug
        self.programTitle = programTitle
        self.canManage = canManage
        self.systems = systems.items.map(SystemLine.init)
        hasSystems = !self.systems.isEmpty
        pager = Pager(systems, path: "/programs/\(slug)/systems", label: "Pages of AI systems")
        roleChoices = OperatorRole.allCases.map { Choice(value: $0.rawValue, label: $0.rawValue, selected: input["role"] == $0.rawValue) }
        riskChoices = RiskClass.allCases.map { Choice(value: $0.rawValue, label: $0.rawValue, selected: input["risk"] == $0.rawValue) }
        name = input["name"] ?? ""
        annex = input["annex_iii"] ?? ""
        owner = input["owner"] ?? ""
        purpose = input["purpose"] ?? ""
        gpaiChecked = input["gpai"] == "yes"
    }

    /// Marks the add form's field a refusal concerns.
    mutating func mark(_ error: AccordError) {
        switch error.field {
        case "role": roleInvalid = true
        case "risk": riskInvalid = true
        case "annex_iii": annexInvalid = true
        case "owner": ownerInvalid = true
        default: nameInvalid = error.code == .invalid || error.code == .conflict
        }
    }
}

/// `/programs/SLUG/systems/SYSTEM`: one system and the tasks it brought.
struct SystemPage {
    var page: PageModel
    var slug: String, programTitle: String, system: SystemLine, tasks: [TaskLine], hasTasks: Bool, pager: Pager
    init(page: PageModel, slug: String, programTitle: String, system: AISystem, tasks: Paged<TaskSummary>) {
        self.page = page
        self.slug = slug
        self.programTitle = programTitle
        self.system = SystemLine(system)
        self.tasks = tasks.items.map(TaskLine.init)
        hasTasks = !self.tasks.isEmpty
        pager = Pager(tasks, path: "/programs/\(slug)/systems/\(system.slug)", label: "Pages of this system’s tasks")
    }
}

/// `/programs/SLUG/upgrade`: the later versions, the dry run's plan for the chosen one, and the confirm form.
struct UpgradePage {
    struct Plan {
        var toVersion: Int, changes: [String], hasChanges: Bool
        var adds: [String], hasAdds: Bool, retires: [String], hasRetires: Bool, updates: [String], hasUpdates: Bool
        var keeps: [String], hasKeeps: Bool
        var systems: [UpgradePlan.SystemChanges], hasSystems: Bool
    }
    var page: PageModel
    var csrf: String, slug: String, programTitle: String, workflow: String, currentVersion: Int
    var choices: [Choice], hasLater: Bool, plan: Plan?, versionInvalid = false

    init(page: PageModel, program: ProgramSummary, later: [Int], chosen: Int?, plan: UpgradePlan?) {
        self.page = page
        csrf = page.person?.csrf ?? ""
        slug = program.slug
        programTitle = program.title
        workflow = program.workflow
        currentVersion = program.workflowVersion
        choices = later.map { Choice(value: String($0), label: "version \($0)", selected: $0 == chosen) }
        hasLater = !later.isEmpty
        self.plan = plan.map { p in
            let changes = p.diff.lines
            return Plan(
                toVersion: p.diff.to,
                changes: changes,
                hasChanges: !changes.isEmpty,
                adds: p.add,
                hasAdds: !p.add.isEmpty,
                retires: p.retire,
                hasRetires: !p.retire.isEmpty,
                updates: p.update,
                hasUpdates: !p.update.isEmpty,
                keeps: p.keep,
                hasKeeps: !p.keep.isEmpty,
                systems: p.systems,
                hasSystems: !p.systems.isEmpty
            )
        }
    }
}
