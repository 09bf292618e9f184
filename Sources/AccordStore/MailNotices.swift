import AccordCore
import Foundation
import Postgres

/// The messages each cause writes, in its own transaction: who receives them and what they say.
extension Store {
    /// After a task's transition: entering review asks the signers it still needs; a rejection tells
    /// the assignee (and whoever submitted it) why.
    static func mailTransition(
        _ task: TaskRow,
        to next: TaskState,
        on event: TaskEvent,
        workflow: Workflow,
        program: ProgramRow,
        actor: Person,
        reason: String?,
        on connection: PostgresConnection
    ) async throws {
        guard event == .submit && next == .inReview || event == .reject,
            let facts = try await connection.queryFirst(MailSQL.taskFacts, task.id)
        else { return }
        let due = facts.dueOn.flatMap(CalendarDate.init)
        let late = due.map { $0.days(until: .today()) }
        let dueLine = due.map { ["Due on \($0)\(late.map { " (\(lateness($0)))" } ?? "")."] } ?? []
        if event == .reject {
            let recipients = [task.assigneeID, facts.submittedBy].compactMap { $0 }.filter { $0 != actor.id }
            let notice = MailNotice.task(
                .rejection,
                id: task.id,
                program: program.slug,
                title: facts.title,
                headline: "Rejected by \(actor.name)",
                lines: ["\(actor.name) rejected \(task.ref) and sent it back to work:", reason ?? ""] + dueLine,
                late: late
            )
            let reasons = recipients.map {
                MailRecipient(personID: $0, reason: $0 == task.assigneeID ? "you are the assignee of \(task.ref)" : "you submitted \(task.ref)")
            }
            try await queueMail(notice, to: reasons, on: connection)
            return
        }
        guard let policy = workflow.task(task.templateKey)?.approval else { return }
        let excluded = policy.separationOfDuties ? [task.assigneeID, actor.id].compactMap { $0 } : []
        let signers = try await connection.query(
            MailSQL.signers,
            program.id,
            PostgresArray(policy.signers.map(\.role)),
            PostgresArray(excluded)
        )
        let notice = MailNotice.task(
            .signoff,
            id: task.id,
            program: program.slug,
            title: facts.title,
            headline: "Sign-off requested" + (late.map { $0 > 0 ? ", \(lateness($0))" : "" } ?? ""),
            lines: ["\(actor.name) submitted \(task.ref) for review. It needs your sign-off; signing asks for your password again."] + dueLine,
            late: late
        )
        let recipients = signers.map { signer in
            MailRecipient(
                personID: signer.personID,
                reason: signer.forHandle.map { "you sign for \($0) as \(signer.role) in \(program.slug) (a delegation)" }
                    ?? "you hold \(signer.role) in \(program.slug), whose sign-off \(task.ref) still needs"
            )
        }
        try await queueMail(notice, to: recipients, on: connection)
    }

    /// A task assigned to someone other than the one assigning it.
    static func mailAssignment(
        _ task: TaskRow,
        to assignee: Person,
        by actor: Person,
        program: ProgramRow,
        on connection: PostgresConnection
    )
        async throws
    {
        guard assignee.id != actor.id, let facts = try await connection.queryFirst(MailSQL.taskFacts, task.id) else { return }
        let due = facts.dueOn.flatMap(CalendarDate.init)
        let late = due.map { $0.days(until: .today()) }
        let notice = MailNotice.task(
            .assignment,
            id: task.id,
            program: program.slug,
            title: facts.title,
            headline: "Assigned to you" + (due.map { ", due \($0)" } ?? ""),
            lines: ["\(actor.name) assigned \(task.ref) to you."] + (due.map { ["Due on \($0) (\(lateness(late ?? 0)))."] } ?? []),
            late: late
        )
        try await queueMail(notice, to: [MailRecipient(personID: assignee.id, reason: "you are the assignee of \(task.ref)")], on: connection)
    }

    /// A new comment, for the people the inbox tells (`people`).
    static func mailComment(
        _ task: TaskRow,
        by actor: Person,
        text: String,
        people: [Int64],
        program: ProgramRow,
        on connection: PostgresConnection
    )
        async throws
    {
        guard !people.isEmpty, let facts = try await connection.queryFirst(MailSQL.taskFacts, task.id) else { return }
        let notice = MailNotice.task(
            .comment,
            id: task.id,
            program: program.slug,
            title: facts.title,
            headline: "Comment from \(actor.name)",
            lines: ["\(actor.name) commented on \(task.ref):", text]
        )
        try await queueMail(
            notice,
            to: people.map { MailRecipient(personID: $0, reason: "you work on, submitted or sign \(task.ref)") },
            on: connection
        )
    }

    /// A delegation made to a deputy, or ended early by someone else.
    static func mailDelegation(
        role: String,
        holder: Person,
        deputyID: Int64,
        from first: String,
        until: String,
        ended: Bool,
        by actor: Person,
        program: ProgramRow,
        on connection: PostgresConnection
    ) async throws {
        guard deputyID != actor.id else { return }
        let subject =
            ended
            ? "[\(program.slug)] Your delegation of \(role) from \(holder.name) has ended"
            : "[\(program.slug)] \(holder.name) delegated \(role) to you, \(first) to \(until)"
        let line =
            ended
            ? "\(actor.name) ended the delegation: you no longer sign for \(holder.name) as \(role)."
            : "From \(first) to \(until) you may sign for \(holder.name) as \(role) in \(program.slug). Your signatures show \"on behalf of \(holder.name)\"."
        let notice = MailNotice(
            kind: .delegation,
            subject: subject,
            body: MailBody(lines: [line], path: "/signoffs", linkLabel: "Your sign-offs"),
            thread: "delegation-\(program.id)-\(role)-\(holder.id)-\(deputyID)"
        )
        try await queueMail(notice, to: [MailRecipient(personID: deputyID, reason: "you are \(holder.name)'s deputy for \(role)")], on: connection)
    }

