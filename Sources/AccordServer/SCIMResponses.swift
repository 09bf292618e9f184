import AccordCore
import AccordStore
import Foundation
import Hummingbird
import NIOCore
import Postgres

extension SCIMController {
    /// Runs a handler as the provisioning token's administrator, turning every refusal into a SCIM error.
    func answer(_ request: Request, _ body: (String) async throws -> Response) async -> Response {
        do {
            guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer "),
                let provisioner = try await store.scimProvisioner(token: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
            else {
                var refused = error(SCIMFailure(401, nil, "a provisioning token is needed: Authorization: Bearer TOKEN (accord token create --scim)"))
                refused.headers[.wwwAuthenticate] = "Bearer realm=\"accord-scim\""
                return refused
            }
            return try await body(provisioner.handle)
        } catch let failure as SCIMFailure {
            return error(failure)
        } catch let refusal as AccordError {
            let status: Int
            let type: String?
            switch refusal.code {
            case .notFound: (status, type) = (404, nil)
            case .conflict where refusal.field != nil: (status, type) = (409, "uniqueness")
            case .conflict: (status, type) = (409, nil)
            case .forbidden: (status, type) = (403, nil)
            case .unauthenticated: (status, type) = (401, nil)
            case .unavailable: (status, type) = (503, nil)
            default: (status, type) = (400, "invalidValue")
            }
            return error(SCIMFailure(status, type, refusal.message))
        } catch let failure as PostgresError where failure.sqlState == "23505" {
            // Two writes raced to the same userName or group name: the loser is told as a uniqueness conflict.
            return error(SCIMFailure(409, "uniqueness", "another write took that name at the same moment; read and try again"))
        } catch let failure as PostgresError where ["22", "23"].contains(failure.sqlState?.prefix(2) ?? "") {
            // A value the database cannot hold (a NUL byte in text, a value too long): the request's fault.
            return error(SCIMFailure(400, "invalidValue", "a value cannot be stored (\(failure.sqlState ?? "")); check the attributes"))
        } catch is PostgresError {
            // The database is away or busy: temporary, so the provider retries (a 400 would be final to it).
            return error(SCIMFailure(503, nil, "the database is not reachable; try again shortly"))
        } catch {
            return self.error(SCIMFailure(400, "invalidSyntax", "the request could not be read"))
        }
    }

    func error(_ failure: SCIMFailure) -> Response {
        var body: [String: Any] = ["schemas": [SCIM.errorSchema], "status": String(failure.status), "detail": failure.detail]
        if let type = failure.scimType { body["scimType"] = type }
        return json(body, status: HTTPResponse.Status(code: failure.status))
    }

    func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        var response = Response(status: status, headers: [.contentType: SCIM.mediaType], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        if let version = ((object as? [String: Any])?["meta"] as? [String: Any])?["version"] as? String { response.headers[.eTag] = version }
        return response
    }

    func list(_ items: [[String: Any]], total: Int, start: Int) -> Response {
        json(["schemas": [SCIM.listSchema], "totalResults": total, "startIndex": start, "itemsPerPage": items.count, "Resources": items])
    }

    /// One resource: 304 when `If-None-Match` names its version (a read), else the resource with its ETag.
    func resource(_ object: [String: Any], _ request: Request, reading: Bool = false) throws -> Response {
        let version = (object["meta"] as? [String: Any])?["version"] as? String
        if reading, let wanted = request.headers[.ifNoneMatch], let version, wanted == version || wanted == "*" {
            return Response(status: .notModified, headers: [.eTag: version])
        }
        return json(project(object, request))
    }

    /// `If-Match`: a write to a resource that changed since the client read it is refused (412).
    func checkIfMatch(_ request: Request, _ object: [String: Any]) throws {
        guard let wanted = request.headers[.ifMatch], wanted != "*" else { return }
        let version = (object["meta"] as? [String: Any])?["version"] as? String
        guard wanted.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }).contains(version ?? "") else {
            throw SCIMFailure(412, nil, "the resource changed since version \(wanted); read it again")
        }
    }

    /// `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5); `schemas`, `id` and `meta` always come.
    func project(_ object: [String: Any], _ request: Request) -> [String: Any] {
        let known = SCIM.userAttributes + SCIM.groupAttributes
        func names(_ parameter: String) -> [(String, String?)]? {
            guard let text = request.uri.queryParameters[parameter[...]], !text.isEmpty else { return nil }
            return text.split(separator: ",").compactMap { item in
                let trimmed = item.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: SCIM.userSchema + ":", with: "")
                    .replacingOccurrences(of: SCIM.groupSchema + ":", with: "")
                let parts = trimmed.split(separator: ".", maxSplits: 1).map(String.init)
                // An empty name names nothing, and is skipped.
                guard let first = parts.first, !first.isEmpty else { return nil }
                return (SCIM.canonical(first, among: known), parts.count > 1 ? parts[1] : nil)
            }
        }
        var result = object
        if let wanted = names("attributes") {
            result = object.filter { ["schemas", "id", "meta"].contains($0.key) }
            for (name, sub) in wanted {
                guard let value = object[name] else { continue }
                if let sub, let complex = value as? [String: Any] {
                    var kept = result[name] as? [String: Any] ?? [:]
                    kept[sub] = complex.first { $0.key.lowercased() == sub.lowercased() }?.value
                    result[name] = kept
                } else {
                    result[name] = value
                }
            }
        }
        if let unwanted = names("excludedAttributes") {
            for (name, sub) in unwanted where !["schemas", "id", "meta"].contains(name) {
                if let sub, var complex = result[name] as? [String: Any] {
                    complex[sub] = nil
                    result[name] = complex
                } else {
                    result[name] = nil
                }
            }
        }
        return result
    }

    /// A JSON object body, at most 1 MiB.
    func object(_ request: Request) async throws -> [String: Any] {
        try Self.object(try await bytes(request))
    }

    /// The body's bytes, at most 1 MiB (Sendable, for a change made under a row lock).
    func bytes(_ request: Request) async throws -> Data {
        Data(try await request.body.collect(upTo: 1 << 20).readableBytesView)
    }

    static func object(_ data: Data) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SCIMFailure(400, "invalidSyntax", "the body is not a JSON object")
        }
        return object
    }

    /// `filter` (one `attribute eq "value"` on an attribute in `filterable`), `startIndex` and `count`.
    func listParameters(_ request: Request, filterable: [String]) throws -> (filter: (String, String)?, start: Int, count: Int) {
        let query = request.uri.queryParameters
        func integer(_ name: String, default value: Int) throws -> Int {
            guard let text = query[name[...]].map(String.init) else { return value }
            guard let number = Int(text) else { throw SCIMFailure(400, "invalidValue", "\(name) is an integer") }
            return number
        }
        // RFC 7644 §3.4.2.4: a startIndex below 1 counts as 1, a negative count as 0.
        let start = max(try integer("startIndex", default: 1), 1)
        let count = min(max(try integer("count", default: SCIM.maxResults), 0), SCIM.maxResults)
        guard let text = query["filter"].map(String.init), !text.isEmpty else { return (nil, start, count) }
        let words = text.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 2).map(String.init)
        guard words.count == 3, words[1].lowercased() == "eq" else {
            throw SCIMFailure(400, "invalidFilter", "the filters understood are \(filterable.map { "\($0) eq \"…\"" }.joined(separator: " and "))")
        }
        let attribute = SCIM.canonical(
            words[0].replacingOccurrences(of: SCIM.userSchema + ":", with: "").replacingOccurrences(of: SCIM.groupSchema + ":", with: ""),
            among: filterable
        )
        guard filterable.contains(attribute), let value = try SCIMPath.literal(words[2]) as? String else {
            throw SCIMFailure(400, "invalidFilter", "the filters understood are \(filterable.map { "\($0) eq \"…\"" }.joined(separator: ", "))")
        }
        return ((attribute, value), start, count)
    }
}

