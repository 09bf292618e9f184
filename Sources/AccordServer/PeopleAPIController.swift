import AccordCore
public import AccordStore
import Foundation
public import Hummingbird
import HummingbirdAuth

extension OwnSession: ResponseEncodable {}
extension APIToken: ResponseEncodable {}

extension Person: CSVRecord {
    static let csvHeader = ["id", "handle", "name", "email", "admin", "can_sign", "disabled"]
    var csvFields: [String] {
        [String(id), handle, name, email ?? "", isAdmin ? "yes" : "no", canSign ? "yes" : "no", disabled ? "yes" : "no"]
    }
}

extension PersonFilter {
    /// The filter a query string asks for: `q` (handle, name or e-mail contains it) and `status`
    /// (`active` or `disabled`). Empty values mean "any".
    init(query: Parameters) throws {
        let status = query["status"].map(String.init) ?? ""
        guard status.isEmpty || PersonFilter.Status(rawValue: status) != nil else {
            throw AccordError(.invalid, "status is active or disabled", field: "status")
        }
        let search = query["q"].map(String.init)
        guard (search?.count ?? 0) <= 200 else { throw AccordError(.invalid, "a search has at most 200 characters", field: "q") }
        self.init(search: search, status: PersonFilter.Status(rawValue: status))
    }
}

/// A new person's fields; every one optional here, so that a missing one is named in a 422, not a 400.
struct NewPersonBody: Decodable {
    var handle: String?
    var name: String?
    var email: String?
    var admin: Bool?
}

/// The current and the new password.
struct PasswordChangeBody: Decodable {
    var currentPassword: String?
    var newPassword: String?
    enum CodingKeys: String, CodingKey {
        case currentPassword = "current_password"
        case newPassword = "new_password"
    }
}

/// A change of one's notification preferences: any of the three parts.
struct NotificationsBody: Decodable {
    var modes: [String: String]?
    var timeZone: String?
    var digestHour: Int?
    enum CodingKeys: String, CodingKey {
        case modes
        case timeZone = "time_zone"
        case digestHour = "digest_hour"
    }
}

/// A password link's token and the password it sets.
struct PasswordLinkBody: Decodable {
    var token: String?
    var password: String?
    var passwordConfirmation: String?
    enum CodingKeys: String, CodingKey {
        case token, password
        case passwordConfirmation = "password_confirmation"
    }
}

/// A token's name and expiry, and the owner's password as proof.
struct NewTokenBody: Decodable {
    var name: String?
    var expires: String?
    var password: String?
    /// A token that only reads (GET and HEAD).
    var readOnly: Bool?
}

/// A one-time password link as the API shows it, once.
struct PasswordLinkAnswer: Encodable, Sendable {
    var token: String
    var url: String
    var purpose: PasswordLink.Purpose
    var expiresAt: Date
}

/// A person just added, with the link that sets their password.
struct NewPersonAnswer: ResponseEncodable, Sendable {
    var person: Person
    var passwordLink: PasswordLinkAnswer
}

/// A token just created: the token itself, shown once, and how it is listed.
struct NewTokenAnswer: ResponseEncodable, Sendable {
    var token: String
    var listed: APIToken
}

/// The address of a password link: this server's own, as the request reached it.
func passwordLinkURL(_ token: String, request: Request, tls: Bool) -> String {
    "\(tls ? "https" : "http")://\(request.head.authority ?? "127.0.0.1")/set-password/\(token)"
}

/// People and one's own account in the JSON API: administrators manage people; everyone manages only
/// their own password, sessions and tokens. Setting a password with a one-time link is open (the link's
/// token is the credential). One named method per route.
struct PeopleAPIController {
    let store: Store
    let tls: Bool

    /// Adds the open route to `open` (`/api/v1` without a login) and the rest to `authenticated`.
    func addRoutes(open: RouterGroup<AccordContext>, authenticated: RouterGroup<AccordContext>) {
        open.addRoutes(RouteCollection(context: AccordContext.self).post("password-links", use: usePasswordLink))
        authenticated.addRoutes(endpoints)
    }

    /// The routes behind a login, relative to `/api/v1`.
    var endpoints: RouteCollection<AccordContext> {
        RouteCollection(context: AccordContext.self)
            .get("people", use: people)
            .post("people", use: addPerson)
            .get("people/:handle", use: person)
            .post("people/:handle/disable", use: disable)
            .post("people/:handle/enable", use: enable)
            .post("people/:handle/password-link", use: passwordLink)
            .post("me/password", use: changePassword)
            .get("me/sessions", use: sessions)
            .delete("me/sessions/:session", use: endSession)
            .get("me/tokens", use: tokens)
            .post("me/tokens", use: createToken)
            .post("me/tokens/:token/revoke", use: revokeToken)
            .get("me/notifications", use: notifications)
            .patch("me/notifications", use: setNotifications)
    }

    @Sendable func notifications(_ request: Request, context: AccordContext) async throws -> MailPreferences {
        try await store.mailPreferences(actor: try context.actor)
    }

    /// Changes what is given, all or nothing; an empty body changes nothing.
    @Sendable func setNotifications(_ request: Request, context: AccordContext) async throws -> MailPreferences {
        let body = try await request.decode(as: NotificationsBody.self, context: context)
        var modes: [MailKind: MailMode] = [:]
        for (name, value) in body.modes ?? [:] {
            guard let kind = MailKind(rawValue: name), MailKind.choosable.contains(kind) else {
                throw AccordError(
                    .invalid,
                    "'\(name)' is not a kind of message; kinds are \(MailKind.choosable.map(\.rawValue).joined(separator: ", "))",
                    field: "modes"
                )
            }
            guard let mode = MailMode(rawValue: value) else { throw AccordError(.invalid, "'\(value)' is not now, digest or off", field: "modes") }
            modes[kind] = mode
        }
        return try await store.setMailPreferences(modes, timeZone: body.timeZone, digestHour: body.digestHour, actor: try context.actor)
    }

