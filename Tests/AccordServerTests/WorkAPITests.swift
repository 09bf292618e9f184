import AccordCore
import AccordServer
import AccordStore
import AccordTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Work on tasks through the API")
struct WorkAPITests {
    @Test("assign many tasks in one request, all or none; only managers")
    func assign() async throws {
        try await TestDatabase.with { db in
            let tasks = try await seededWork(db.store)
            let (t3, t4, t5) = (tasks["t3"]!.id, tasks["t4"]!.id, tasks["t5"]!.id)
            var made: [String: String] = [:]
            for handle in ["mia", "otto"] {
                made[handle] = try await db.store.createToken(for: handle, name: "t", expires: nil, actor: handle, proof: .password(apiPassword)).1
            }
            let tokens = made
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                let uri = "/api/v1/programs/work/assign"
                try await client.execute(
                    uri: uri,
                    method: .post,
                    headers: bearer(tokens["mia"]),
                    body: json(["assignments": [["task": t4, "assignee": "otto"], ["task": t3, "assignee": "eve"]]])
                ) { response in
                    #expect(response.status == .conflict)
                    #expect(response.headers[.contentType] == "application/problem+json")
                    #expect((object(response.body)["detail"] as? String)?.contains("work/t3") == true)
                }
                #expect(try await db.store.task(String(t4), actor: "ada").task.assignee == nil)
                try await client.execute(
                    uri: uri,
                    method: .post,
                    headers: bearer(tokens["otto"]),
                    body: json(["assignments": [["task": t4, "assignee": "otto"]]])
                ) { #expect($0.status == .forbidden) }
                try await client.execute(uri: uri, method: .post, headers: bearer(tokens["mia"]), body: json(["assignments": []])) {
                    #expect($0.status == .unprocessableContent)
                }
                try await client.execute(
                    uri: uri,
                    method: .post,
                    headers: bearer(tokens["mia"]),
                    body: json(["assignments": [["task": t4, "assignee": "otto"], ["task": t5, "assignee": "bea"]]])
                ) { response in
                    #expect(response.status == .ok)
                    let answer = object(response.body)
                    #expect(answer["assigned"] as? Int == 2)
                    #expect((answer["tasks"] as? [[String: Any]])?.map { $0["assignee"] as? String } == ["otto", "bea"])
                }
                // A task of another program is refused by name.
                let other = try #require(try await db.store.tasks(TaskFilter(program: "api"), actor: "ada").first)
                try await client.execute(
                    uri: uri,
                    method: .post,
                    headers: bearer(tokens["mia"]),
                    body: json(["assignments": [["task": other.id, "assignee": "otto"]]])
                ) { #expect([404, 422].contains(Int($0.status.code))) }
            }
        }
    }

    @Test("comment on a task and list the thread (JSON and CSV, paged); others get 404")
    func comments() async throws {
        try await TestDatabase.with { db in
            let tasks = try await seededWork(db.store)
            let t2 = tasks["t2"]!.id
            var made: [String: String] = [:]
            for handle in ["aud", "eve"] {
                made[handle] = try await db.store.createToken(for: handle, name: "t", expires: nil, actor: handle, proof: .password(apiPassword)).1
            }
            let tokens = made
            let app = try makeApplication(store: db.store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                let uri = "/api/v1/tasks/\(t2)/comments"
                for text in ["first", "second", "third"] {
                    try await client.execute(uri: uri, method: .post, headers: bearer(tokens["aud"]), body: json(["body": text])) { response in
                        #expect(response.status == .created)
                        #expect(object(response.body)["authorName"] as? String == "Aud Auditor")
                    }
                }
                try await client.execute(
                    uri: uri,
                    method: .post,
                    headers: bearer(tokens["aud"]),
                    body: json(["body": String(repeating: "x", count: 5_001)])
                ) {
                    #expect($0.status == .unprocessableContent)
                }
                try await client.execute(uri: uri + "?per_page=2&page=2", method: .get, headers: bearer(tokens["aud"])) { response in
                    let page = object(response.body)
                    #expect(page["total"] as? Int == 3)
                    #expect((page["items"] as? [[String: Any]])?.map { $0["body"] as? String } == ["third"])
                }
                try await client.execute(uri: uri + "?format=csv", method: .get, headers: bearer(tokens["aud"])) { response in
                    let lines = String(buffer: response.body).split(separator: "\r\n")
                    #expect(lines.first == "id,task,author,author_name,at,body")
                    #expect(lines.count == 4 && lines[1].hasSuffix(",first"))
                }
                try await client.execute(uri: uri, method: .get, headers: bearer(tokens["eve"])) { #expect($0.status == .notFound) }
                try await client.execute(uri: uri, method: .post, headers: bearer(tokens["eve"]), body: json(["body": "hello"])) {
                    #expect($0.status == .notFound)
                }
                #expect(try await auditCount(db, action: "task.comment") == 3)
            }
        }
    }
}
