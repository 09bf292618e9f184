import AccordCore
import AccordServer
import AccordStore
import AccordTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Postgres
import Testing

@Suite("The MCP endpoint: every tool against every caller")
struct MCPSecurityTests {
    /// One JSON-RPC request to `/mcp`.
    static func rpc(_ method: String, _ params: [String: Any], id: Int = 1) -> ByteBuffer {
        json(["jsonrpc": "2.0", "id": id, "method": method, "params": params])
    }

    static func headers(_ token: String?) -> HTTPFields {
        var fields = bearer(token)
        fields[.accept] = "application/json, text/event-stream"
        return fields
    }

    @Test("anonymous and bad tokens get 401; people outside a program get tool errors and none of its data; nothing is written")
    func matrix() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            var tokens = try await seededAPI(store)
            _ = try await store.addPerson(handle: "nora", name: "Nora Nobody", email: nil, admin: false, password: apiPassword, actor: "ada")
            tokens["nora"] = try await store.createToken(for: "nora", name: "t", expires: nil, actor: "nora", proof: .password(apiPassword)).1
            _ = try await store.addPerson(handle: "rex", name: "Rex Revoked", email: nil, admin: false, password: apiPassword, actor: "ada")
            let revoked = try await store.createToken(for: "rex", name: "t", expires: nil, actor: "rex", proof: .password(apiPassword)).1
            try await store.revokeToken(try await store.tokens(actor: "rex").first!.id, actor: "rex")
            let plan = try await store.tasks(TaskFilter(program: "api"), actor: "ada").first { $0.key == "plan" }!
            _ = try await store.addEvidence(
                to: String(plan.id),
                fileName: "secret-plan.txt",
                bytes: Array("the api plan".utf8),
                title: "Secret plan",
                actor: "otto"
            )
            let before = try await db.pool.withConnection {
                try await $0.query("SELECT count(*)::int AS n FROM accord.audit_entry")[0].decode(Int.self, "n")
            }
            let tokenOf = tokens
            let planID = String(plan.id)
            let app = try makeApplication(store: store, configuration: ServerConfiguration())
            let (cells, failures, toolCount) = try await app.test(.router) { client -> (Int, [String], Int) in
                // Values for every argument a tool may take, aimed at program api.
                let values: [String: Any] = [
                    "program": "api", "task": planID, "system": "chatbot", "kind": "status", "number": 1, "body": "x", "title": "x",
                    "markdown": "x", "severity": "minor", "source": "other", "state": "open", "assignee": "otto", "overdue_only": false,
                    "assistant": "test",
                ]
                var tools: [[String: Any]] = []
                try await client.execute(uri: "/mcp", method: .post, headers: Self.headers(tokenOf["ada"]), body: Self.rpc("tools/list", [:])) {
                    tools = (object($0.body)["result"] as? [String: Any])?["tools"] as? [[String: Any]] ?? []
                }
                #expect(tools.count >= 10)
                let callers: [(String, String?)] = [
                    ("no token", nil), ("a malformed token", "acc_not-a-token"), ("a revoked token", revoked),
                    ("a member of another program", tokenOf["eve"]), ("a person in no program", tokenOf["nora"]),
                ]
                var cells = 0
                var failures: [String] = []
                for tool in tools {
                    let name = tool["name"] as? String ?? ""
                    let schema = tool["inputSchema"] as? [String: Any] ?? [:]
                    let properties = (schema["properties"] as? [String: Any] ?? [:]).keys
                    let arguments = Dictionary(uniqueKeysWithValues: properties.compactMap { key in values[key].map { (key, $0) } })
                    let aimed = !(schema["required"] as? [String] ?? []).isEmpty
                    for (caller, token) in callers {
                        cells += 1
                        let request = Self.rpc("tools/call", ["name": name, "arguments": arguments])
                        try await client.execute(uri: "/mcp", method: .post, headers: Self.headers(token), body: request) { response in
                            let text = String(buffer: response.body)
                            let anonymous = token == nil || caller.contains("token")
                            if anonymous {
                                if response.status != .unauthorized || response.headers[.contentType] != "application/problem+json" {
                                    failures.append("\(name) as \(caller): \(response.status.code) \(text.prefix(100))")
                                }
                                return
                            }
                            let result = object(response.body)["result"] as? [String: Any]
                            let isError = result?["isError"] as? Bool ?? false
                            if response.status != .ok || result == nil {
                                failures.append("\(name) as \(caller): \(response.status.code) \(text.prefix(100))")
                            } else if aimed && !isError {
                                failures.append("\(name) as \(caller): answered for program api: \(text.prefix(160))")
                            } else if !isError, text.contains("\\\"api\\\"") || text.contains("Secret plan") || text.contains("the api plan") {
                                failures.append("\(name) as \(caller): shows program api's data")
                            }
                        }
                    }
                }
                let after = try await db.pool.withConnection {
                    try await $0.query("SELECT count(*)::int AS n FROM accord.audit_entry")[0].decode(Int.self, "n")
                }
                #expect(after == before)
                return (cells, failures, tools.count)
            }
            print("mcp matrix: \(toolCount) tools × 5 callers = \(cells) cells, \(failures.count) failures")
            #expect(failures == [])
        }
    }

    @Test("a cookie session is not accepted: a web page cannot call the tools in its visitor's name")
    func noCookies() async throws {
        try await TestDatabase.with { db in
            _ = try await seededAPI(db.store)
            let session = try await db.store.login(handle: "otto", password: apiPassword, address: nil)
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                var fields = Self.headers(nil)
                fields[.cookie] = "accord_session=\(session.cookieToken)"
                try await client.execute(uri: "/mcp", method: .post, headers: fields, body: Self.rpc("tools/list", [:])) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                }
            }
        }
    }
}