    /// Delegations on their last day `today`: their deputies are told once.
    static func mailDelegationsEnding(today: CalendarDate, on connection: PostgresConnection) async throws {
        for ending in try await connection.query(MailSQL.delegationsEnding, today.description) {
            let program = try await programRow(ending.programID, on: connection)
            let notice = MailNotice(
                kind: .delegation,
                subject: "[\(program.slug)] Your delegation of \(ending.role) from \(ending.holder) ends today",
                body: MailBody(
                    lines: ["Today, \(today), is the last day you may sign for \(ending.holder) as \(ending.role) in \(program.slug)."],
                    path: "/signoffs",
                    linkLabel: "Your sign-offs"
                )
            )
            try await queueMail(notice, to: [MailRecipient(personID: ending.deputyID, reason: "you are \(ending.holder)'s deputy")], on: connection)
        }
    }

    /// The program's managers and leadership (the roles accountable), but for the one acting.
    static func accountableRecipients(
        _ workflow: Workflow,
        program: ProgramRow,
        except: Int64?,
        on connection: PostgresConnection
    ) async throws
        -> [MailRecipient]
    {
        let roles = workflow.roles.filter { $0.manager || $0.leadership }.map(\.key)
        return try await roleRecipients(roles, program: program, except: except, on: connection)
    }

    /// A serious incident, at once, with its Art. 73 deadline.
    static func mailIncident(
        number: Int,
        kind: IncidentKind,
        summary: String,
        system: String,
        dueAt: Date,
        workflow: Workflow,
        program: ProgramRow,
        by actor: Person,
        on connection: PostgresConnection
    ) async throws {
        let notice = MailNotice(
            kind: .incident,
            subject: "[\(program.slug)] Serious incident \(number) on \(system): report within \(kind.clockDays) days",
            body: MailBody(
                lines: [
                    "\(actor.name) reported a serious incident on \(system): \(summary)",
                    "\(kind.paragraph): the report is due within \(kind.clockDays) days of awareness, by the deadline below.",
                ],
                path: "/programs/\(program.slug)/incidents/\(number)",
                linkLabel: "Open the incident",
                deadline: dueAt
            ),
            thread: "incident-\(program.id)-\(number)"
        )
        try await queueMail(notice, to: try await accountableRecipients(workflow, program: program, except: nil, on: connection), on: connection)
    }

    /// A cycle opened or closed.
    static func mailCycle(
        number: Int,
        opened: Bool,
        detail: String,
        workflow: Workflow,
        program: ProgramRow,
        on connection: PostgresConnection
    )
        async throws
    {
        let notice = MailNotice(
            kind: .cycle,
            subject: "[\(program.slug)] Cycle \(number) \(opened ? "opened" : "closed")",
            body: MailBody(lines: [detail], path: "/programs/\(program.slug)/cycles", linkLabel: "Open the cycles"),
            thread: "cycle-\(program.id)-\(number)"
        )
        try await queueMail(notice, to: try await accountableRecipients(workflow, program: program, except: nil, on: connection), on: connection)
    }

    /// A finding whose corrective tasks belong to `roles`: their holders are told, but for the one raising it.
    static func mailFinding(
        number: Int,
        title: String,
        roles: [String],
        program: ProgramRow,
        by actor: Person,
        on connection: PostgresConnection
    )
        async throws
    {
        let notice = MailNotice(
            kind: .finding,
            subject: "[\(program.slug)] Finding \(number) needs you: \(title)",
            body: MailBody(
                lines: ["\(actor.name) raised finding \(number): \(title)", "Its corrective actions are tasks of your role."],
                path: "/programs/\(program.slug)/findings/\(number)",
                linkLabel: "Open the finding"
            ),
            thread: "finding-\(program.id)-\(number)"
        )
        try await queueMail(notice, to: try await roleRecipients(roles, program: program, except: actor.id, on: connection), on: connection)
    }

    /// The one-time set-password link of an invitation or a reset; the token goes into the message only.
    static func mailPasswordLink(_ link: PasswordLink, for person: Person, by actor: Person, on connection: PostgresConnection) async throws {
        let welcome = link.purpose == .welcome
        let notice = MailNotice(
            kind: .account,
            subject: welcome ? "Your Accord account: set your password" : "Accord: your password was reset",
            body: MailBody(
                lines: [
                    welcome
                        ? "\(actor.name) added you to Accord as \(person.handle). Choose your password with the link below; it works once."
                        : "\(actor.name) reset your Accord password. Choose a new one with the link below; it works once.",
                    "If you did not expect this, tell your administrator.",
                ],
                path: "/set-password/{secret}",
                linkLabel: "Set your password",
                deadline: link.expiresAt
            ),
            secret: link.token
        )
        try await queueMail(notice, to: [MailRecipient(personID: person.id, reason: "you have an account in Accord")], on: connection)
    }
}
