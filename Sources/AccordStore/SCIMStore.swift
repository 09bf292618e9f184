import AccordCore
public import Foundation
import Postgres

/// What a SCIM User write sets on the person; the document is kept as written.
public struct SCIMUserInput: Sendable {
    /// The userName (unique without case).
    public var userName: String
    /// The printed name: displayName, else name.formatted, else the given and family names, else the userName.
    public var name: String
    /// The primary (or first) e-mail address.
    public var email: String?
    /// Whether the account is enabled.
    public var active: Bool
    /// The whole User as written (JSON text), without id or meta.
    public var document: String

    /// Creates one.
    public init(userName: String, name: String, email: String?, active: Bool, document: String) {
        self.userName = userName
        self.name = name
        self.email = email
        self.active = active
        self.document = document
    }
}

/// One page of a SCIM list.
public struct SCIMPage<Item: Sendable>: Sendable {
    /// How many match in all.
    public var total: Int
    /// This page's items.
    public var items: [Item]
}

extension Store {
    /// The administrator a provisioning token acts as, and the token's name; `nil` for any other token.
    public func scimProvisioner(token: String) async throws -> (handle: String, tokenName: String)? {
        try await pool.withConnection { try await $0.queryFirst(SCIMSQL.provisioner, sha256Bytes(token)) }.map { ($0.handle, $0.name) }
    }

    /// A page of Users, filtered by userName or externalId; `startIndex` counts from 1 (RFC 7644 §3.4.2.4).
    public func scimUsers(userName: String?, externalID: String?, startIndex: Int, count: Int) async throws -> SCIMPage<SCIMUser> {
        try await pool.withConnection { connection in
            let rows = try await connection.query(SCIMSQL.users, userName, externalID, max(startIndex, 1) - 1, max(count, 0))
            let total = if let first = rows.first { first.total } else { try await connection.queryOne(SCIMSQL.userCount, userName, externalID) }
            return SCIMPage(total: total, items: rows.map(\.user))
        }
    }

    /// One User, or `nil` (unknown or deleted).
    public func scimUser(_ id: UUID) async throws -> SCIMUser? {
        try await pool.withConnection { try await $0.queryFirst(SCIMSQL.user, id) }
    }

    /// Creates a person from a SCIM User. The handle is derived from the userName (its part before any
    /// `@`, in the handle's alphabet, numbered if taken). A provisioned person has no password: they log in
    /// through SSO. Never an administrator.
    public func scimCreateUser(_ input: SCIMUserInput, actor: String) async throws -> SCIMUser {
        try Self.checkSCIM(input)
        return try await pool.withTransaction { connection in
            let acting = try await Self.requireAdministrator(actor, to: "provisions people", on: connection)
            guard !(try await connection.queryOne(SCIMSQL.userNameTaken, input.userName, 0)) else {
                throw AccordError(.conflict, "the userName \(input.userName) is taken", field: "userName")
            }
            let handle = try await Self.freeHandle(for: input.userName, on: connection)
            let id = try await connection.queryOne(
                SCIMSQL.insertUser,
                handle,
                input.name,
                input.email,
                input.userName,
                PostgresJSON(text: input.document)
            )
            try await connection.appendAudit(
                AuditRecord(
                    chain: organisationChain,
                    actor: acting.handle,
                    action: "person.add",
                    objectType: "person",
                    objectID: handle,
                    after: auditJSON(["userName": input.userName, "by": "SCIM"])
                )
            )
            if !input.active {
                _ = try await connection.execute(PeopleAdminSQL.disable, try await Self.person(handle, on: connection).id)
            }
            return try await connection.queryOne(SCIMSQL.user, id)
        }
    }

