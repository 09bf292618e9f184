import AccordCore
import AccordStore
import Crypto
import Foundation

/// The SCIM 2.0 vocabulary Accord serves (RFC 7643): its schemas, resource types and service provider
/// configuration, and the JSON of its Users and Groups.
enum SCIM {
    static let userSchema = "urn:ietf:params:scim:schemas:core:2.0:User"
    static let groupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group"
    static let listSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    static let errorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"
    static let patchSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    static let mediaType = "application/scim+json"
    /// The largest page a list returns (announced as `filter.maxResults`).
    static let maxResults = 200

    /// The attributes of each resource, as the schema publishes them and as writes are read: the
    /// canonical spelling (names are case-insensitive), and which are multi-valued.
    static let userAttributes = ["userName", "name", "displayName", "emails", "active", "groups", "externalId"]
    static let groupAttributes = ["displayName", "members", "externalId"]
    static let subAttributes = [
        "name": ["formatted", "familyName", "givenName"], "emails": ["value", "type", "primary"], "members": ["value", "$ref", "type"],
        "groups": ["value", "$ref", "display"],
    ]
    static let multiValued: Set<String> = ["emails", "members", "groups"]

    /// The canonical spelling of an attribute name (`username` → `userName`), among `known`.
    static func canonical(_ name: String, among known: [String]) -> String {
        known.first { $0.lowercased() == name.lowercased() } ?? name
    }

    static func attribute(
        _ name: String,
        type: String = "string",
        multiValued: Bool = false,
        required: Bool = false,
        mutability: String = "readWrite",
        uniqueness: String = "none",
        caseExact: Bool = false,
        description: String,
        sub: [[String: Any]]? = nil,
        canonicalValues: [String]? = nil,
        referenceTypes: [String]? = nil
    ) -> [String: Any] {
        var attribute: [String: Any] = [
            "name": name, "type": type, "multiValued": multiValued, "description": description, "required": required,
            "caseExact": caseExact, "mutability": mutability, "returned": "default", "uniqueness": uniqueness,
        ]
        if let sub { attribute["subAttributes"] = sub }
        if let canonicalValues { attribute["canonicalValues"] = canonicalValues }
        if let referenceTypes { attribute["referenceTypes"] = referenceTypes }
        return attribute
    }

    static func schemas(base: String) -> [[String: Any]] {
        let user: [String: Any] = [
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": userSchema, "name": "User", "description": "A person who acts in Accord",
            "attributes": [
                attribute(
                    "userName",
                    required: true,
                    uniqueness: "server",
                    description: "Unique identifier, as the identity provider knows the person"
                ),
                attribute(
                    "name",
                    type: "complex",
                    description: "The person's name",
                    sub: [
                        attribute("formatted", description: "The full name, as displayed"),
                        attribute("familyName", description: "The family name"),
                        attribute("givenName", description: "The given name"),
                    ]
                ),
                attribute("displayName", description: "The name printed with the person's signatures"),
                attribute(
                    "emails",
                    type: "complex",
                    multiValued: true,
                    description: "E-mail addresses; the primary one (or the first) is the one Accord mails",
                    sub: [
                        attribute("value", description: "The address"),
                        attribute("type", description: "work, home or other", canonicalValues: ["work", "home", "other"]),
                        attribute("primary", type: "boolean", description: "The address to use"),
                    ]
                ),
                attribute("active", type: "boolean", description: "false disables the person at once: sessions and tokens end, delegations end"),
                attribute(
                    "groups",
                    type: "complex",
                    multiValued: true,
                    mutability: "readOnly",
                    description: "The groups the person is in, set through the Groups",
                    sub: [
                        attribute("value", mutability: "readOnly", description: "The group's id"),
                        attribute("$ref", type: "reference", mutability: "readOnly", description: "The group's URI", referenceTypes: ["Group"]),
                        attribute("display", mutability: "readOnly", description: "The group's name"),
                    ]
                ),
            ],
            "meta": ["resourceType": "Schema", "location": "\(base)/Schemas/\(userSchema)"],
        ]
        let group: [String: Any] = [
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": groupSchema, "name": "Group", "description": "A group; a group rule of the same name grants its members a role in a program",
            "attributes": [
                attribute("displayName", required: true, uniqueness: "server", description: "The group's name, which group rules match"),
                attribute(
                    "members",
                    type: "complex",
                    multiValued: true,
                    description: "The Users in the group",
                    sub: [
                        attribute("value", mutability: "immutable", description: "The User's id"),
                        attribute("$ref", type: "reference", mutability: "immutable", description: "The User's URI", referenceTypes: ["User"]),
                        attribute("type", mutability: "immutable", description: "User", canonicalValues: ["User"]),
                    ]
                ),
            ],
            "meta": ["resourceType": "Schema", "location": "\(base)/Schemas/\(groupSchema)"],
        ]
        return [user, group]
    }

