import AccordStore
import Foundation

// The plain values the people pages, the set-password page and the account page's sessions render.
// Mustache looks a missing (nil) value up in the enclosing context, so optional values are spelled out.

/// One of the person's own sessions on the account page.
struct SessionLine {
    var id: Int64, created: String, lastSeen: String, ends: String, sessionAddress: String, isCurrent: Bool
    init(_ session: OwnSession) {
        let format = PageTime.isoFormatter()
        id = session.id
        created = format.string(from: session.createdAt)
        lastSeen = format.string(from: session.lastSeenAt)
        ends = format.string(from: session.expiresAt)
        sessionAddress = session.address ?? "not recorded"
        isCurrent = session.current
    }
}

/// A one-time password link, shown once to the administrator who made it.
struct LinkShown {
    var linkURL: String, linkExpires: String, isWelcome: Bool
    init(_ link: PasswordLink, url: String) {
        linkURL = url
        linkExpires = PageTime.isoFormatter().string(from: link.expiresAt)
        isWelcome = link.purpose == .welcome
    }
}

/// One person in the people list.
struct PersonLine {
    var handle: String, name: String, emailText: String, isAdmin: Bool, hasPassword: Bool, isDisabled: Bool
    init(_ person: Person) {
        handle = person.handle
        name = person.name
        emailText = person.email ?? "-"
        isAdmin = person.isAdmin
        hasPassword = person.canSign
        isDisabled = person.disabled
    }
}

/// `/people`: the filtered list, a page of it, and the form that adds a person.
struct PeoplePage {
    var page: PageModel
    var csrf: String
    var people: [PersonLine], hasPeople: Bool, total: Int, pageNumber: Int, lastPage: Int
    /// The filter, kept in the form and in every link.
    var search: String, statusAny: Bool, statusActive: Bool, statusDisabled: Bool
    var previousURL: String?, nextURL: String?, csvURL: String, jsonURL: String
    /// The add form's input, kept after a refusal, and the field at fault.
    var newHandle = "", newName = "", newEmail = "", newAdmin = false
    var handleInvalid = false, nameInvalid = false, emailInvalid = false

    init(page: PageModel, people: Paged<Person>, filter: PersonFilter) {
        self.page = page
        csrf = page.person?.csrf ?? ""
        self.people = people.items.map(PersonLine.init)
        hasPeople = !people.items.isEmpty
        total = people.total
        pageNumber = people.page
        lastPage = people.lastPage
        search = filter.search ?? ""
        statusAny = filter.status == nil
        statusActive = filter.status == .active
        statusDisabled = filter.status == .disabled
        var query = URLComponents()
        query.queryItems = [
            filter.search.map { URLQueryItem(name: "q", value: $0) }, filter.status.map { URLQueryItem(name: "status", value: $0.rawValue) },
        ].compactMap { $0 }
        func url(_ extra: [URLQueryItem]) -> String {
            var components = query
            components.queryItems = (components.queryItems ?? []) + extra
            return "/people?" + (components.percentEncodedQuery ?? "")
        }
        let size = URLQueryItem(name: "per_page", value: String(people.perPage))
        previousURL = people.page > 1 ? url([URLQueryItem(name: "page", value: String(people.page - 1)), size]) : nil
        nextURL = people.hasNext ? url([URLQueryItem(name: "page", value: String(people.page + 1)), size]) : nil
        csvURL = url([URLQueryItem(name: "format", value: "csv")])
        jsonURL = url([URLQueryItem(name: "format", value: "json")])
    }

    /// Keeps the add form's input and marks the field a refusal concerns.
    mutating func mark(field: String?, input: [String: String]) {
        newHandle = input["handle"] ?? ""
        newName = input["name"] ?? ""
        newEmail = input["email"] ?? ""
        newAdmin = input["admin"] == "yes"
        handleInvalid = field == "handle"
        nameInvalid = field == "name"
        emailInvalid = field == "email"
    }
}

/// `/people/HANDLE`: one person, what an administrator can do, and a link just made.
struct PersonPage {
    var page: PageModel
    var csrf: String
    var handle: String, name: String, emailText: String, isAdmin: Bool, hasPassword: Bool, isDisabled: Bool, isSelf: Bool
    var link: LinkShown?

    init(page: PageModel, person: Person, link: LinkShown? = nil) {
        self.page = page
        csrf = page.person?.csrf ?? ""
        handle = person.handle
        name = person.name
        emailText = person.email ?? "-"
        isAdmin = person.isAdmin
        hasPassword = person.canSign
        isDisabled = person.disabled
        isSelf = page.person?.handle == person.handle
        self.link = link
    }
}

/// `/set-password/TOKEN`: the form while the link works, a clear page when it does not.
struct SetPasswordPage {
    var page: PageModel
    var token: String
    var live: Bool, who: String, handle: String, heading: String
    var goneText: String
    var passwordInvalid = false, confirmationInvalid = false

    init(page: PageModel, token: String, state: PasswordLinkState) {
        self.page = page
        self.token = token
        switch state {
        case .live(let handle, let name, let purpose):
            live = true
            who = name
            self.handle = handle
            heading = purpose == .welcome ? "Choose your password" : "Choose a new password"
            goneText = ""
        case .used:
            (live, who, handle, heading) = (false, "", "", "This link no longer works")
            goneText = "This link was already used, or a newer one replaced it. Ask an administrator for a new link."
        case .expired:
            (live, who, handle, heading) = (false, "", "", "This link has expired")
            goneText = "A password link works for 72 hours. Ask an administrator for a new link."
        case .unknown:
            (live, who, handle, heading) = (false, "", "", "No such link")
            goneText = "This is not a password link Accord made. Check the address, or ask an administrator for a new link."
        }
    }
}