    /// Replaces a User: name, address, userName and document; `active: false` disables the person as a
    /// leaver (sessions and tokens end, delegations end, managers told), `true` enables them again.
    public func scimReplaceUser(_ id: UUID, with input: SCIMUserInput, actor: String) async throws -> SCIMUser {
        try Self.checkSCIM(input)
        let (handle, wasActive) = try await pool.withTransaction { connection -> (String, Bool) in
            _ = try await Self.requireAdministrator(actor, to: "provisions people", on: connection)
            guard let locked = try await connection.queryFirst(SCIMSQL.lockUser, id) else { throw AccordError(.notFound, "no User \(id)") }
            guard !(try await connection.queryOne(SCIMSQL.userNameTaken, input.userName, locked.id)) else {
                throw AccordError(.conflict, "the userName \(input.userName) is taken", field: "userName")
            }
            _ = try await connection.execute(
                SCIMSQL.updateUser,
                locked.id,
                input.name,
                input.email,
                input.userName,
                PostgresJSON(text: input.document)
            )
            try await connection.appendAudit(
                AuditRecord(
                    chain: organisationChain,
                    actor: actor,
                    action: "person.update",
                    objectType: "person",
                    objectID: locked.handle,
                    after: auditJSON(["userName": input.userName, "name": input.name, "by": "SCIM"])
                )
            )
            return (locked.handle, locked.active)
        }
        if wasActive && !input.active { _ = try await disablePerson(handle, actor: actor) }
        if !wasActive && input.active { _ = try await enablePerson(handle, actor: actor) }
        guard let user = try await scimUser(id) else { throw AccordError(.notFound, "no User \(id)") }
        return user
    }

    /// Deletes a User as SCIM sees it: the person is disabled as a leaver and answers 404 from then on;
    /// their signatures and audit entries stay.
    public func scimDeleteUser(_ id: UUID, actor: String) async throws {
        let (handle, active) = try await pool.withConnection { connection in
            guard let locked = try await connection.queryFirst(SCIMSQL.lockUser, id) else { throw AccordError(.notFound, "no User \(id)") }
            return (locked.handle, locked.active)
        }
        if active { _ = try await disablePerson(handle, actor: actor) }
        try await pool.withTransaction { connection in
            guard let locked = try await connection.queryFirst(SCIMSQL.lockUser, id) else { throw AccordError(.notFound, "no User \(id)") }
            _ = try await connection.execute(SCIMSQL.markDeleted, locked.id)
            _ = try await connection.execute(SCIMSQL.leaveGroups, locked.id)
            try await connection.appendAudit(
                AuditRecord(chain: organisationChain, actor: actor, action: "person.scim-delete", objectType: "person", objectID: handle)
            )
        }
    }

    private static func checkSCIM(_ input: SCIMUserInput) throws {
        guard (1...255).contains(input.userName.count), !input.userName.contains(where: \.isNewline) else {
            throw AccordError(.invalid, "a userName has 1 to 255 characters", field: "userName")
        }
        guard !input.name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw AccordError(.invalid, "a name is needed", field: "name")
        }
        if let email = input.email, email.range(of: #"^[^@\s]+@[^@\s]+$"#, options: .regularExpression) == nil {
            throw AccordError(.invalid, "\(email) is not an e-mail address", field: "emails")
        }
    }

    /// A free handle for a userName: `bjensen@example.com` → `bjensen`, then `bjensen-2`…
    static func freeHandle(for userName: String, on connection: PostgresConnection) async throws -> String {
        let local = userName.split(separator: "@").first.map(String.init) ?? userName
        var base = String(local.lowercased().map { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "._-".contains($0) ? $0 : "-" })
        while let first = base.first, !(("a"..."z").contains(first) || ("0"..."9").contains(first)) { base.removeFirst() }
        if base.isEmpty { base = "user" }
        base = String(base.prefix(56))
        var candidate = base
        var number = 2
        while try await connection.queryOne(SCIMSQL.handleTaken, candidate) {
            candidate = "\(base)-\(number)"
            number += 1
        }
        return candidate
    }
}
