import AccordCore
import AccordStore
import Foundation
import Hummingbird

// The page models of the work on tasks: the program's filtered, paged task list with its assignment
// controls, a task's comment thread, and the box that says what a rejection asked to change.

/// The program page's task list: the filter form, one page of the filtered tasks, the links to the other
/// pages and to the downloads, and for those who may assign, a choice of assignee per row and for all.
struct ProgramTaskList {
    /// An option of a `<select>`.
    struct Option {
        var value: String, label: String, selected: Bool
    }
    /// A task's row.
    struct Row {
        var id: Int64, ref: String, title: String, state: String, ownerRole: String, assigneeText: String
        var lineDue: String, lineIsLate: Bool, lineLateDays: Int
        /// Whether it can be assigned (outstanding, and the person may assign); its checkbox is ticked, its
        /// choice is at fault (after a refusal).
        var assignable: Bool, checked: Bool, rowInvalid: Bool
        var choices: [Option]
    }
    var csrf: String
    var mayAssign: Bool
    var rows: [Row], hasRows: Bool
    var total: Int, pageNumber: Int, lastPage: Int, prevLink: String?, nextLink: String?, hasPages: Bool
    var csvLink: String, jsonLink: String
    /// The filter form, as filled in.
    var stepOptions: [Option], stateOptions: [Option], roleOptions: [Option], systemValue: String, overdueChecked: Bool,
        unassignedChecked: Bool
    /// The one-for-all choice, and whether it is at fault.
    var everyone: [Option], everyoneInvalid: Bool
    /// The filter and page as a query string, kept through the assignment form.
    var query: String

    init(
        slug: String,
        detail: ProgramDetail,
        filter: TaskFilter,
        paged: Paged<TaskSummary>,
        choices: AssignmentChoices,
        csrf: String,
        input: [String: String] = [:],
        invalidField: String? = nil
    ) {
        self.csrf = csrf
        mayAssign = choices.mayAssign
        func options(_ people: [Assignee], chosen: String?) -> [Option] {
            [Option(value: "", label: "keep as it is", selected: (chosen ?? "").isEmpty)]
                + people.map { Option(value: $0.handle, label: "\($0.name) (\($0.handle))", selected: $0.handle == chosen) }
        }
        rows = paged.items.map { t in
            Row(
                id: t.id,
                ref: t.ref,
                title: t.title,
                state: t.state.rawValue,
                ownerRole: t.ownerRole,
                assigneeText: t.assignee ?? "unassigned",
                lineDue: t.dueOn ?? "no due date",
                lineIsLate: t.overdueDays != nil,
                lineLateDays: t.overdueDays ?? 0,
                assignable: choices.mayAssign && t.state.isOutstanding,
                checked: input["select_\(t.id)"] != nil,
                rowInvalid: invalidField == "assignee_\(t.id)",
                choices: choices.mayAssign && t.state.isOutstanding ? options(choices.assignees, chosen: input["assignee_\(t.id)"]) : []
            )
        }
        hasRows = !rows.isEmpty
        total = paged.total
        pageNumber = paged.page
        lastPage = paged.lastPage
        let base = "/programs/\(slug)?"
        let filterText = filterQuery(filter)
        func link(page: Int) -> String { base + joinQuery(filterText, "page=\(page)", "per_page=\(paged.perPage)") }
        prevLink = paged.page > 1 ? link(page: min(paged.page - 1, paged.lastPage)) : nil
        nextLink = paged.hasNext ? link(page: paged.page + 1) : nil
        hasPages = paged.lastPage > 1
        csvLink = base + joinQuery(filterText, "format=csv", "per_page=\(Paging.maxDownload)")
        jsonLink = base + joinQuery(filterText, "format=json", "per_page=\(Paging.maxDownload)")
        query = joinQuery(filterText, "page=\(paged.page)", "per_page=\(paged.perPage)")
        stepOptions = detail.steps.map { Option(value: $0.key, label: $0.title, selected: $0.key == filter.step) }
        stateOptions = TaskState.allCases.map { Option(value: $0.rawValue, label: $0.rawValue, selected: $0 == filter.state) }
        roleOptions = detail.roles.map { Option(value: $0.role, label: $0.title, selected: $0.role == filter.ownerRole) }
        systemValue = filter.system ?? ""
        overdueChecked = filter.overdueOnly
        unassignedChecked = filter.unassignedOnly
        everyone = choices.mayAssign ? options(choices.assignees, chosen: input["assignee_all"]) : []
        everyoneInvalid = invalidField == "assignments"
    }
}

