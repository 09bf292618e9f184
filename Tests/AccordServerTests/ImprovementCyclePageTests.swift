import AccordCore
import AccordServer
import AccordStore
import AccordTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Cycles, findings and incidents in the web front and the API")
struct ImprovementPageTests {
    @Test("open a cycle; closing is refused with the engine's message until the review is signed; the KPI table and SVG; the API")
    func cycles() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededImprovementWeb(store)
            let mia = try await browser(store, "mia")
            let eve = try await browser(store, "eve")
            let tokens = try await ["mia", "eve", "nemo"].asyncReduce(into: [String: String]()) { all, handle in
                all[handle] = try await store.createToken(for: handle, name: "t", expires: nil, actor: handle, proof: .password(apiPassword)).1
            }
            let app = try makeApplication(store: store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                try await client.execute(uri: "/programs/pd", method: .get, headers: mia.headers) { response in
                    #expect(String(buffer: response.body).contains("<a href=\"/programs/pd/cycles\">cycles and KPIs</a>"))
                }
                try await client.execute(
                    uri: "/programs/pd/cycles",
                    method: .post,
                    headers: mia.headers,
                    body: form(["csrf_token": mia.csrf, "period": "three months"])
                ) { response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .unprocessableContent)
                    #expect(html.contains("name=\"period\" value=\"three months\" aria-invalid=\"true\" aria-describedby=\"page-error\""))
                }
                try await client.execute(uri: "/programs/pd/cycles", method: .post, headers: mia.headers, body: form(["csrf_token": mia.csrf])) {
                    #expect($0.headers[.location] == "/programs/pd/cycles?opened=1")
                }
                try await client.execute(uri: "/programs/pd/cycles/close", method: .post, headers: mia.headers, body: form(["csrf_token": mia.csrf]))
                {
                    response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .conflict)
                    #expect(html.contains("<p class=\"error\" id=\"page-error\" role=\"alert\">cycle 1 of &#39;pd&#39; cannot close"), "\(html)")
                }
                #expect(try await store.cycles(program: "pd", actor: "mia").first?.isOpen == true)
                let review = try #require(try await store.cycle(program: "pd", number: 1, actor: "mia").review.first)
                try await submitForReview(store, review, as: "mia")
                _ = try await store.sign(String(review.id), decision: .approve, meaning: nil, comment: nil, password: apiPassword, actor: "bea")
                try await client.execute(uri: "/programs/pd/cycles/close", method: .post, headers: mia.headers, body: form(["csrf_token": mia.csrf]))
                {
                    #expect($0.headers[.location] == "/programs/pd/cycles?closed=1")
                }
                // The API opens the second; closing it is refused as a problem with the engine's words.
                try await client.execute(
                    uri: "/api/v1/programs/pd/cycles",
                    method: .post,
                    headers: bearer(tokens["mia"]),
                    body: json(["period": "P1M"])
                ) {
                    response in
                    #expect(response.status == .created)
                    #expect((object(response.body)["cycle"] as? [String: Any])?["number"] as? Int == 2)
                }
                try await client.execute(uri: "/api/v1/programs/pd/cycles/close", method: .post, headers: bearer(tokens["mia"])) { response in
                    #expect(response.status == .conflict)
                    #expect((object(response.body)["detail"] as? String)?.contains("cycle 2") == true)
                }
                try await client.execute(uri: "/api/v1/programs/pd/cycles/1", method: .get, headers: bearer(tokens["mia"])) { response in
                    #expect((object(response.body)["review"] as? [Any])?.count == 1)
                }
                try await client.execute(uri: "/programs/pd/cycles?closed=1", method: .get, headers: mia.headers) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("<th scope=\"col\">Cycle 1<br>"))
                    #expect(html.contains("<th scope=\"col\">Cycle 2 (open)<br>"))
                    #expect(html.contains("<th scope=\"row\">On time</th>"))
                    #expect(html.contains("<th scope=\"row\">Sign-off latency (median)</th>"))
                    #expect(html.contains("<img class=\"timeline\" src=\"/programs/pd/cycles/kpis.svg\" alt=\"Chart of on-time percentage"))
                    #expect(html.contains("Close cycle 2"))
                }
                try await client.execute(uri: "/programs/pd/cycles/kpis.svg", method: .get, headers: mia.headers) { response in
                    let svg = String(buffer: response.body)
                    #expect(response.headers[.contentType] == "image/svg+xml")
                    #expect(svg.hasPrefix("<svg") && svg.contains("<title id=\"kpi-title\">"))
                    #expect(svg.contains(">cycle 1<") && svg.contains(">cycle 2<"))
                }
                // Another program's members, and people in none, are told it does not exist.
                for token in [tokens["eve"], tokens["nemo"]] {
                    try await client.execute(uri: "/api/v1/programs/pd/cycles", method: .post, headers: bearer(token), body: json([:])) {
                        #expect($0.status == .notFound)
                    }
                    try await client.execute(uri: "/api/v1/programs/pd/cycles/1", method: .get, headers: bearer(token)) {
                        #expect($0.status == .notFound)
                    }
                }
                try await client.execute(uri: "/programs/pd/cycles", method: .get, headers: eve.headers) { #expect($0.status == .notFound) }
                try await client.execute(uri: "/programs/pd/cycles/kpis.svg", method: .get, headers: eve.headers) { #expect($0.status == .notFound) }
            }
        }
    }

    @Test("raise a finding by form, its tasks linked; record its root cause (refused blank, field marked); the paged list; the API")
    func findings() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededImprovementWeb(store)
            let otto = try await browser(store, "otto")
            let mia = try await browser(store, "mia")
            let tokens = try await ["mia", "eve"].asyncReduce(into: [String: String]()) { all, handle in
                all[handle] = try await store.createToken(for: handle, name: "t", expires: nil, actor: handle, proof: .password(apiPassword)).1
            }
            let app = try makeApplication(store: store, configuration: ServerConfiguration())
            try await app.test(.router) { client in
                let raise = ["csrf_token": otto.csrf, "source": "audit", "severity": "minor", "system": "screener"]
                try await client.execute(
                    uri: "/programs/pd/findings",
                    method: .post,
                    headers: otto.headers,
                    body: form(raise.merging(["title": " "]) { $1 })
                ) {
                    response in
                    let html = String(buffer: response.body)
                    #expect(response.status == .unprocessableContent)
                    #expect(html.contains("a finding needs a title"))
                    #expect(html.contains("name=\"title\" maxlength=\"300\" required value=\" \" aria-invalid=\"true\""))
                    #expect(html.contains("<option value=\"screener\" selected>"))
                }
                try await client.execute(
                    uri: "/programs/pd/findings",
                    method: .post,
                    headers: otto.headers,
                    body: form(raise.merging(["title": "Logs are not kept"]) { $1 })
                ) { response in
                    #expect(response.headers[.location] == "/programs/pd/findings/1?raised=1")
                }
                let finding = try await store.finding(program: "pd", number: 1, actor: "mia")
                #expect(finding.tasks.map(\.key) == ["fix", "check"])
                try await client.execute(uri: "/programs/pd/findings/1?raised=1", method: .get, headers: otto.headers) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("<h1>Finding 1: Logs are not kept</h1>"))
                    for task in finding.tasks { #expect(html.contains("<a href=\"/tasks/\(task.id)\">\(task.title)</a>")) }
                    #expect(html.contains("Record the root cause"))
                }
                try await client.execute(
                    uri: "/programs/pd/findings/1/root-cause",
                    method: .post,
                    headers: mia.headers,
                    body: form(["csrf_token": mia.csrf, "root_cause": ""])
                ) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect(String(buffer: response.body).contains("rows=\"4\" required aria-invalid=\"true\" aria-describedby=\"page-error\""))
                }
                try await client.execute(
                    uri: "/programs/pd/findings/1/root-cause",
                    method: .post,
                    headers: mia.headers,
                    body: form(["csrf_token": mia.csrf, "root_cause": "No log rotation was configured"])
                ) { response in
                    #expect(response.headers[.location] == "/programs/pd/findings/1?recorded=1")
                }
                #expect(try await store.finding(program: "pd", number: 1, actor: "mia").rootCause == "No log rotation was configured")
                try await client.execute(uri: "/programs/pd/findings?state=open", method: .get, headers: otto.headers) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("<a href=\"/programs/pd/findings/1\">F1: Logs are not kept</a>"))
                    #expect(html.contains("1 findings · page 1 of 1"))
                }
                try await client.execute(uri: "/programs/pd/findings?state=closed", method: .get, headers: otto.headers) { response in
                    #expect(String(buffer: response.body).contains("0 findings"))
                }
                // The API: raise, read, record, list paged with CSV.
                let body = json(["source": "monitoring", "severity": "major", "title": "Drift unnoticed", "system": "screener"])
                try await client.execute(uri: "/api/v1/programs/pd/findings", method: .post, headers: bearer(tokens["mia"]), body: body) { response in
                    #expect(response.status == .created)
                    #expect(object(response.body)["number"] as? Int == 2)
                    #expect((object(response.body)["tasks"] as? [Any])?.count == 2)
                }
                try await client.execute(
                    uri: "/api/v1/programs/pd/findings",
                    method: .post,
                    headers: bearer(tokens["mia"]),
                    body: json(["source": "gossip"])
                ) {
                    response in
                    #expect(response.status == .unprocessableContent)
                    #expect(object(response.body)["field"] as? String == "source")
                }
                try await client.execute(
                    uri: "/api/v1/programs/pd/findings/2/root-cause",
                    method: .post,
                    headers: bearer(tokens["mia"]),
                    body: json(["rootCause": "No drift monitor"])
                ) { response in
                    #expect(object(response.body)["rootCause"] as? String == "No drift monitor")
                }
                try await client.execute(uri: "/api/v1/programs/pd/findings/2", method: .get, headers: bearer(tokens["mia"])) { response in
                    #expect(object(response.body)["title"] as? String == "Drift unnoticed")
                }
                try await client.execute(uri: "/api/v1/programs/pd/findings?per_page=1&page=2", method: .get, headers: bearer(tokens["mia"])) {
                    response in
                    let page = object(response.body)
                    #expect(page["total"] as? Int == 2)
                    #expect(((page["items"] as? [[String: Any]])?.first?["number"]) as? Int == 1)
                }
                try await client.execute(uri: "/api/v1/programs/pd/findings?format=csv&state=open", method: .get, headers: bearer(tokens["mia"])) {
                    response in
                    #expect(String(buffer: response.body).hasPrefix("number,source,severity,title,system,incident,cycle,root_cause"))
                }
                for path in ["/api/v1/programs/pd/findings/1", "/api/v1/programs/pd/findings"] {
                    try await client.execute(uri: path, method: .get, headers: bearer(tokens["eve"])) { #expect($0.status == .notFound) }
                }
                try await client.execute(uri: "/api/v1/programs/pd/findings", method: .post, headers: bearer(tokens["eve"]), body: body) {
                    #expect($0.status == .notFound)
                }
            }
        }
    }

    @Test("report an incident by form: its clock's deadline in UTC and time left, 'less than a day' marked in words; its tasks linked; the API")
    func incidents() async throws {
        try await TestDatabase.with { db in
            let store = db.store
            try await seededImprovementWeb(store)
            let otto = try await browser(store, "otto")
            let eve = try await browser(store, "eve")
            let token = try await store.createToken(for: "otto", name: "t", expires: nil, actor: "otto", proof: .password(apiPassword)).1
            let app = try makeApplication(store: store, configuration: ServerConfiguration())
            // Aware 47 hours ago of a widespread infringement: 2 days, so about an hour is left.
            let aware = Date().addingTimeInterval(-47 * 3600)
            let minute = DateFormatter()
            minute.locale = Locale(identifier: "en_US_POSIX")
            minute.timeZone = TimeZone(identifier: "UTC")
            minute.dateFormat = "yyyy-MM-dd'T'HH:mm"
            let deadline = aware.addingTimeInterval(2 * 86_400)
            try await app.test(.router) { client in
                let report = ["csrf_token": otto.csrf, "system": "screener", "kind": "widespread", "summary": "Applicants misranked"]
                try await client.execute(
                    uri: "/programs/pd/incidents",
                    method: .post,
                    headers: otto.headers,
                    body: form(report.merging(["aware_at": "yesterday"]) { $1 })
                ) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect(String(buffer: response.body).contains("value=\"yesterday\" aria-invalid=\"true\""))
                }
                try await client.execute(
                    uri: "/programs/pd/incidents",
                    method: .post,
                    headers: otto.headers,
                    body: form(report.merging(["aware_at": minute.string(from: aware)]) { $1 })
                ) { response in
                    #expect(response.headers[.location] == "/programs/pd/incidents/1?reported=1")
                }
                let incident = try await store.incident(program: "pd", number: 1, actor: "otto")
                try await client.execute(uri: "/programs/pd/incidents/1?reported=1", method: .get, headers: otto.headers) { response in
                    let html = String(buffer: response.body)
                    let expected = utcText(incident.reportDueAt)
                    #expect(abs(incident.reportDueAt.timeIntervalSince(deadline)) < 61)
                    #expect(html.contains("<time datetime=\"\(ISO8601DateFormatter().string(from: incident.reportDueAt))\">\(expected)</time>"))
                    #expect(html.contains("<p class=\"late\" id=\"time-left\"><strong>less than a day left: 0 h"), "\(html)")
                    #expect(html.contains("Notification clock (Art. 73(3), 2 days)"))
                    let notify = try #require(incident.tasks.first)
                    #expect(html.contains("<a href=\"/tasks/\(notify.id)\">\(notify.title)</a>"))
                    #expect(html.contains("<a href=\"/programs/pd/findings/1\">finding 1</a>"))
                }
                // Another kind, aware now: 15 days left, neither red nor "less than a day".
                try await client.execute(
                    uri: "/api/v1/programs/pd/incidents",
                    method: .post,
                    headers: bearer(token),
                    body: json(["system": "screener", "kind": "other", "awareAt": ISO8601DateFormatter().string(from: Date()), "summary": "Outage"])
                ) { response in
                    #expect(response.status == .created)
                    #expect(object(response.body)["clock"] as? String == "Art. 73(2), 15 days")
                }
                try await client.execute(uri: "/programs/pd/incidents/2", method: .get, headers: otto.headers) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("<p class=\"\" id=\"time-left\"><strong>14 d 23 h left</strong>"), "\(html)")
                    #expect(!html.contains("less than a day"))
                }
                try await client.execute(uri: "/programs/pd/incidents", method: .get, headers: otto.headers) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("2 incidents · page 1 of 1"))
                    #expect(html.contains("<td class=\"late\">less than a day left"))
                }
                try await client.execute(uri: "/api/v1/programs/pd/incidents/1", method: .get, headers: bearer(token)) { response in
                    #expect(object(response.body)["reportDueAt"] as? String == ISO8601DateFormatter().string(from: incident.reportDueAt))
                }
                try await client.execute(uri: "/api/v1/programs/pd/incidents?format=csv", method: .get, headers: bearer(token)) { response in
                    #expect(String(buffer: response.body).split(separator: "\r\n").count == 3)
                }
                try await client.execute(uri: "/programs/pd/incidents/1", method: .get, headers: eve.headers) { #expect($0.status == .notFound) }
                try await client.execute(
                    uri: "/programs/pd/incidents",
                    method: .post,
                    headers: eve.headers,
                    body: form(report.merging(["csrf_token": eve.csrf, "aware_at": minute.string(from: aware)]) { $1 })
                ) { #expect($0.status == .notFound) }
                #expect(try await store.incidents(program: "pd", paging: Paging(), actor: "ada").total == 2)
            }
        }
    }
}

/// A time as the pages print it: to the minute, in UTC.
func utcText(_ date: Date) -> String {
    let format = DateFormatter()
    format.locale = Locale(identifier: "en_US_POSIX")
    format.timeZone = TimeZone(identifier: "UTC")
    format.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
    return format.string(from: date)
}
