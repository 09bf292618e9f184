import AccordServer
import AccordStore
import AccordTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Postgres
import Testing

@Suite("SCIM and SSO routes against callers who may not: only a live provisioning token provisions")
struct SCIMSecurityTests {
    @Test("every /scim/v2 route × seven callers: 401 in SCIM's error form, nothing changed; hostile bodies are SCIM 400s")
    func scimMatrix() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            let tokens = try await seededAPI(store)
            let scim = try await store.createToken(
                for: "ada",
                name: "idp",
                expires: nil,
                actor: "ada",
                proof: .administratorOverride(reason: "test"),
                provisioning: true
            ).1
            let revoked = try await store.createToken(
                for: "ada",
                name: "old",
                expires: nil,
                actor: "ada",
                proof: .administratorOverride(reason: "test"),
                provisioning: true
            )
            try await store.revokeToken(revoked.0.id, actor: "ada")
            // A non-administrator cannot hold one at all.
            await #expect(throws: AccordError.self) {
                _ = try await store.createToken(
                    for: "otto",
                    name: "x",
                    expires: nil,
                    actor: "otto",
                    proof: .password(apiPassword),
                    provisioning: true
                )
            }
            let otto = try #require(try await store.scimUsers(userName: "otto", externalID: nil, startIndex: 1, count: 10).items.first)
            let before = try await db.pool.withConnection {
                try await $0.query("SELECT count(*)::int AS n FROM accord.audit_entry")[0].decode(Int.self, "n")
            }
            let user = "/scim/v2/Users/\(otto.id.uuidString.lowercased())"
            let routes: [(HTTPRequest.Method, String)] = [
                (.get, "/scim/v2/ServiceProviderConfig"), (.get, "/scim/v2/ResourceTypes"), (.get, "/scim/v2/Schemas"),
                (.get, "/scim/v2/Users"), (.post, "/scim/v2/Users"), (.get, user), (.put, user), (.patch, user), (.delete, user),
                (.get, "/scim/v2/Groups"), (.post, "/scim/v2/Groups"), (.get, "/scim/v2/Groups/0b7e4c2a-5d1f-4f0e-9a55-3c1d2b6e8f90"),
            ]
            let callers: [(String, String?)] = [
                ("no token", nil), ("a malformed token", "acc_nope"), ("a person's API token", tokens["otto"]),
                ("an administrator's API token", tokens["ada"]), ("a revoked provisioning token", revoked.1),
                ("a provisioning token with a typo", scim + "x"), ("a provisioning token without its last character", String(scim.dropLast())),
            ]
            let body = json([
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "mallory", "active": false,
                "Operations": [["op": "replace", "path": "active", "value": false]],
            ])
            let app = try makeApplication(store: store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                var failures: [String] = []
                for (method, path) in routes {
                    for (caller, token) in callers {
                        let response = try await client.execute(uri: path, method: method, headers: bearer(token), body: method == .get ? nil : body)
                        let text = String(buffer: response.body)
                        if response.status != .unauthorized || response.headers[.contentType] != "application/scim+json"
                            || !text.contains("urn:ietf:params:scim:api:messages:2.0:Error")
                        {
                            failures.append("\(method) \(path) as \(caller): \(response.status.code) \(text.prefix(100))")
                        }
                    }
                }
                #expect(failures.isEmpty, "\(failures)")
                print(
                    "scim matrix: \(routes.count) routes × \(callers.count) callers = \(routes.count * callers.count) cells, \(failures.count) failures"
                )
                // With the right token, hostile bodies are SCIM 400s, never 500, and store nothing.
                let hostile: [(String, ByteBuffer)] = [
                    ("not JSON", ByteBuffer(string: "{\"userName\": ")), ("an array", ByteBuffer(string: "[1, 2]")),
                    ("no userName", json(["schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]])),
                    ("a NUL byte", ByteBuffer(string: "{\"userName\": \"a\\u0000b\"}")),
                    ("deep nesting", ByteBuffer(string: String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000))),
                    ("a bad e-mail", json(["userName": "x1", "emails": [["value": "not an address"]]])),
                ]
                for (what, bytes) in hostile {
                    let response = try await client.execute(uri: "/scim/v2/Users", method: .post, headers: bearer(scim), body: bytes)
                    #expect(response.status == .badRequest, "\(what): \(response.status) \(String(buffer: response.body))")
                    #expect(response.headers[.contentType] == "application/scim+json", "\(what)")
                }
                let filter = try await client.execute(uri: "/scim/v2/Users?filter=name%20co%20%22x%22", method: .get, headers: bearer(scim))
                #expect(filter.status == .badRequest && String(buffer: filter.body).contains("invalidFilter"))
                let patch = try await client.execute(
                    uri: user,
                    method: .patch,
                    headers: bearer(scim),
                    body: json(["schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [["op": "remove"]]])
                )
                #expect(patch.status == .badRequest && String(buffer: patch.body).contains("noTarget"))
                let stale = try await client.execute(
                    uri: user,
                    method: .put,
                    headers: bearer(scim) + [.ifMatch: "W/\"0000000000000000\""],
                    body: json(["userName": "otto"])
                )
                #expect(stale.status == .preconditionFailed, "If-Match with another version is refused")
                // What once crashed or misbehaved: empty paths and attribute names, an administrator's account.
                for bad in [".", "name.", "[", "members[value eq]"] {
                    let response = try await client.execute(
                        uri: user,
                        method: .patch,
                        headers: bearer(scim),
                        body: json([
                            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                            "Operations": [["op": "replace", "path": bad, "value": "x"]],
                        ])
                    )
                    #expect(response.status == .badRequest, "path \(bad): \(response.status)")
                }
                for query in ["attributes=%20", "attributes=urn:ietf:params:scim:schemas:core:2.0:User:", "excludedAttributes=,,"] {
                    let response = try await client.execute(uri: "\(user)?\(query)", method: .get, headers: bearer(scim))
                    #expect(response.status == .ok, "\(query): \(response.status)")
                }
                let ada = try #require(try await store.scimUsers(userName: "ada", externalID: nil, startIndex: 1, count: 1).items.first)
                let adminWrite = try await client.execute(
                    uri: "/scim/v2/Users/\(ada.id.uuidString.lowercased())",
                    method: .patch,
                    headers: bearer(scim),
                    body: json([
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [["op": "replace", "path": "emails", "value": [["value": "mallory@example.com"]]]],
                    ])
                )
                #expect(adminWrite.status == .forbidden, "an administrator is not provisioned by SCIM")
                let current = try await client.execute(uri: user, method: .get, headers: bearer(scim))
                let version = try #require(current.headers[.eTag])
                let unchanged = try await client.execute(uri: user, method: .get, headers: bearer(scim) + [.ifNoneMatch: version])
                #expect(unchanged.status == .notModified)
                let after = try await db.pool.withConnection {
                    try await $0.query("SELECT count(*)::int AS n FROM accord.audit_entry")[0].decode(Int.self, "n")
                }
                #expect(after == before, "no caller changed anything")
                #expect(try await store.person("otto").disabled == false)
            }
        }
    }

    @Test("the SSO routes refuse what did not start here: an unknown state, a forged login form, signing without a session")
    func ssoRoutes() async throws {
        try await TestDatabase.with { db in
            _ = try await seededAPI(db.store)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                for query in ["", "?state=nope&code=x", "?state=\(String(repeating: "a", count: 5000))", "?error=access_denied&state=x"] {
                    let response = try await client.execute(uri: "/sso/callback" + query, method: .get)
                    #expect([400, 401].contains(response.status.code), "\(query.prefix(40)): \(response.status)")
                    #expect(response.headers[values: .setCookie].allSatisfy { !$0.hasPrefix("accord_session=") || $0.contains("Max-Age=0") })
                }
                let forged = try await client.execute(
                    uri: "/login/sso",
                    method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: form(["issuer": "1", "login_token": "forged"])
                )
                #expect(forged.status == .forbidden)
                let anonymous = try await client.execute(
                    uri: "/tasks/1/sign-sso",
                    method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: form(["issuer": "1"])
                )
                #expect(anonymous.status == .seeOther && anonymous.headers[.location]?.hasPrefix("/login") == true)
            }
        }
    }
}

private func + (lhs: HTTPFields, rhs: HTTPFields) -> HTTPFields {
    var fields = lhs
    fields.append(contentsOf: rhs)
    return fields
}
