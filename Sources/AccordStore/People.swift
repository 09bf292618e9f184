import AccordCore
import Foundation
import HummingbirdBcrypt
import NIOPosix
import Postgres

/// A person as other code sees them (never with the password hash).
public struct Person: Codable, Sendable, Equatable {
    /// The person's database id, stable for life; signatures and approvals refer to people by it.
    public var id: Int64
    /// The unique login name (lower-case letters, digits, `.`, `_`, `-`), e.g. `ada`; `--as` and the audit log use it.
    public var handle: String
    /// The full name, as printed with signatures.
    public var name: String
    /// The e-mail address, if given.
    public var email: String?
    /// Whether the person is an administrator: adds people, starts programs, and sees and manages every program.
    public var isAdmin: Bool
    /// Whether the person has a password, which signing asks for again; without one they cannot sign.
    public var canSign: Bool
    /// Whether the account is disabled: no login, no signing, no new assignments.
    public var disabled: Bool
    /// The IANA time zone the person's pages and messages show times in (stored times stay UTC).
    public var timeZone = "UTC"
}

enum PeopleSQL {
    static let personColumns = """
        id, handle, name, email, is_admin, password_hash IS NOT NULL AS can_sign, disabled_at IS NOT NULL AS disabled, time_zone
        """
    static let count = PostgresQuery<Int>("person_count", "SELECT count(*) AS n FROM accord.person") {
        try $0.decode(Int.self, "n")
    }
    static let insert = PostgresQuery<String, String, String?, Bool, String?, Person>(
        "person_insert",
        """
        INSERT INTO accord.person (handle, name, email, is_admin, password_hash) VALUES ($1, $2, $3, $4, $5)
        RETURNING \(personColumns)
        """,
        row: Person.init(row:)
    )
    static let byHandle = PostgresQuery<String, Person>(
        "person_by_handle",
        "SELECT \(personColumns) FROM accord.person WHERE handle = $1",
        row: Person.init(row:)
    )
    static let list = PostgresQuery<Person>(
        "person_list",
        "SELECT \(personColumns) FROM accord.person ORDER BY handle",
        row: Person.init(row:)
    )

    static let catalogue: [any PostgresCheckable] = [count, insert, byHandle, list]
}

extension Person {
    init(row: PostgresRow) throws {
        id = try row.decode(Int64.self, "id")
        handle = try row.decode(String.self, "handle")
        name = try row.decode(String.self, "name")
        email = try row.decode(String?.self, "email")
        isAdmin = try row.decode(Bool.self, "is_admin")
        canSign = try row.decode(Bool.self, "can_sign")
        disabled = try row.decode(Bool.self, "disabled")
        timeZone = try row.decode(String.self, "time_zone")
    }
}

/// The bcrypt cost for stored passwords: 2^12 rounds, about a quarter of a second per hash here.
public let defaultPasswordCost: UInt8 = 12

extension Store {
    /// Adds a person. The first person may be added by anyone and is always an administrator
    /// (someone must be able to add the rest); after that only an administrator adds people.
    /// - Parameter password: hashed with bcrypt before it leaves this function; `nil` leaves the
    ///   person unable to log in or sign until a password is set.
    public func addPerson(handle: String, name: String, email: String?, admin: Bool, password: String?, actor: String?) async throws -> Person {
        do {
            try Self.checkPersonFields(handle: handle, name: name, email: email)
        } catch let error as AccordError {
            // Without the field: the CLI, this function's caller, takes the handle as an argument, not a flag.
            throw AccordError(error.code, error.message)
        }
        if let password, password.count < 12 {
            throw AccordError(.invalid, "the password must have at least 12 characters")
        }
        // bcrypt is deliberately slow: hash outside the transaction and off the cooperative pool.
        let hash: String? =
            if let password { try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: self.passwordCost) } } else { nil }
        return try await pool.withTransaction { connection in
            let count = try await connection.queryOne(PeopleSQL.count)
            var makeAdmin = admin
            var actorHandle = actor ?? handle
            if count == 0 {
                makeAdmin = true
                actorHandle = handle
            } else {
                let acting = try await Self.requireActor(actor, on: connection)
                guard acting.isAdmin else { throw AccordError(.forbidden, "only an administrator adds people; '\(acting.handle)' is not one") }
                actorHandle = acting.handle
            }
            do {
                let person = try await connection.queryOne(PeopleSQL.insert, handle, name, email, makeAdmin, hash)
                try await connection.appendAudit(
                    AuditRecord(
                        chain: organisationChain,
                        actor: actorHandle,
                        action: "person.add",
                        objectType: "person",
                        objectID: handle,
                        after: auditJSON([
                            "handle": handle, "name": name, "email": email ?? "", "admin": makeAdmin ? "yes" : "no",
                            "password": hash == nil ? "none" : "set",
                        ])
                    )
                )
                return person
            } catch let error as PostgresError where error.isUniqueViolation {
                throw AccordError(.conflict, "a person with handle '\(handle)' already exists")
            }
        }
    }

    /// Refuses a handle, name or e-mail address a person cannot have, naming the field.
    static func checkPersonFields(handle: String, name: String, email: String?) throws {
        guard handle.range(of: #"^[a-z0-9][a-z0-9._-]{0,62}$"#, options: .regularExpression) != nil else {
            throw AccordError(
                .invalid,
                "handle '\(handle)' must be lowercase letters, digits, '.', '_' or '-' (at most 63), starting with a letter or digit",
                field: "handle"
            )
        }
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw AccordError(.invalid, "the name must not be empty", field: "name")
        }
        if let email, email.range(of: #"^[^@\s]+@[^@\s]+$"#, options: .regularExpression) == nil {
            throw AccordError(.invalid, "'\(email)' is not an e-mail address", field: "email")
        }
    }

    /// Everyone, by handle.
    public func people() async throws -> [Person] {
        try await pool.withConnection { connection in
            try await connection.query(PeopleSQL.list)
        }
    }

    /// The person with this handle.
    public func person(_ handle: String) async throws -> Person {
        try await pool.withConnection { try await Self.person(handle, on: $0) }
    }

    static func person(_ handle: String, on connection: PostgresConnection) async throws -> Person {
        guard let person = try await connection.queryFirst(PeopleSQL.byHandle, handle) else {
            throw AccordError(.notFound, "no person with handle '\(handle)'", remedy: .listPeople)
        }
        return person
    }

    /// The acting person: must be given, exist and be enabled.
    static func requireActor(_ handle: String?, on connection: PostgresConnection) async throws -> Person {
        guard let handle, !handle.isEmpty else {
            throw AccordError(.unauthenticated, "say who is acting", remedy: .identifyActor)
        }
        let person: Person
        do {
            person = try await Self.person(handle, on: connection)
        } catch let error as AccordError where error.code == .notFound {
            throw AccordError(.unauthenticated, "the acting user '\(handle)' does not exist")
        }
        guard !person.disabled else { throw AccordError(.forbidden, "'\(handle)' is disabled") }
        return person
    }
}