/// Reading the resources SCIM clients write.
enum SCIMInput {
    /// A User's fields and its document (canonical attribute names, without id, meta, groups or active).
    static func user(_ raw: [String: Any]) throws -> SCIMUserInput {
        try checkTypes(
            raw,
            [
                "schemas": .strings, "userName": .string, "displayName": .string, "externalId": .string, "name": .object, "emails": .objects,
                "active": .boolean,
            ]
        )
        var json: [String: Any] = [:]
        for (key, value) in raw where !key.lowercased().hasPrefix("urn:") {
            let name = SCIM.canonical(key, among: SCIM.userAttributes + ["schemas", "id", "meta"])
            guard SCIM.userAttributes.contains(name) else { continue }
            json[name] = canonicalSubAttributes(name, value)
        }
        guard let userName = (json["userName"] as? String)?.trimmingCharacters(in: .whitespaces), !userName.isEmpty else {
            throw SCIMFailure(400, "invalidValue", "a User needs a userName")
        }
        let active: Bool
        switch json["active"] {
        case let flag as Bool: active = flag
        case let text as String where ["true", "false"].contains(text.lowercased()): active = text.lowercased() == "true"
        case nil, is NSNull: active = true
        default: throw SCIMFailure(400, "invalidValue", "active is true or false")
        }
        let name = json["name"] as? [String: Any]
        let joined = [name?["givenName"] as? String, name?["familyName"] as? String].compactMap { $0 }.joined(separator: " ")
        let printed =
            [json["displayName"] as? String, name?["formatted"] as? String, joined, userName]
            .compactMap { $0?.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty } ?? userName
        let emails = json["emails"] as? [[String: Any]] ?? []
        let email = (emails.first { $0["primary"] as? Bool == true } ?? emails.first)?["value"] as? String
        json["userName"] = userName
        json["groups"] = nil
        if json["active"] != nil { json["active"] = active }
        let document = String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self)
        return SCIMUserInput(userName: userName, name: printed, email: email, active: active, document: document)
    }

    static func group(_ raw: [String: Any]) throws -> (displayName: String, externalID: String?, members: [UUID]) {
        try checkTypes(raw, ["schemas": .strings, "displayName": .string, "externalId": .string, "members": .objects])
        var json: [String: Any] = [:]
        for (key, value) in raw { json[SCIM.canonical(key, among: SCIM.groupAttributes)] = value }
        guard let name = json["displayName"] as? String, !name.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw SCIMFailure(400, "invalidValue", "a Group needs a displayName")
        }
        let members = try (json["members"] as? [Any] ?? []).map { item -> UUID in
            let object = canonicalSubAttributes("members", item) as? [String: Any]
            guard let value = object?["value"] as? String, let id = UUID(uuidString: value) else {
                throw SCIMFailure(400, "invalidValue", "each member has the value of a User's id")
            }
            return id
        }
        return (name, json["externalId"] as? String, members)
    }

    enum Kind { case string, strings, object, objects, boolean }

    /// Each known attribute present has its type, or is null (unassigned, RFC 7643 §2.5).
    static func checkTypes(_ raw: [String: Any], _ kinds: [String: Kind]) throws {
        for (key, value) in raw where !(value is NSNull) {
            guard let kind = kinds.first(where: { $0.key.lowercased() == key.lowercased() })?.value else { continue }
            let fits: Bool =
                switch kind {
                case .string: value is String
                case .strings: value is [String]
                case .object: (value as? [String: Any])?.values.allSatisfy { $0 is String || $0 is NSNull } ?? false
                case .objects: value is [[String: Any]]
                // Entra ID sends "True"/"False" as strings.
                case .boolean: isBoolean(value) || ["true", "false"].contains((value as? String)?.lowercased() ?? "")
                }
            guard fits else { throw SCIMFailure(400, "invalidValue", "\(key) has the wrong type") }
        }
    }

    /// A JSON true or false, not a number (Foundation's JSON numbers also cast to Bool).
    static func isBoolean(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    static func canonicalSubAttributes(_ name: String, _ value: Any) -> Any {
        guard let known = SCIM.subAttributes[name] else { return value }
        func fix(_ item: Any) -> Any {
            guard let object = item as? [String: Any] else { return item }
            return Dictionary(object.map { (SCIM.canonical($0.key, among: known), $0.value) }, uniquingKeysWith: { first, _ in first })
        }
        if let list = value as? [Any] { return list.map(fix) }
        return fix(value)
    }
}
