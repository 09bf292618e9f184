public import Foundation
import Postgres

enum SCIMSQL {
    static let userColumns = """
        p.scim_id, p.handle, coalesce(p.scim_user_name, p.handle) AS user_name, p.name, p.email, p.disabled_at IS NULL AS active,
        p.scim_document::text AS document, p.created_at, p.scim_modified_at,
        coalesce((SELECT string_agg(g.id::text || ' ' || g.display_name, E'\\n' ORDER BY g.display_name)
                  FROM accord.scim_group_member m JOIN accord.scim_group g ON g.id = m.group_id WHERE m.person_id = p.id), '') AS groups
        """
    /// A page of Users: all, or those whose userName ($1) or externalId ($2) is the one given; $3 offset, $4 limit.
    static let users = PostgresQuery<String?, String?, Int, Int, (total: Int, user: SCIMUser)>(
        "scim_users",
        """
        SELECT count(*) OVER ()::int AS total, \(userColumns)
        FROM accord.person p
        WHERE p.scim_deleted_at IS NULL
          AND ($1::text IS NULL OR lower(coalesce(p.scim_user_name, p.handle)) = lower($1))
          AND ($2::text IS NULL OR p.scim_document->>'externalId' = $2)
        ORDER BY p.id OFFSET $3 LIMIT $4
        """
    ) { (try $0.decode(Int.self, "total"), try SCIMUser(row: $0)) }
    /// The number of Users the same filter matches, for a page past the end.
    static let userCount = PostgresQuery<String?, String?, Int>(
        "scim_user_count",
        """
        SELECT count(*)::int AS n FROM accord.person p WHERE p.scim_deleted_at IS NULL
          AND ($1::text IS NULL OR lower(coalesce(p.scim_user_name, p.handle)) = lower($1))
          AND ($2::text IS NULL OR p.scim_document->>'externalId' = $2)
        """
    ) { try $0.decode(Int.self, "n") }
    static let user = PostgresQuery<UUID, SCIMUser>(
        "scim_user",
        "SELECT \(userColumns) FROM accord.person p WHERE p.scim_id = $1 AND p.scim_deleted_at IS NULL",
        row: SCIMUser.init(row:)
    )
    /// Locks a User ($1) for a change, with what the change needs.
    static let lockUser = PostgresQuery<UUID, (id: Int64, handle: String, active: Bool, admin: Bool)>(
        "scim_user_lock",
        """
        SELECT id, handle, disabled_at IS NULL AS active, is_admin FROM accord.person WHERE scim_id = $1 AND scim_deleted_at IS NULL FOR UPDATE
        """
    ) {
        (
            try $0.decode(Int64.self, "id"), try $0.decode(String.self, "handle"), try $0.decode(Bool.self, "active"),
            try $0.decode(Bool.self, "is_admin")
        )
    }
    static let userNameTaken = PostgresQuery<String, Int64, Bool>(
        "scim_user_name_taken",
        """
        SELECT EXISTS (SELECT 1 FROM accord.person WHERE scim_deleted_at IS NULL AND id <> $2
                       AND lower(coalesce(scim_user_name, handle)) = lower($1)) AS taken
        """
    ) { try $0.decode(Bool.self, "taken") }
    static let handleTaken = PostgresQuery<String, Bool>(
        "scim_handle_taken",
        "SELECT EXISTS (SELECT 1 FROM accord.person WHERE handle = $1) AS taken"
    ) { try $0.decode(Bool.self, "taken") }
    static let insertUser = PostgresQuery<String, String, String?, String, PostgresJSON, UUID>(
        "scim_user_insert",
        """
        INSERT INTO accord.person (handle, name, email, scim_user_name, scim_document) VALUES ($1, $2, $3, $4, $5::jsonb)
        RETURNING scim_id
        """
    ) { try $0.decode(UUID.self, "scim_id") }
    static let updateUser = PostgresCommand<Int64, String, String?, String, PostgresJSON>(
        "scim_user_update",
        """
        UPDATE accord.person SET name = $2, email = $3, scim_user_name = $4, scim_document = $5::jsonb, scim_modified_at = now()
        WHERE id = $1
        """
    )
    static let markDeleted = PostgresCommand<Int64>(
        "scim_user_delete",
        "UPDATE accord.person SET scim_deleted_at = now(), scim_modified_at = now() WHERE id = $1"
    )
    static let personIDs = PostgresQuery<PostgresArray<String>, (scimID: UUID, id: Int64)>(
        "scim_person_ids",
        "SELECT scim_id, id FROM accord.person WHERE scim_id::text = ANY($1::text[]) AND scim_deleted_at IS NULL"
    ) { (try $0.decode(UUID.self, "scim_id"), try $0.decode(Int64.self, "id")) }