/// A filter as the program page's query string spells it, percent-encoded, without the program.
func filterQuery(_ filter: TaskFilter) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    func pair(_ name: String, _ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
    }
    return [
        pair("step", filter.step), pair("state", filter.state?.rawValue), pair("owner_role", filter.ownerRole), pair("system", filter.system),
        pair("assignee", filter.assignee), filter.overdueOnly ? "overdue=true" : nil, filter.unassignedOnly ? "unassigned=true" : nil,
        filter.mineOnly ? "mine=true" : nil,
    ].compactMap { $0 }.joined(separator: "&")
}

/// Query-string pieces joined with `&`, the empty ones left out.
func joinQuery(_ pieces: String...) -> String { pieces.filter { !$0.isEmpty }.joined(separator: "&") }

/// A task's comment thread, oldest first, a page at a time, and the form to add one.
struct CommentThread {
    /// A comment as the page shows it.
    struct Line { var commentID: Int64, authorName: String, author: String, at: String, body: String }
    var comments: [Line], hasComments: Bool, commentTotal: Int
    var olderLink: String?, newerLink: String?
    /// What was typed, kept after a refusal, and whether it is at fault.
    var commentBody = "", commentInvalid = false

    init(_ paged: Paged<TaskComment>, task: Int64) {
        let format = PageTime.isoFormatter()
        comments = paged.items.map {
            Line(commentID: $0.id, authorName: $0.authorName, author: $0.author, at: format.string(from: $0.at), body: $0.body)
        }
        hasComments = !comments.isEmpty
        commentTotal = paged.total
        olderLink = paged.page > 1 ? "/tasks/\(task)?comments_page=\(min(paged.page - 1, paged.lastPage))#comments" : nil
        newerLink = paged.hasNext ? "/tasks/\(task)?comments_page=\(paged.page + 1)#comments" : nil
    }

    /// The comments a task page shows at once.
    static let perPage = 100

    /// The thread of a task for its page: the page of comments the query asks for (`comments_page`, from 1).
    static func load(_ store: Store, task id: String, actor: String, query: Parameters) async throws -> CommentThread {
        let number = query["comments_page"].flatMap { Int($0) } ?? 1
        let paging = try Paging(page: (1...Paging.maxPage).contains(number) ? number : 1, perPage: perPage)
        return CommentThread(try await store.comments(of: id, paging: paging, actor: actor), task: Int64(id) ?? 0)
    }
}

/// The box at the top of a task whose last review was rejected and which is back with its owner: who asked
/// for changes, when, and what they wrote.
struct ChangesAsked {
    var rejectedBy: String, rejectedOn: String, rejectionComment: String

    /// The box, when the task's last signature is a rejection and the work is back with its owner.
    init?(_ detail: TaskDetail) {
        guard let last = detail.signatures.last, last.decision == .reject,
            [.open, .inProgress, .blocked].contains(detail.task.state)
        else { return nil }
        rejectedBy = last.onBehalfOf.map { "\(last.printedName) on behalf of \($0)" } ?? last.printedName
        rejectedOn = PageTime.isoFormatter().string(from: last.signedAt)
        rejectionComment = last.comment ?? ""
    }
}

extension TaskPage {
    /// Keeps the comment form's text after a refusal and marks it when it is the field at fault.
    mutating func markComment(field: String?, input: [String: String]) {
        thread?.commentBody = input["body"] ?? ""
        thread?.commentInvalid = field == "body"
    }
}
