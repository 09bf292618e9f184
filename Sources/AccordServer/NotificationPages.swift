import AccordStore
import Foundation
import Hummingbird

/// `/account/notifications`: what Accord mails the person, per kind, and when their digest comes (the
/// `List-Unsubscribe` link of every message). Administrators also see the relay and the messages given up.
struct NotificationPages {
    let store: Store
    let renderer: PageRenderer
    let mailRelay: String?

    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("account/notifications", use: show)
            .post("account/notifications", use: save)
    }

    @Sendable func show(_ request: Request, context: AccordContext) async throws -> Response {
        var page = PageModel(title: "Notifications", context: context)
        if request.uri.queryParameters["saved"] != nil { page.notice = "Your notification preferences are saved." }
        let preferences = try await store.mailPreferences(actor: try context.actor)
        return try await render(NotificationsPage(page: page, preferences: preferences, mailRelay: mailRelay), context: context)
    }

    @Sendable func save(_ request: Request, context: AccordContext) async throws -> Response {
        let actor = try context.actor
        let form = try await renderer.formFields(request)
        try renderer.requireCSRF(form, context)
        do {
            var modes: [MailKind: MailMode] = [:]
            for kind in MailKind.choosable {
                guard let value = form[kind.rawValue] else { continue }
                guard let mode = MailMode(rawValue: value) else {
                    throw AccordError(
                        .invalid,
                        "'\(value)' is not a choice for \(kind.label.lowercased()): at once, digest or off",
                        field: kind.rawValue
                    )
                }
                modes[kind] = mode
            }
            let hourText = (form["digest_hour"] ?? "").trimmingCharacters(in: .whitespaces)
            var hour: Int?
            if !hourText.isEmpty {
                guard let parsed = Int(hourText) else { throw AccordError(.invalid, "the digest hour is a number, 0 to 23", field: "digest_hour") }
                hour = parsed
            }
            let zone = (form["time_zone"] ?? "").trimmingCharacters(in: .whitespaces)
            _ = try await store.setMailPreferences(modes, timeZone: zone.isEmpty ? nil : zone, digestHour: hour, actor: actor)
            return Response(status: .seeOther, headers: [.location: "/account/notifications?saved=1"])
        } catch let error as AccordError {
            let page = PageModel(title: "Notifications", context: context, error: error.message)
            var model = NotificationsPage(page: page, preferences: try await store.mailPreferences(actor: actor), mailRelay: mailRelay)
            model.keep(form, invalid: error.field)
            return try await render(model, context: context, status: Problem(error).httpStatus)
        }
    }

    private func render(_ model: NotificationsPage, context: AccordContext, status: HTTPResponse.Status = .ok) async throws -> Response {
        var model = model
        if context.person?.isAdmin == true {
            let actor = try context.actor
            model.admin = NotificationsPage.Admin(
                relay: mailRelay,
                counts: try await store.mailCounts(actor: actor),
                failed: try await store.failedMail(limit: 20, actor: actor).map(NotificationsPage.Failed.init)
            )
        }
        return renderer.render("notifications", model, status: status)
    }
}

/// The notifications page: a row per kind with its three choices, the time zone and the digest hour.
struct NotificationsPage {
    struct Row {
        var kind: String, label: String, now: Bool, digest: Bool, off: Bool, switchable: Bool, rowInvalid: Bool
    }
    struct Hour { var value: Int, label: String, selected: Bool }
    struct Failed {
        var when: String, person: String, address: String, subject: String, reply: String
        init(_ mail: FailedMail) {
            when = PageTime.isoFormatter().string(from: mail.failedAt)
            person = mail.person
            address = mail.address
            subject = mail.subject
            reply = mail.lastReply
        }
    }
    struct Admin {
        var relay: String?
        var mailOn: Bool { relay != nil }
        var counts: MailCounts
        var failed: [Failed]
        var hasFailed: Bool { !failed.isEmpty }
    }
    var page: PageModel
    var rows: [Row]
    var timeZone: String
    var zones: [String] = TimeZone.knownTimeZoneIdentifiers.sorted()
    var hours: [Hour]
    var address: String
    var hasAddress: Bool
    var zoneInvalid = false
    var hourInvalid = false
    var admin: Admin?

    init(page: PageModel, preferences: MailPreferences, mailRelay: String?) {
        self.page = page
        rows = MailKind.choosable.map { kind in
            let mode = preferences.mode(kind)
            return Row(
                kind: kind.rawValue,
                label: kind.label,
                now: mode == .now,
                digest: mode == .digest,
                off: mode == .off,
                switchable: kind.canBeSwitchedOff,
                rowInvalid: false
            )
        }
        timeZone = preferences.timeZone
        hours = (0..<24).map { Hour(value: $0, label: String(format: "%02d:00", $0), selected: $0 == preferences.digestHour) }
        address = preferences.email ?? ""
        hasAddress = preferences.email != nil
    }

    /// The choices as submitted, and the field refused marked.
    mutating func keep(_ form: [String: String], invalid field: String?) {
        rows = rows.map { row in
            var row = row
            if let value = form[row.kind] {
                row.now = value == "now"
                row.digest = value == "digest"
                row.off = value == "off"
            }
            row.rowInvalid = row.kind == field
            return row
        }
        if let zone = form["time_zone"] { timeZone = zone }
        if let hour = form["digest_hour"].flatMap(Int.init) {
            hours = hours.map { Hour(value: $0.value, label: $0.label, selected: $0.value == hour) }
        }
        zoneInvalid = field == "time_zone"
        hourInvalid = field == "digest_hour"
    }
}