    static let groupColumns = """
        g.id, g.display_name, g.external_id, g.created_at, g.modified_at,
        coalesce((SELECT string_agg(p.scim_id::text || ' ' || p.name, E'\\n' ORDER BY p.id)
                  FROM accord.scim_group_member m JOIN accord.person p ON p.id = m.person_id
                  WHERE m.group_id = g.id AND p.scim_deleted_at IS NULL), '') AS members
        """
    static let groups = PostgresQuery<String?, String?, Int, Int, (total: Int, group: SCIMGroup)>(
        "scim_groups",
        """
        SELECT count(*) OVER ()::int AS total, \(groupColumns) FROM accord.scim_group g
        WHERE ($1::text IS NULL OR lower(g.display_name) = lower($1)) AND ($2::text IS NULL OR g.external_id = $2)
        ORDER BY g.created_at, g.id OFFSET $3 LIMIT $4
        """
    ) { (try $0.decode(Int.self, "total"), try SCIMGroup(row: $0)) }
    static let groupCount = PostgresQuery<String?, String?, Int>(
        "scim_group_count",
        """
        SELECT count(*)::int AS n FROM accord.scim_group g
        WHERE ($1::text IS NULL OR lower(g.display_name) = lower($1)) AND ($2::text IS NULL OR g.external_id = $2)
        """
    ) { try $0.decode(Int.self, "n") }
    static let group = PostgresQuery<UUID, SCIMGroup>(
        "scim_group",
        "SELECT \(groupColumns) FROM accord.scim_group g WHERE g.id = $1",
        row: SCIMGroup.init(row:)
    )
    static let lockGroup = PostgresQuery<UUID, String>(
        "scim_group_lock",
        "SELECT display_name FROM accord.scim_group WHERE id = $1 FOR UPDATE"
    ) { try $0.decode(String.self, "display_name") }
    static let insertGroup = PostgresQuery<String, String?, UUID>(
        "scim_group_insert",
        "INSERT INTO accord.scim_group (display_name, external_id) VALUES ($1, $2) RETURNING id"
    ) { try $0.decode(UUID.self, "id") }
    static let updateGroup = PostgresCommand<UUID, String, String?>(
        "scim_group_update",
        "UPDATE accord.scim_group SET display_name = $2, external_id = $3, modified_at = now() WHERE id = $1"
    )
    static let leaveGroups = PostgresCommand<Int64>("scim_leave_groups", "DELETE FROM accord.scim_group_member WHERE person_id = $1")
    static let deleteGroup = PostgresCommand<UUID>("scim_group_delete", "DELETE FROM accord.scim_group WHERE id = $1")
    static let members = PostgresQuery<UUID, Int64>(
        "scim_group_members",
        "SELECT person_id FROM accord.scim_group_member WHERE group_id = $1"
    ) { try $0.decode(Int64.self, "person_id") }
    static let addMember = PostgresCommand<UUID, Int64>(
        "scim_group_member_add",
        "INSERT INTO accord.scim_group_member (group_id, person_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
    )
    static let removeMember = PostgresCommand<UUID, Int64>(
        "scim_group_member_remove",
        "DELETE FROM accord.scim_group_member WHERE group_id = $1 AND person_id = $2"
    )
    static let groupNameTaken = PostgresQuery<String, UUID?, Bool>(
        "scim_group_name_taken",
        "SELECT EXISTS (SELECT 1 FROM accord.scim_group WHERE lower(display_name) = lower($1) AND id IS DISTINCT FROM $2) AS taken"
    ) { try $0.decode(Bool.self, "taken") }
    /// The names of a person's ($1) groups, for the group rules.
    static let groupNames = PostgresQuery<Int64, String>(
        "scim_person_group_names",
        "SELECT g.display_name FROM accord.scim_group_member m JOIN accord.scim_group g ON g.id = m.group_id WHERE m.person_id = $1"
    ) { try $0.decode(String.self, "display_name") }
    static let personByID = PostgresQuery<Int64, Person>(
        "scim_person_by_id",
        "SELECT \(PeopleSQL.personColumns) FROM accord.person WHERE id = $1",
        row: Person.init(row:)
    )
    /// The SCIM token's ($1) administrator, for the audit trail.
    static let provisioner = PostgresQuery<[UInt8], (handle: String, name: String)>(
        "scim_provisioner",
        """
        SELECT p.handle, t.name FROM accord.api_token t JOIN accord.person p ON p.id = t.person_id
        WHERE t.token_sha256 = $1 AND t.kind = 'scim' AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
          AND p.disabled_at IS NULL AND p.is_admin
        """
    ) { (try $0.decode(String.self, "handle"), try $0.decode(String.self, "name")) }