    static func resourceTypes(base: String) -> [[String: Any]] {
        [
            [
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"], "id": "User", "name": "User", "endpoint": "/Users",
                "description": "People", "schema": userSchema, "meta": ["resourceType": "ResourceType", "location": "\(base)/ResourceTypes/User"],
            ],
            [
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"], "id": "Group", "name": "Group", "endpoint": "/Groups",
                "description": "Groups, mapped to roles by group rules", "schema": groupSchema,
                "meta": ["resourceType": "ResourceType", "location": "\(base)/ResourceTypes/Group"],
            ],
        ]
    }

    static func serviceProviderConfig(base: String) -> [String: Any] {
        [
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "documentationUri": "https://github.com/accord/accord/blob/main/docs/sso.md",
            "patch": ["supported": true], "bulk": ["supported": false, "maxOperations": 0, "maxPayloadSize": 0],
            "filter": ["supported": true, "maxResults": maxResults], "changePassword": ["supported": false], "sort": ["supported": false],
            "etag": ["supported": true],
            "authenticationSchemes": [
                [
                    "type": "oauthbearertoken", "name": "Provisioning token",
                    "description": "A bearer token made by an administrator with 'accord token create --scim'", "primary": true,
                ]
            ],
            "meta": ["resourceType": "ServiceProviderConfig", "location": "\(base)/ServiceProviderConfig"],
        ]
    }

    /// A User as JSON: the document SCIM wrote (for a provisioned person), with what Accord holds laid over it.
    static func user(_ user: SCIMUser, base: String) -> [String: Any] {
        var json: [String: Any] = [:]
        if let document = user.document, let data = document.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        {
            json = object
        } else {
            json["name"] = ["formatted": user.name]
            json["displayName"] = user.name
            if let email = user.email { json["emails"] = [["value": email, "primary": true]] }
        }
        let provisioned = user.document != nil
        json["schemas"] = [userSchema]
        json["id"] = user.id.uuidString.lowercased()
        json["userName"] = user.userName
        // A disabled person always reads active: false; an enabled one reads what SCIM wrote (absent: enabled).
        if !user.active || !provisioned || json["active"] != nil { json["active"] = user.active }
        if !user.groups.isEmpty {
            json["groups"] = user.groups.map {
                ["value": $0.id.uuidString.lowercased(), "display": $0.display, "$ref": "\(base)/Groups/\($0.id.uuidString.lowercased())"]
            }
        }
        json["meta"] = meta("User", id: user.id, created: user.created, modified: user.modified, base: base, body: json)
        return json
    }

    static func group(_ group: SCIMGroup, base: String) -> [String: Any] {
        var json: [String: Any] = ["schemas": [groupSchema], "id": group.id.uuidString.lowercased(), "displayName": group.displayName]
        if let external = group.externalID { json["externalId"] = external }
        json["members"] = group.members.map {
            ["value": $0.id.uuidString.lowercased(), "$ref": "\(base)/Users/\($0.id.uuidString.lowercased())", "type": "User"]
        }
        json["meta"] = meta("Group", id: group.id, created: group.created, modified: group.modified, base: base, body: json)
        return json
    }

    /// `meta`, whose version (the ETag) is a hash of everything else in the resource.
    static func meta(_ type: String, id: UUID, created: Date, modified: Date, base: String, body: [String: Any]) -> [String: Any] {
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return [
            "resourceType": type, "created": format.string(from: created), "lastModified": format.string(from: modified),
            "location": "\(base)/\(type)s/\(id.uuidString.lowercased())", "version": etag(body),
        ]
    }

    static func etag(_ body: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return "W/\"" + hexString(SHA256.hash(data: data).prefix(8)) + "\""
    }
}