    @Sendable func people(_ request: Request, context: AccordContext) async throws -> Response {
        let list = try ListRequest(request, defaultFormat: .json)
        let filter = try PersonFilter(query: request.uri.queryParameters)
        return try listDownload(try await store.people(filter, paging: list.paging, actor: try context.actor), name: "people", format: list.format)
    }

    @Sendable func addPerson(_ request: Request, context: AccordContext) async throws -> EditedResponse<NewPersonAnswer> {
        let body = try await request.decode(as: NewPersonBody.self, context: context)
        let (person, link) = try await store.invitePerson(
            handle: body.handle ?? "",
            name: body.name ?? "",
            email: body.email,
            admin: body.admin ?? false,
            actor: try context.actor
        )
        return EditedResponse(status: .created, response: NewPersonAnswer(person: person, passwordLink: answer(link, request)))
    }

    @Sendable func person(_ request: Request, context: AccordContext) async throws -> Person {
        try await store.person(try context.parameters.require("handle"), actor: try context.actor)
    }

    @Sendable func disable(_ request: Request, context: AccordContext) async throws -> Person {
        try await store.disablePerson(try context.parameters.require("handle"), actor: try context.actor)
    }

    @Sendable func enable(_ request: Request, context: AccordContext) async throws -> Person {
        try await store.enablePerson(try context.parameters.require("handle"), actor: try context.actor)
    }

    @Sendable func passwordLink(_ request: Request, context: AccordContext) async throws -> EditedResponse<PasswordLinkAnswerBody> {
        let link = try await store.resetPassword(try context.parameters.require("handle"), actor: try context.actor)
        return EditedResponse(status: .created, response: PasswordLinkAnswerBody(passwordLink: answer(link, request)))
    }

    @Sendable func usePasswordLink(_ request: Request, context: AccordContext) async throws -> Person {
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true else {
            throw HTTPError(.unsupportedMediaType, message: "send a JSON body: Content-Type: application/json")
        }
        let body = try await request.decode(as: PasswordLinkBody.self, context: context)
        guard let token = body.token, !token.isEmpty else { throw AccordError(.invalid, "say which link: its token", field: "token") }
        let password = body.password ?? ""
        if let confirmation = body.passwordConfirmation, confirmation != password {
            throw AccordError(.invalid, "the two passwords differ", field: "password_confirmation")
        }
        do {
            return try await store.setPassword(linkToken: token, password: password)
        } catch let error as AccordError where error.code == .conflict && error.field == "token" {
            throw HTTPError(.gone, message: error.message)
        }
    }

    @Sendable func changePassword(_ request: Request, context: AccordContext) async throws -> Response {
        let body = try await request.decode(as: PasswordChangeBody.self, context: context)
        guard let current = body.currentPassword, !current.isEmpty else {
            throw AccordError(.invalid, "give your current password", field: "current_password")
        }
        try await store.changePassword(
            actor: try context.actor,
            current: current,
            new: body.newPassword ?? "",
            keepingCookie: context.session == nil ? nil : request.cookies[SessionCookies(store: store, tls: tls).name]?.value
        )
        return Response(status: .noContent)
    }

    @Sendable func sessions(_ request: Request, context: AccordContext) async throws -> Items<OwnSession> {
        let cookie = context.session == nil ? nil : request.cookies[SessionCookies(store: store, tls: tls).name]?.value
        return Items(items: try await store.ownSessions(actor: try context.actor, currentCookie: cookie))
    }

    @Sendable func endSession(_ request: Request, context: AccordContext) async throws -> Response {
        guard let id = Int64(try context.parameters.require("session")) else { throw AccordError(.notFound, "no such session") }
        try await store.endOwnSession(id, actor: try context.actor)
        return Response(status: .noContent)
    }

    @Sendable func tokens(_ request: Request, context: AccordContext) async throws -> Items<APIToken> {
        Items(items: try await store.tokens(actor: try context.actor, ownOnly: true))
    }

    @Sendable func createToken(_ request: Request, context: AccordContext) async throws -> EditedResponse<NewTokenAnswer> {
        let body = try await request.decode(as: NewTokenBody.self, context: context)
        var expires: CalendarDate?
        if let text = body.expires, !text.isEmpty {
            guard let date = CalendarDate(text) else { throw AccordError(.invalid, "the expiry date must be a date, YYYY-MM-DD", field: "expires") }
            expires = date
        }
        let (listed, token) = try await store.createToken(
            for: try context.actor,
            name: body.name ?? "",
            expires: expires,
            actor: try context.actor,
            proof: .password(body.password ?? ""),
            readOnly: body.readOnly ?? false
        )
        return EditedResponse(status: .created, response: NewTokenAnswer(token: token, listed: listed))
    }

    @Sendable func revokeToken(_ request: Request, context: AccordContext) async throws -> Response {
        guard let id = Int64(try context.parameters.require("token")) else { throw AccordError(.notFound, "no such token") }
        try await store.revokeToken(id, actor: try context.actor, ownOnly: true)
        return Response(status: .noContent)
    }

    private func answer(_ link: PasswordLink, _ request: Request) -> PasswordLinkAnswer {
        PasswordLinkAnswer(
            token: link.token,
            url: passwordLinkURL(link.token, request: request, tls: tls),
            purpose: link.purpose,
            expiresAt: link.expiresAt
        )
    }
}

/// A new password link for someone already there.
struct PasswordLinkAnswerBody: ResponseEncodable, Sendable {
    var passwordLink: PasswordLinkAnswer
}