    static let catalogue: [any PostgresCheckable] = [
        users, userCount, user, lockUser, userNameTaken, handleTaken, insertUser, updateUser, markDeleted, personIDs, groups, groupCount,
        group, lockGroup, insertGroup, updateGroup, leaveGroups, deleteGroup, members, addMember, removeMember, groupNameTaken, groupNames,
        personByID,
        provisioner,
    ]
}

/// A member or group reference: its id and its display text.
public struct SCIMReference: Sendable, Equatable {
    /// The User's or Group's id.
    public var id: UUID
    /// Its name, as shown.
    public var display: String
}

func references(_ text: String) -> [SCIMReference] {
    text.split(separator: "\n").compactMap { line in
        let parts = line.split(separator: " ", maxSplits: 1)
        guard let id = parts.first.flatMap({ UUID(uuidString: String($0)) }) else { return nil }
        return SCIMReference(id: id, display: parts.count > 1 ? String(parts[1]) : "")
    }
}

/// A person as a SCIM User.
public struct SCIMUser: Sendable {
    /// The SCIM id.
    public var id: UUID
    /// The Accord handle.
    public var handle: String
    /// The userName.
    public var userName: String
    /// The printed name.
    public var name: String
    /// The e-mail address.
    public var email: String?
    /// Whether the account is enabled.
    public var active: Bool
    /// The User as SCIM last wrote it (JSON), for a provisioned person.
    public var document: String?
    /// When the person was added.
    public var created: Date
    /// When SCIM last changed them.
    public var modified: Date
    /// The groups they are in.
    public var groups: [SCIMReference]

    init(row: PostgresRow) throws {
        id = try row.decode(UUID.self, "scim_id")
        handle = try row.decode(String.self, "handle")
        userName = try row.decode(String.self, "user_name")
        name = try row.decode(String.self, "name")
        email = try row.decode(String?.self, "email")
        active = try row.decode(Bool.self, "active")
        document = try row.decode(String?.self, "document")
        created = try row.decode(Date.self, "created_at")
        modified = try row.decode(Date.self, "scim_modified_at")
        groups = references(try row.decode(String.self, "groups"))
    }
}

/// A SCIM Group.
public struct SCIMGroup: Sendable {
    /// Its id.
    public var id: UUID
    /// Its name; a group rule of the same name grants its members a role.
    public var displayName: String
    /// The provider's own id for it.
    public var externalID: String?
    /// When it was created.
    public var created: Date
    /// When it last changed.
    public var modified: Date
    /// Its members.
    public var members: [SCIMReference]

    init(row: PostgresRow) throws {
        id = try row.decode(UUID.self, "id")
        displayName = try row.decode(String.self, "display_name")
        externalID = try row.decode(String?.self, "external_id")
        created = try row.decode(Date.self, "created_at")
        modified = try row.decode(Date.self, "modified_at")
        members = references(try row.decode(String.self, "members"))
    }
}
