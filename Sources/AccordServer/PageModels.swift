import AccordCore
import AccordReports
import AccordResources
import AccordStore
import Foundation
import Hummingbird
import Mustache

// The plain values the Mustache templates render: one per page, built from the engine's records.

struct PageModel {
    struct Who {
        var name: String
        var handle: String
        var csrf: String
        /// Whether the header offers the administrator's pages (the engine still decides).
        var isAdmin: Bool
    }
    var title: String
    var person: Who?
    var notice: String?
    var error: String?
    /// A page that goes on at once to this address (after the identity provider's answer).
    var refreshTo: String?

    init(title: String, context: AccordContext, error: String? = nil) {
        self.title = title
        if let person = context.person, let session = context.session {
            self.person = Who(name: person.name, handle: person.handle, csrf: session.csrfToken, isAdmin: person.isAdmin)
        }
        self.error = error
    }
}

/// The login form, with its pre-session token (login CSRF).
struct LoginPage {
    var page: PageModel
    var handle: String
    var loginToken: String
    /// The identity providers offered as "Log in with …".
    var providers: [ProviderButton]
    /// Stored, not computed: Mustache reads a model's stored properties only.
    var hasProviders: Bool
    /// Whether local passwords are off (the form stays, for break-glass administrators).
    var passwordsOff: Bool
}

/// One task in a list. Mustache looks a missing (nil) value up in the enclosing context, so optional
/// fields get names no page model uses, and "no value" is spelled out.
struct TaskLine {
    var id: Int64, ref: String, title: String, state: String, lineDue: String, lineLateDays: Int, lineIsLate: Bool, ownerRole: String,
        assignee: String
    init(_ t: TaskSummary) {
        id = t.id
        ref = t.ref
        title = t.title
        state = t.state.rawValue
        lineDue = t.dueOn ?? "no due date"
        lineLateDays = t.overdueDays ?? 0
        lineIsLate = t.overdueDays != nil
        ownerRole = t.ownerRole
        assignee = t.assignee ?? "unassigned"
    }
}

struct InboxPage {
    struct NoticeLine { var noticeKind: String, message: String, taskID: Int64?, at: String, isEscalation: Bool }
    var page: PageModel
    var signOffs: [TaskLine], tasks: [TaskLine], signOffCount: String, taskCount: Int, signOffsMore: Bool
    var notices: [NoticeLine], noticeCount: Int
    /// The roles the person stands in for now (out of office), and whether there are any.
    var standIns: [StandInLine] = [], hasStandIns = false
    init(page: PageModel, signOffs: [TaskLine], tasks: [TaskLine], notices: [Notice] = [], signOffsMore: Bool = false) {
        self.page = page
        self.signOffs = signOffs
        self.tasks = tasks
        taskCount = tasks.count
        signOffCount = signOffsMore ? "\(signOffs.count)+" : "\(signOffs.count)"
        self.signOffsMore = signOffsMore
        let format = PageTime.isoFormatter()
        self.notices = notices.map {
            NoticeLine(
                noticeKind: $0.kind,
                message: $0.message,
                taskID: $0.taskID,
                at: format.string(from: $0.at),
                isEscalation: $0.kind == "escalation"
            )
        }
        noticeCount = notices.count
    }
}

struct ProgramsPage {
    var page: PageModel
    var programs: [ProgramSummary]
    var pager: Pager
    init(page: PageModel, programs: Paged<ProgramSummary>) {
        self.page = page
        self.programs = programs.items
        self.pager = Pager(programs, path: "/programs", label: "Pages of programs")
    }
}

struct ProgramPage {
    var page: PageModel
    var slug: String, programTitle: String, workflow: String, workflowVersion: Int, startsOn: String, tasks: Int, progress: Int, overdueCount: Int
    var steps: [ProgramDetail.StepProgress]
    /// The filtered, paged task list with its assignment controls (`WorkPageModels.swift`).
    var work: ProgramTaskList?
    init(page: PageModel, detail: ProgramDetail, work: ProgramTaskList) {
        self.page = page
        let s = detail.summary
        slug = s.slug
        programTitle = s.title
        workflow = s.workflow
        workflowVersion = s.workflowVersion
        startsOn = s.startsOn
        self.tasks = s.tasks
        progress = s.progress
        overdueCount = s.overdue
        steps = detail.steps
        self.work = work
    }
}

