import Foundation
import Testing

/// The schema version a fresh database reaches: the number of migrations in `sql/`.
let latestSchemaVersion: Int = {
    let sql = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("sql")
    return ((try? FileManager.default.contentsOfDirectory(atPath: sql.path)) ?? []).filter { $0.hasSuffix(".sql") }.count
}()

@Suite("accord db, run as a user would", .serialized)
struct DBCommandTests {
    @Test("on a machine where PostgreSQL was never initialised: status, start, url, migrate, stop")
    func embeddedLifecycle() throws {
        let sandbox = try CLISandbox()
        defer { sandbox.tearDown() }

        let before = try sandbox.run(["db", "status"])
        #expect(before.status == 3)
        #expect(before.stdout.contains("not created yet"))

        let start = try sandbox.run(["db", "start"])
        #expect(start.status == 0, "\(start.stderr)")
        #expect(start.stdout.contains("embedded PostgreSQL running"))
        #expect(start.stdout.contains("schema at version \(latestSchemaVersion)"))

        let status = try sandbox.run(["db", "status"])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("running (pid"))
        #expect(status.stdout.contains("server: PostgreSQL"))
        #expect(status.stdout.contains("(\(latestSchemaVersion) applied, up to date)"))
        #expect(status.stdout.contains("acts as: accord_app (history tables are insert-only for it)"))

        let url = try sandbox.run(["db", "url"])
        #expect(url.status == 0)
        #expect(url.stdout.contains("host=\(sandbox.home.path)/run"))
        #expect(url.stdout.contains("dbname=accord"))

        let dryRun = try sandbox.run(["db", "migrate", "--dry-run"])
        #expect(dryRun.stdout.contains("schema up to date at version \(latestSchemaVersion)"))

        let stop = try sandbox.run(["db", "stop"])
        #expect(stop.stdout.contains("embedded PostgreSQL stopped"))
        let after = try sandbox.run(["db", "status"])
        #expect(after.status == 3)
        #expect(after.stdout.contains("stopped"))
    }

    @Test("errors are one line on stderr with a non-zero exit")
    func oneLineErrors() throws {
        let sandbox = try CLISandbox()
        defer { sandbox.tearDown() }

        let unreachable = try sandbox.run(["db", "status", "--database", "host=/nonexistent/accord port=5432 dbname=x connect_timeout=2"])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.hasPrefix("error: cannot connect to PostgreSQL"))
        #expect(unreachable.stderr.split(separator: "\n").count == 1)

        let external = try sandbox.run(["db", "start", "--database", "postgres://u:topsecret@db.example/accord"])
        #expect(external.status == 1)
        #expect(external.stderr.contains("manages the embedded cluster"))
        #expect(!external.stderr.contains("topsecret"))
        #expect(external.stderr.split(separator: "\n").count == 1)

        let usage = try sandbox.run(["db", "frobnicate"])
        #expect(usage.status == 64)
    }

    @Test("--version and --help on every command")
    func versionAndHelp() throws {
        let sandbox = try CLISandbox()
        defer { sandbox.tearDown() }
        let version = try sandbox.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
        for command in [[], ["db"], ["db", "start"], ["db", "stop"], ["db", "status"], ["db", "migrate"], ["db", "url"], ["serve"]] {
            let help = try sandbox.run(command + ["--help"])
            #expect(help.status == 0, "\(command)")
            #expect(help.stdout.contains("USAGE"), "\(command)")
        }
    }
}
