import AccordTestSupport
import Foundation
import Postgres
import PostgresCluster
import Testing

@Suite("The embedded cluster")
struct LocalClusterTests {
    @Test("start creates, runs and is idempotent; stop stops; the data stays")
    func lifecycle() async throws {
        let cluster = try await PrivateCluster.start()
        guard case .running = cluster.status() else {
            Issue.record("not running after start")
            return
        }
        #expect(try cluster.start() == false)  // already running
        let pool = PostgresPool(configuration: .init(conninfo: cluster.conninfo, maxConnections: 1))
        try await pool.withConnection { c in
            try await c.execute("CREATE TABLE kept (v text)")
            try await c.execute("INSERT INTO kept VALUES ($1)", ["survives a stop"])
            let tcp = try await c.query("SELECT current_setting('listen_addresses') AS l")[0].decode(String.self, "l")
            #expect(tcp == "")
        }
        #expect(try cluster.stop() == true)
        #expect(cluster.status() == .stopped)
        #expect(try cluster.stop() == false)
        #expect(try cluster.start() == true)
        let value = try await pool.withConnection { try await $0.query("SELECT v FROM kept")[0].decode(String.self, "v") }
        #expect(value == "survives a stop")
        try await pool.close()
        try cluster.stop()
    }

    @Test("missing server programs give the command to install them")
    func missingBinaries() throws {
        let error = #expect(throws: ClusterError.self) {
            try LocalCluster.serverBinaries(environment: ["PATH": "/nonexistent"], systemFolder: "/nonexistent")
        }
        #expect(error?.message.contains("apt-get install postgresql") == true)
    }

    @Test("a folder whose socket path would be too long is refused clearly")
    func longSocketPath() throws {
        let cluster = LocalCluster(home: URL(fileURLWithPath: "/tmp/" + String(repeating: "x", count: 120)))
        let error = #expect(throws: ClusterError.self) { try cluster.start() }
        #expect(error?.message.contains("too long for a Unix socket") == true)
    }

    @Test("conninfo and URLs are parsed by libpq, and the database can be swapped")
    func conninfo() throws {
        let swapped = try Conninfo.replacingDatabase(in: "postgres://u:p@localhost:5433/old?sslmode=disable", with: "new db")
        let pairs = Dictionary(uniqueKeysWithValues: try Conninfo.parse(swapped).map { ($0.key, $0.value) })
        #expect(pairs["dbname"] == "new db")
        #expect(pairs["port"] == "5433")
        #expect(pairs["user"] == "u")
        #expect(pairs["sslmode"] == "disable")
        #expect(throws: PostgresError.self) { try Conninfo.parse("host='unterminated") }
    }
}
