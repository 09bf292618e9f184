import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import Postgres

@testable import PostgresCluster

/// A PostgreSQL primary and a streaming standby on 127.0.0.1, each in its own folder of a fresh
/// temporary folder: what a failover test crashes, promotes and reads back.
///
/// The standby is a `pg_basebackup -R -X stream` of the primary named `standby1`. In `.synchronous`
/// mode the primary waits for its flush at every COMMIT (`synchronous_standby_names = 'standby1'`);
/// in `.asynchronous` mode it does not. As root (CI), the servers run as the `postgres` system user.
final class StreamingPair: Sendable {
    /// Whether a COMMIT on the primary waits for the standby.
    enum Mode: String, Sendable {
        /// `synchronous_standby_names = 'standby1'`, `synchronous_commit = on`.
        case synchronous
        /// No synchronous standby: the standby may lag behind acknowledged commits.
        case asynchronous
    }

    /// The mode the pair was started in.
    let mode: Mode
    /// The temporary folder holding both servers.
    let folder: URL
    /// The primary's TCP port.
    let primaryPort: Int
    /// The standby's TCP port.
    let standbyPort: Int
    private let binaries: URL
    /// The primary's WAL sender while `stallReplication()` holds it stopped.
    private let stalledSender = NIOLockedValueBox<Int32?>(nil)

    private init(mode: Mode, folder: URL, primaryPort: Int, standbyPort: Int, binaries: URL) {
        self.mode = mode
        self.folder = folder
        self.primaryPort = primaryPort
        self.standbyPort = standbyPort
        self.binaries = binaries
    }

    /// Whether the PostgreSQL server programs this needs are installed.
    static var available: Bool {
        guard let binaries = try? LocalCluster.serverBinaries() else { return false }
        return FileManager.default.isExecutableFile(atPath: binaries.appendingPathComponent("pg_basebackup").path)
    }

    /// Creates the primary and its standby, starts both and waits until the standby streams
    /// (and, in `.synchronous` mode, until the primary counts it as its synchronous standby).
    static func start(_ mode: Mode) async throws -> StreamingPair {
        let folder = URL(fileURLWithPath: "/tmp/accord-fo-\(UUID().uuidString.prefix(8).lowercased())")
        let pair = StreamingPair(
            mode: mode,
            folder: folder,
            primaryPort: try freePort(),
            standbyPort: try freePort(),
            binaries: try LocalCluster.serverBinaries()
        )
        do {
            try await pair.create()
            return pair
        } catch {
            pair.tearDown()
            throw error
        }
    }

    /// The conninfo Accord is given: both hosts, and only a server that takes writes will do.
    var conninfo: String {
        "host=127.0.0.1,127.0.0.1 port=\(primaryPort),\(standbyPort) dbname=accord user=accord target_session_attrs=read-write connect_timeout=2"
    }

    /// A conninfo for one server of the pair alone.
    func conninfo(port: Int, database: String = "accord") -> String {
        "host=127.0.0.1 port=\(port) dbname=\(database) user=accord connect_timeout=2"
    }

    /// Stops the primary's WAL sender (SIGSTOP), as a congested link would: the primary goes on committing
    /// (asynchronous) or makes every COMMIT wait (synchronous), and the standby falls behind.
    func stallReplication() async throws {
        let pid = try await onPrimary { connection in
            try await connection.query("SELECT pid FROM pg_stat_replication WHERE application_name = 'standby1'").firstRow?.decode(Int32.self, "pid")
        }
        guard let pid, kill(pid, SIGSTOP) == 0 else { throw CLIError("cannot stop the primary's WAL sender") }
        stalledSender.withLockedValue { $0 = pid }
    }

    /// Crashes the primary (`pg_ctl stop -m immediate`): no checkpoint, sessions cut, as a power loss.
    /// A stalled WAL sender is killed first, so what it held back never reaches the standby.
    func stopPrimary() async throws {
        if let pid = stalledSender.withLockedValue({ $0 }) { kill(pid, SIGKILL) }
        try await offload { try self.serverTool("pg_ctl", ["-D", self.data("primary"), "-m", "immediate", "-w", "-s", "stop"]) }
    }

    /// Promotes the standby to primary and waits until it takes writes.
    func promoteStandby() async throws {
        try await offload { try self.serverTool("pg_ctl", ["-D", self.data("standby"), "-w", "-t", "60", "-s", "promote"]) }
    }

    /// How many bytes of WAL the primary has written that the standby has not replayed yet.
    func replicationLag() async throws -> Int64 {
        try await onPrimary { connection in
            try await connection.query(
                "SELECT coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::bigint AS lag FROM pg_stat_replication WHERE application_name = 'standby1'"
            ).firstRow?.decode(Int64.self, "lag") ?? -1
        }
    }

    /// Stops both servers (whatever state they are in) and removes the folder.
    func tearDown() {
        for server in ["primary", "standby"] where FileManager.default.fileExists(atPath: data(server) + "/postmaster.pid") {
            try? serverTool("pg_ctl", ["-D", data(server), "-m", "immediate", "-w", "-s", "stop"])
        }
        try? FileManager.default.removeItem(at: folder)
    }

    // MARK: - Set-up