struct TaskPage {
    struct Sig {
        var printedName: String, sigOnBehalfOf: String?, signedAt: String, decision: String, role: String, meaning: String, versionNote: String,
            sigComment: String, current: Bool, method: String
    }
    struct Ev { var id: Int64, title: String, version: Int, size: Int, sha256: String, uploadedBy: String, draftedWith: String? }
    var page: PageModel
    var csrf: String, taskID: Int64, program: String, stepTitle: String, taskTitle: String, state: String, ownerRole: String, assignee: String
    var dueOn: String?, overdue: Int?, description: String?
    var refs: [TaskDetail.RefTitle], hasRefs: Bool, dependsOn: [TaskDetail.Link], hasDependencies: Bool
    var evidence: [Ev], evidenceRequired: [String], evidenceVersion: Int
    var signatures: [Sig], hasSignatures: Bool, policy: String?, needed: String?, canSign: Bool, canUpload: Bool
    /// How the person signs: their password, and/or a fresh login at each provider they are linked to.
    var passwordSigning = true, ssoProviders: [ProviderButton] = [], hasSSOSigning = false
    struct DeadlineLine { var what: String, firedOn: String, recipients: String, isEscalation: Bool }
    var deadlines: [DeadlineLine], hasDeadlines: Bool
    var openFindings: [OpenFinding], hasOpenFindings: Bool
    /// The owner's actions the page offers the person (the engine still decides).
    var canStart: Bool, canSubmit: Bool, canMarkNotApplicable: Bool, canReinstate = false
    /// The not-applicable form's reason, kept after a refusal, and whether it is the field at fault.
    var reason = "", reasonInvalid = false
    /// The comment thread and the box of a rejection's reason (`WorkPageModels.swift`).
    var thread: CommentThread?, changesAsked: ChangesAsked?

    /// Marks the field a refusal concerns and keeps what was typed.
    mutating func mark(field: String?, input: [String: String]) {
        reason = input["reason"] ?? ""
        reasonInvalid = field == "reason"
        markComment(field: field, input: input)
    }

    init(page: PageModel, detail: TaskDetail, canSign: Bool, actor: String) {
        self.page = page
        csrf = page.person?.csrf ?? ""
        let t = detail.task
        taskID = t.id
        program = t.program
        stepTitle = detail.stepTitle
        taskTitle = t.title
        state = t.state.rawValue
        ownerRole = t.ownerRole
        assignee = t.assignee ?? "unassigned"
        dueOn = t.dueOn
        overdue = t.overdueDays
        description = detail.description
        refs = detail.refs
        hasRefs = !detail.refs.isEmpty
        dependsOn = detail.dependsOn
        hasDependencies = !detail.dependsOn.isEmpty
        evidence = detail.evidence.map {
            Ev(
                id: $0.id,
                title: $0.title,
                version: $0.version,
                size: $0.size,
                sha256: $0.sha256,
                uploadedBy: $0.uploadedBy,
                draftedWith: $0.draftedWith
            )
        }
        evidenceRequired = detail.evidenceRequired
        evidenceVersion = detail.evidenceVersion
        deadlines = detail.deadlines.map {
            DeadlineLine(
                what: $0.kind == .escalation ? "Escalation \($0.level) to \($0.toRole ?? "?")" : $0.kind == .overdue ? "Overdue notice" : "Reminder",
                firedOn: $0.firedOn,
                recipients: $0.recipients.isEmpty ? "nobody" : $0.recipients.joined(separator: ", "),
                isEscalation: $0.kind == .escalation
            )
        }
        hasDeadlines = !deadlines.isEmpty
        openFindings = detail.openFindings
        hasOpenFindings = !detail.openFindings.isEmpty
        let format = PageTime.isoFormatter()
        signatures = detail.signatures.map {
            Sig(
                printedName: $0.printedName,
                sigOnBehalfOf: $0.onBehalfOf,
                signedAt: format.string(from: $0.signedAt),
                decision: $0.decision == .approve ? "approved" : "rejected",
                role: $0.role ?? "-",
                meaning: $0.meaning.rawValue,
                versionNote: $0.versionNote,
                sigComment: $0.comment ?? "",
                current: $0.current,
                method: signingMethodLabel($0.authMethod)
            )
        }
        hasSignatures = !detail.signatures.isEmpty
        policy = detail.approval?.signersSummary
        needed = detail.signaturesNeeded.isEmpty ? nil : ApprovalPolicy.neededSummary(detail.signaturesNeeded)
        self.canSign = canSign
        canUpload = ![.retired, .notApplicable].contains(t.state)
        // Unassigned work is started by a holder of its owner role; anyone else who tries is told why by the engine.
        let mine = t.assignee == actor || t.assignee == nil
        canStart = mine && t.state == .open
        canSubmit = mine && t.state == .inProgress
        // Managers decide applicability; others who try are told so by the engine, on this page.
        canMarkNotApplicable = [.blocked, .open, .inProgress].contains(t.state)
        canReinstate = t.state == .notApplicable
        changesAsked = ChangesAsked(detail)
    }
}

