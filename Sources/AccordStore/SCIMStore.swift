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
            if !input.active { try await Self.disable(try await Self.person(handle, on: connection), by: acting, on: connection) }
            return try await connection.queryOne(SCIMSQL.user, id)
        }
    }

    /// Changes a User in one transaction, under its row lock: `change` gets the User as it is now (so a
    /// PATCH applies to what is current, and an `If-Match` is checked against it) and returns what to
    /// write. `active: false` disables the person as a leaver (sessions and tokens end, delegations end,
    /// managers told), `true` enables them again. Administrators are managed in Accord, not by SCIM.
    public func scimChangeUser(
        _ id: UUID,
        actor: String,
        _ change: @Sendable (SCIMUser) throws -> SCIMUserInput
    ) async throws -> SCIMUser {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireAdministrator(actor, to: "provisions people", on: connection)
            let locked = try await Self.lockProvisionable(id, on: connection)
            let input = try change(try await connection.queryOne(SCIMSQL.user, id))
            try Self.checkSCIM(input)
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
                    actor: acting.handle,
                    action: "person.update",
                    objectType: "person",
                    objectID: locked.handle,
                    after: auditJSON(["userName": input.userName, "name": input.name, "by": "SCIM"])
                )
            )
            let person = try await Self.person(locked.handle, on: connection)
            if locked.active && !input.active { try await Self.disable(person, by: acting, on: connection) }
            if !locked.active && input.active { try await Self.enable(person, by: acting, on: connection) }
            return try await connection.queryOne(SCIMSQL.user, id)
        }
    }

    /// Deletes a User as SCIM sees it, in one transaction: the person is disabled as a leaver, leaves their
    /// groups (the rules re-applied), and answers 404 from then on; their signatures and audit entries stay.
    public func scimDeleteUser(_ id: UUID, actor: String, check: @Sendable (SCIMUser) throws -> Void = { _ in }) async throws {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireAdministrator(actor, to: "provisions people", on: connection)
            let locked = try await Self.lockProvisionable(id, on: connection)
            try check(try await connection.queryOne(SCIMSQL.user, id))
            if locked.active { try await Self.disable(try await Self.person(locked.handle, on: connection), by: acting, on: connection) }
            _ = try await connection.execute(SCIMSQL.markDeleted, locked.id)
            let left = try await connection.execute(SCIMSQL.leaveGroups, locked.id)
            try await Self.applySCIMRules(locked.id, acting: acting, on: connection)
            try await connection.appendAudit(
                AuditRecord(
                    chain: organisationChain,
                    actor: acting.handle,
                    action: "person.scim-delete",
                    objectType: "person",
                    objectID: locked.handle,
                    after: auditJSON(["groups_left": String(left)])
                )
            )
        }
    }

    /// Locks a User for a SCIM write, refusing administrators: their accounts are Accord's to manage, so a
    /// provisioning client cannot disable a break-glass administrator or take over one's address.
    private static func lockProvisionable(_ id: UUID, on connection: PostgresConnection) async throws -> (id: Int64, handle: String, active: Bool) {
        guard let locked = try await connection.queryFirst(SCIMSQL.lockUser, id) else { throw AccordError(.notFound, "no User \(id)") }
        guard !locked.admin else {
            throw AccordError(.forbidden, "\(locked.handle) is an administrator, managed in Accord and not by provisioning")
        }
        return (locked.id, locked.handle, locked.active)
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
