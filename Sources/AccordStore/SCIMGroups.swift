import AccordCore
public import Foundation
import Postgres

extension Store {
    /// A page of Groups, filtered by displayName or externalId; `startIndex` counts from 1.
    public func scimGroups(displayName: String?, externalID: String?, startIndex: Int, count: Int) async throws -> SCIMPage<SCIMGroup> {
        try await pool.withConnection { connection in
            let rows = try await connection.query(SCIMSQL.groups, displayName, externalID, max(startIndex, 1) - 1, max(count, 0))
            let total = if let first = rows.first { first.total } else { try await connection.queryOne(SCIMSQL.groupCount, displayName, externalID) }
            return SCIMPage(total: total, items: rows.map(\.group))
        }
    }

    /// One Group, or `nil`.
    public func scimGroup(_ id: UUID) async throws -> SCIMGroup? {
        try await pool.withConnection { try await $0.queryFirst(SCIMSQL.group, id) }
    }

    /// Creates a Group with its members; the group rules bind the roles its name grants.
    public func scimCreateGroup(displayName: String, externalID: String?, members: [UUID], actor: String) async throws -> SCIMGroup {
        let name = try Self.checkGroupName(displayName)
        return try await pool.withTransaction { connection in
            let acting = try await Self.requireAdministrator(actor, to: "provisions groups", on: connection)
            guard !(try await connection.queryOne(SCIMSQL.groupNameTaken, name, nil)) else {
                throw AccordError(.conflict, "a group named \(name) exists", field: "displayName")
            }
            let id = try await connection.queryOne(SCIMSQL.insertGroup, name, externalID)
            try await Self.setMembers(of: id, to: members, groupName: name, acting: acting, on: connection)
            return try await connection.queryOne(SCIMSQL.group, id)
        }
    }

    /// What a Group write sets.
    public struct SCIMGroupInput: Sendable {
        /// The name.
        public var displayName: String
        /// The provider's own id.
        public var externalID: String?
        /// The members' User ids.
        public var members: [UUID]

        /// Creates one.
        public init(displayName: String, externalID: String?, members: [UUID]) {
            self.displayName = displayName
            self.externalID = externalID
            self.members = members
        }
    }

    /// Changes a Group in one transaction, under its row lock: `change` gets the Group as it is now (so
    /// concurrent PATCHes from a provider do not drop each other's members) and returns what to write.
    /// The rules are applied again to everyone who joined or left.
    public func scimChangeGroup(_ id: UUID, actor: String, _ change: @Sendable (SCIMGroup) throws -> SCIMGroupInput) async throws -> SCIMGroup {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireAdministrator(actor, to: "provisions groups", on: connection)
            guard let old = try await connection.queryFirst(SCIMSQL.lockGroup, id) else { throw AccordError(.notFound, "no Group \(id)") }
            let input = try change(try await connection.queryOne(SCIMSQL.group, id))
            let name = try Self.checkGroupName(input.displayName)
            guard !(try await connection.queryOne(SCIMSQL.groupNameTaken, name, id)) else {
                throw AccordError(.conflict, "a group named \(name) exists", field: "displayName")
            }
            _ = try await connection.execute(SCIMSQL.updateGroup, id, name, input.externalID)
            try await Self.setMembers(of: id, to: input.members, groupName: name, renamedFrom: old, acting: acting, on: connection)
            return try await connection.queryOne(SCIMSQL.group, id)
        }
    }

    /// Deletes a Group; its members lose the roles only it granted them.
    public func scimDeleteGroup(_ id: UUID, actor: String, check: @Sendable (SCIMGroup) throws -> Void = { _ in }) async throws {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireAdministrator(actor, to: "provisions groups", on: connection)
            guard let name = try await connection.queryFirst(SCIMSQL.lockGroup, id) else { throw AccordError(.notFound, "no Group \(id)") }
            try check(try await connection.queryOne(SCIMSQL.group, id))
            let members = try await connection.query(SCIMSQL.members, id)
            _ = try await connection.execute(SCIMSQL.deleteGroup, id)
            try await connection.appendAudit(
                AuditRecord(chain: organisationChain, actor: acting.handle, action: "scim.group-delete", objectType: "scim_group", objectID: name)
            )
            for person in members { try await Self.applySCIMRules(person, acting: acting, on: connection) }
        }
    }

    private static func checkGroupName(_ displayName: String) throws -> String {
        let name = displayName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(name.count), !name.contains(where: \.isNewline) else {
            throw AccordError(.invalid, "a group's displayName has 1 to 200 characters", field: "displayName")
        }
        return name
    }

    /// Sets a group's members, audits the change, and applies the group rules to each person who joined or
    /// left (or to all, when the group was renamed).
    private static func setMembers(
        of id: UUID,
        to wanted: [UUID],
        groupName: String,
        renamedFrom old: String? = nil,
        acting: Person,
        on connection: PostgresConnection
    ) async throws {
        let found = try await connection.query(SCIMSQL.personIDs, PostgresArray(wanted.map { $0.uuidString.lowercased() }))
        let missing = Set(wanted).subtracting(found.map(\.scimID))
        guard missing.isEmpty else {
            throw AccordError(.invalid, "no User \(missing.first!.uuidString.lowercased()) to make a member", field: "members")
        }
        let before = Set(try await connection.query(SCIMSQL.members, id))
        let after = Set(found.map(\.id))
        for person in after.subtracting(before) { _ = try await connection.execute(SCIMSQL.addMember, id, person) }
        for person in before.subtracting(after) { _ = try await connection.execute(SCIMSQL.removeMember, id, person) }
        let changed = old.map { $0 != groupName } == true ? before.union(after) : before.symmetricDifference(after)
        try await connection.appendAudit(
            AuditRecord(
                chain: organisationChain,
                actor: acting.handle,
                action: "scim.group-set",
                objectType: "scim_group",
                objectID: groupName,
                after: auditJSON(SCIMGroupAudit(members: after.count, joined: after.subtracting(before).count, left: before.subtracting(after).count))
            )
        )
        for person in changed.sorted() { try await applySCIMRules(person, acting: acting, on: connection) }
    }

    /// The group rules for a person, from their SCIM groups.
    static func applySCIMRules(_ personID: Int64, acting: Person, on connection: PostgresConnection) async throws {
        guard let person = try await connection.queryFirst(SCIMSQL.personByID, personID) else { return }
        let groups = try await connection.query(SCIMSQL.groupNames, personID)
        try await applyGroupRules(to: person, groups: groups, source: "scim", from: "SCIM", on: connection)
    }
}

private struct SCIMGroupAudit: Encodable {
    var members: Int
    var joined: Int
    var left: Int
}