struct AuditPage {
    struct Row { var seq: Int64, at: String, actor: String, action: String, object: String }
    struct Chain {
        var program: String, entries: Int, verified: Int, chainOK: Bool, problemText: String, headShort: String, checkpointText: String, rows: [Row]
    }
    var page: PageModel
    var chains: [Chain]
    init(page: PageModel, chains: [ChainStatus]) {
        self.page = page
        let format = PageTime.isoFormatter()
        self.chains = chains.map { c in
            Chain(
                program: c.program,
                entries: c.entries,
                verified: c.verified,
                chainOK: c.problem == nil,
                problemText: c.problem ?? "",
                headShort: String(c.headSHA256.prefix(16)),
                checkpointText: c.lastCheckpointAt.map { "\(format.string(from: $0)) at entry \(c.lastCheckpointPosition ?? 0)" } ?? "none taken yet",
                rows: c.latest.map {
                    Row(seq: $0.seq, at: format.string(from: $0.recordedAt), actor: $0.actor, action: $0.action, object: $0.objectID ?? "")
                }
            )
        }
    }
}

struct AccountPage {
    /// One of the person's API tokens, as the account page lists it.
    struct Token { var id: Int64, name: String, created: String, expires: String, lastUsed: String, access: String }
    var page: PageModel
    var handle: String, name: String, email: String, feedOn: Bool, feedCreated: String?, feedURL: String?, csrf: String
    /// The person's tokens still in force.
    var tokens: [Token] = [], hasTokens = false
    /// A token just created, shown this once.
    var newToken: String?
    /// The token form's input, kept after a refusal, and the field at fault.
    var tokenName = "", tokenExpires = "", nameInvalid = false, expiresInvalid = false, passwordInvalid = false
    /// The person's live sessions (`PeoplePageModels.swift`).
    var sessions: [SessionLine] = [], hasSessions = false
    /// The password form's field at fault after a refusal (the passwords themselves are never kept).
    var currentInvalid = false, newPasswordInvalid = false, confirmationInvalid = false

    init(page: PageModel, person: Person, feedCreated: Date?, feedURL: String?, tokens: [APIToken] = []) {
        self.page = page
        handle = person.handle
        name = person.name
        email = person.email ?? "-"
        feedOn = feedCreated != nil
        self.feedCreated = feedCreated.map { PageTime.isoFormatter().string(from: $0) }
        self.feedURL = feedURL
        csrf = page.person?.csrf ?? ""
        let format = PageTime.isoFormatter()
        self.tokens = tokens.filter { !$0.revoked && ($0.expiresAt ?? .distantFuture) > Date() }.map {
            Token(
                id: $0.id,
                name: $0.name,
                created: format.string(from: $0.createdAt),
                expires: $0.expiresAt.map { format.string(from: $0) } ?? "never",
                lastUsed: $0.lastUsedAt.map { format.string(from: $0) } ?? "not yet",
                access: $0.readOnly ? "read only" : "read and write"
            )
        }
        hasTokens = !self.tokens.isEmpty
    }