    private func create() async throws {
        try prepareFolders()
        try await offload {
            try self.serverTool("initdb", ["-D", self.data("primary"), "-U", "accord", "--auth=trust", "-E", "UTF8", "--no-locale"])
            try self.append(
                "postgresql.conf",
                of: "primary",
                """
                listen_addresses = '127.0.0.1'
                port = \(self.primaryPort)
                unix_socket_directories = '\(self.folder.appendingPathComponent("primary").path)'
                wal_level = replica
                max_wal_senders = 5
                hot_standby = on
                max_connections = 100
                timezone = 'UTC'
                """
            )
            // Trust, but on the loopback address only, and the sockets sit in folders only postgres enters.
            try """
            local all all trust
            host replication all 127.0.0.1/32 trust
            host all all 127.0.0.1/32 trust

            """.write(toFile: self.data("primary") + "/pg_hba.conf", atomically: false, encoding: .utf8)
            try self.startServer("primary")
        }
        try await onPrimary { try await $0.executeScript("CREATE DATABASE accord") }
        try await offload {
            try self.serverTool(
                "pg_basebackup",
                [
                    "-d", "host=127.0.0.1 port=\(self.primaryPort) user=accord application_name=standby1", "-D", self.data("standby"), "-R", "-X",
                    "stream", "-c", "fast",
                ]
            )
            // `-c fast`: the default spread checkpoint makes the copy wait a minute and a half for nothing.
            // The copied postgresql.conf names the primary's port and socket folder; later lines win.
            try self.append(
                "postgresql.conf",
                of: "standby",
                "port = \(self.standbyPort)\nunix_socket_directories = '\(self.folder.appendingPathComponent("standby").path)'"
            )
            try self.startServer("standby")
        }
        // Set after the copy, so the standby, once promoted, does not wait for a standby of its own.
        if mode == .synchronous {
            try await onPrimary { connection in
                try await connection.executeScript("ALTER SYSTEM SET synchronous_standby_names = 'standby1'")
                try await connection.executeScript("ALTER SYSTEM SET synchronous_commit = on")
                try await connection.executeScript("SELECT pg_reload_conf()")
            }
        }
        let wanted = mode == .synchronous ? "sync" : "async"
        for _ in 0..<300 {
            let state = try await onPrimary { connection in
                try await connection.query("SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1' AND state = 'streaming'")
                    .firstRow?.decode(String.self, "sync_state")
            }
            if state == wanted { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CLIError("the standby did not become '\(wanted)' within 30 s (logs in \(folder.path))")
    }

    private func prepareFolders() throws {
        let fm = FileManager.default
        try fm.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        for server in ["primary", "standby"] {
            try fm.createDirectory(
                at: folder.appendingPathComponent(server),
                withIntermediateDirectories: false,
                attributes: [.posixPermissions: 0o700]
            )
        }
        guard geteuid() == 0 else { return }
        guard let account = getpwnam("postgres") else { throw CLIError("running as root, but there is no 'postgres' user to run PostgreSQL as") }
        chmod(folder.path, 0o711)  // not under the umask
        for server in ["primary", "standby"] {
            chown(folder.appendingPathComponent(server).path, account.pointee.pw_uid, account.pointee.pw_gid)
        }
    }

    private func data(_ server: String) -> String { folder.appendingPathComponent(server).appendingPathComponent("data").path }

    private func startServer(_ server: String) throws {
        let log = folder.appendingPathComponent(server).appendingPathComponent("postgresql.log").path
        try serverTool("pg_ctl", ["-D", data(server), "-l", log, "-w", "-t", "60", "-s", "start"])
    }

    /// Appends settings to a configuration file of a server (root may write postgres's files; the owner stays).
    private func append(_ file: String, of server: String, _ lines: String) throws {
        let path = data(server) + "/" + file
        guard let handle = FileHandle(forWritingAtPath: path) else { throw CLIError("cannot write \(path)") }
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data(("\n# Set by the failover test\n" + lines + "\n").utf8))
    }

    /// Runs a PostgreSQL program to its end, as `postgres` when this process is root; throws on failure.
    private func serverTool(_ name: String, _ arguments: [String]) throws {
        let tool = binaries.appendingPathComponent(name)
        let (executable, args) =
            geteuid() == 0
            ? (URL(fileURLWithPath: "/usr/sbin/runuser"), ["-u", "postgres", "--", tool.path] + arguments) : (tool, arguments)
        // LocalCluster's posix_spawn: `pg_ctl start` leaves a daemon that would hold a Process pipe open.
        let result = try LocalCluster.capture(executable, args)
        guard result.status == 0 else {
            throw CLIError("\(name) \(arguments.joined(separator: " ")) exited with \(result.status): \(result.output.suffix(600))")
        }
    }

    /// Runs blocking work (a child process to its end) off the cooperative pool.
    private func offload(_ work: @escaping @Sendable () throws -> Void) async throws {
        try await NIOThreadPool.singleton.runIfActive(work)
    }

    /// Runs `body` on a connection to the primary's `postgres` database.
    private func onPrimary<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let pool = PostgresPool(configuration: .init(conninfo: conninfo(port: primaryPort, database: "postgres"), maxConnections: 1))
        do {
            let result = try await pool.withConnection { try await body($0) }
            try await pool.close()
            return result
        } catch {
            try? await pool.close()
            throw error
        }
    }

    /// A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick for port 0).
    private static func freePort() throws -> Int {
        #if os(Linux)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw CLIError("cannot open a socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw CLIError("cannot find a free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