    /// Keeps the token form's input and marks the field a refusal concerns.
    mutating func markTokenForm(field: String?, code: AccordError.Code, input: [String: String]) {
        tokenName = input["name"] ?? ""
        tokenExpires = input["expires"] ?? ""
        nameInvalid = field == "name"
        expiresInvalid = field == "expires"
        passwordInvalid = field == nil && [.unauthenticated, .locked].contains(code)
    }
}

struct ReportPage {
    struct Table { var title: String, header: [String], rows: [Row], empty: Bool }
    struct Row { var cells: [String] }
    struct Link { var kind: String, title: String, current: Bool }
    var page: PageModel
    var slug: String, programTitle: String, reportTitle: String, kind: String, generatedAt: String, summary: [String], tables: [Table], links: [Link]
    init(page: PageModel, report: Report) {
        self.page = page
        slug = report.program
        programTitle = report.programTitle
        reportTitle = report.kind.title
        kind = report.kind.rawValue
        generatedAt = PageTime.isoFormatter().string(from: report.generatedAt)
        summary = report.summary
        tables = report.tables.map { Table(title: $0.title, header: $0.header, rows: $0.rows.map { Row(cells: $0) }, empty: $0.rows.isEmpty) }
        links = ReportKind.allCases.map { Link(kind: $0.rawValue, title: $0.title, current: $0 == report.kind) }
    }
}

struct LeadershipPage {
    struct Row {
        var handle: String, name: String, roleList: String, waiting: Int, overdue: Int, leaderLate: Bool, signed: Int, medianText: String,
            escalationsReceived: Int
    }
    var page: PageModel
    struct EscalationLine { var task: String, taskTitle: String, level: Int, toRole: String, recipients: String, firedOn: String, dueOn: String }
    var leaders: [Row], owners: [LeadershipReport.OwnerLoad], hasOwners: Bool, ownerSummary: String
    var escalations: [EscalationLine], hasEscalations: Bool
    init(page: PageModel, report: LeadershipReport) {
        self.page = page
        leaders = report.leaders.map {
            Row(
                handle: $0.handle,
                name: $0.name,
                roleList: $0.roles.joined(separator: ", "),
                waiting: $0.waiting,
                overdue: $0.overdue,
                leaderLate: $0.overdue > 0,
                signed: $0.signed,
                medianText: $0.medianHoursToSign.map { "\($0) h" } ?? "no signatures yet",
                escalationsReceived: $0.escalationsReceived
            )
        }
        escalations = report.openEscalations.map {
            EscalationLine(
                task: $0.task,
                taskTitle: $0.title,
                level: $0.level,
                toRole: $0.toRole ?? "-",
                recipients: $0.recipients.joined(separator: ", "),
                firedOn: $0.firedOn,
                dueOn: $0.dueOn
            )
        }
        hasEscalations = !escalations.isEmpty
        owners = report.overdueByOwner
        hasOwners = !owners.isEmpty
        ownerSummary = owners.map { "\($0.owner) \($0.overdue)" }.joined(separator: ", ")
    }
}

extension Problem {
    var httpStatus: HTTPResponse.Status { HTTPResponse.Status(code: status) }
}

/// How a signature was authenticated, as the task page says it: `password`, or the provider and the time
/// of the fresh login for `oidc iss=… auth_time=…`.
func signingMethodLabel(_ method: String) -> String {
    guard method.hasPrefix("oidc ") else { return method }
    var parts: [String: String] = [:]
    for field in method.dropFirst(5).split(separator: " ") {
        let pair = field.split(separator: "=", maxSplits: 1)
        if pair.count == 2 { parts[String(pair[0])] = String(pair[1]) }
    }
    return "single sign-on at \(parts["iss"] ?? "?"), fresh login at \(parts["auth_time"] ?? "?")"
}
