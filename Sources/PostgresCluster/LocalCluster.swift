import CLibPQ
public import Foundation
import Postgres

/// A private PostgreSQL cluster in a folder, reachable only through a Unix socket inside it,
/// as embedded-postgres libraries run one: `initdb` on first use, `pg_ctl start`, then a database.
///
/// The server keeps running between commands until `stop()`. PostgreSQL refuses to run as root, so
/// when this process is root the server runs as the `postgres` system user, which must be able to
/// reach the folder.
public struct LocalCluster: Sendable {
    /// The folder that holds the cluster (`ACCORD_HOME`).
    public let home: URL
    /// The database Accord uses inside the cluster.
    public let databaseName = "accord"
    /// The cluster's superuser, created by `initdb`.
    public let userName = "accord"
    /// The port number in the socket's name; nothing listens on TCP.
    public let port = 5432

    /// Creates a handle on the cluster in `home`; nothing happens on disk until `start()`.
    public init(home: URL) {
        self.home = home.standardizedFileURL
    }

    /// `ACCORD_HOME` when set, else `~/.accord`, or `/var/lib/accord` for root (whose home the
    /// `postgres` user cannot enter).
    public static func defaultHome(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let home = environment["ACCORD_HOME"], !home.isEmpty { return URL(fileURLWithPath: home) }
        if geteuid() == 0 { return URL(fileURLWithPath: "/var/lib/accord") }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".accord")
    }

    /// The PostgreSQL data folder.
    public var dataDirectory: URL { home.appendingPathComponent("pgdata") }
    /// The folder holding the server's Unix socket.
    public var socketDirectory: URL { home.appendingPathComponent("run") }
    /// The server's log.
    public var logFile: URL { home.appendingPathComponent("log").appendingPathComponent("postgresql.log") }

    /// The libpq conninfo for Accord's database, e.g. for `psql "$(accord db url)"`.
    public var conninfo: String { conninfo(database: databaseName) }

    /// The libpq conninfo for a database of this cluster, as its superuser or another role.
    public func conninfo(database: String, user: String? = nil) -> String {
        "host=\(quoteConninfo(socketDirectory.path)) port=\(port) user=\(quoteConninfo(user ?? userName)) dbname=\(quoteConninfo(database))"
    }

    /// The libpq conninfo for Accord's database as another role (the application's own login).
    public func conninfo(user: String) -> String { conninfo(database: databaseName, user: user) }

    /// Whether the cluster exists and runs.
    public enum Status: Sendable, Equatable {
        /// No cluster has been created in the folder.
        case notInitialised
        /// The cluster exists but no server runs.
        case stopped
        /// The server runs with this process id.
        case running(pid: Int32)
    }

    /// Reads the server's pid file and checks that the process lives.
    public func status() -> Status {
        let fm = FileManager.default
        guard fm.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path) else { return .notInitialised }
        guard let text = try? String(contentsOf: dataDirectory.appendingPathComponent("postmaster.pid"), encoding: .utf8),
            let pid = Int32(text.split(separator: "\n").first ?? "")
        else { return .stopped }
        if kill(pid, 0) == 0 || errno == EPERM { return .running(pid: pid) }
        return .stopped
    }

    /// Creates the cluster if needed, starts the server if it is not running, and creates Accord's
    /// database. Safe to call from several processes at once. Returns `true` when it started the server.
    @discardableResult
    public func start() throws -> Bool {
        try prepareFolders()
        return try withFileLock {
            let binaries = try Self.serverBinaries()
            if status() == .notInitialised { try initialise(binaries) }
            var started = false
            if case .running = status() {
            } else {
                try runServerTool(
                    binaries.appendingPathComponent("pg_ctl"),
                    ["-D", dataDirectory.path, "-l", logFile.path, "-w", "-t", "60", "-s", "start"],
                    what: "start the embedded PostgreSQL (log: \(logFile.path))"
                )
                started = true
            }
            try ensureDatabase()
            return started
        }
    }

    /// Stops the server (fast shutdown: open sessions are ended, committed work is kept).
    /// Returns `false` when it was not running.
    @discardableResult
    public func stop() throws -> Bool {
        guard case .running = status() else { return false }
        return try withFileLock {
            guard case .running = status() else { return false }
            let binaries = try Self.serverBinaries()
            try runServerTool(
                binaries.appendingPathComponent("pg_ctl"),
                ["-D", dataDirectory.path, "-m", "fast", "-w", "-t", "60", "-s", "stop"],
                what: "stop the embedded PostgreSQL"
            )
            return true
        }
    }

    /// Stops and starts the server, as an operator's restart would.
    public func restart() throws {
        try stop()
        try start()
    }

    /// The folder with `initdb`, `pg_ctl` and `postgres`: `ACCORD_PG_BINDIR`, then `pg_config --bindir`,
    /// then the newest `/usr/lib/postgresql/*/bin`, then `PATH`.
    public static func serverBinaries(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        systemFolder: String = "/usr/lib/postgresql"
    ) throws -> URL {
        let fm = FileManager.default
        func hasServer(_ dir: String) -> Bool {
            fm.isExecutableFile(atPath: dir + "/initdb") && fm.isExecutableFile(atPath: dir + "/pg_ctl")
                && fm.isExecutableFile(atPath: dir + "/postgres")
        }
        var candidates: [String] = []
        if let dir = environment["ACCORD_PG_BINDIR"], !dir.isEmpty { candidates.append(dir) }
        for dir in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let pgConfig = "\(dir)/pg_config"
            if fm.isExecutableFile(atPath: pgConfig), let out = try? capture(URL(fileURLWithPath: pgConfig), ["--bindir"]), out.status == 0 {
                candidates.append(out.output.trimmingCharacters(in: .whitespacesAndNewlines))
                break
            }
        }
        let versions = ((try? fm.contentsOfDirectory(atPath: systemFolder)) ?? []).compactMap(Int.init).sorted(by: >)
        candidates += versions.map { "\(systemFolder)/\($0)/bin" }
        candidates += (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        if let found = candidates.first(where: hasServer) { return URL(fileURLWithPath: found) }
        throw ClusterError(
            "the PostgreSQL server programs (initdb, pg_ctl, postgres) were not found; install them with 'apt-get install postgresql' (Debian/Ubuntu), set ACCORD_PG_BINDIR to their folder, or use an existing server with --database or DATABASE_URL"
        )
    }

    // MARK: - Internals

    private var runsAsRoot: Bool { geteuid() == 0 }

    private func prepareFolders() throws {
        let socketPath = socketDirectory.path + "/.s.PGSQL.\(port)"
        guard socketPath.utf8.count < 104 else {
            throw ClusterError(
                "the socket path \(socketPath) is too long for a Unix socket (\(socketPath.utf8.count) bytes, 103 at most); choose a shorter ACCORD_HOME"
            )
        }
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            for dir in [socketDirectory, logFile.deletingLastPathComponent(), dataDirectory] where !fm.fileExists(atPath: dir.path) {
                try fm.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
        } catch {
            throw ClusterError("cannot create the cluster folder \(home.path): \(error.localizedDescription)")
        }
        guard runsAsRoot else { return }
        guard let account = getpwnam("postgres") else {
            throw ClusterError(
                "PostgreSQL refuses to run as root, and there is no 'postgres' system user to run it as; install the 'postgresql' package, or run accord as an ordinary user"
            )
        }
        let uid = account.pointee.pw_uid
        let gid = account.pointee.pw_gid
        // The postgres user must pass through every folder above the cluster.
        chmod(home.path, 0o711)
        var ancestor = home.deletingLastPathComponent()
        while ancestor.path != "/" {
            var info = stat()
            if stat(ancestor.path, &info) == 0, info.st_mode & 0o001 == 0, info.st_uid != uid {
                throw ClusterError(
                    "the 'postgres' user cannot enter \(ancestor.path), so it cannot run the cluster in \(home.path); set ACCORD_HOME to a folder it can reach, such as /var/lib/accord"
                )
            }
            ancestor = ancestor.deletingLastPathComponent()
        }
        for dir in [dataDirectory, socketDirectory, logFile.deletingLastPathComponent()] {
            chown(dir.path, uid, gid)
        }
    }

    private func initialise(_ binaries: URL) throws {
        try runServerTool(
            binaries.appendingPathComponent("initdb"),
            ["-D", dataDirectory.path, "-U", userName, "--auth=trust", "-E", "UTF8", "--no-locale"],
            what: "create the embedded PostgreSQL cluster in \(dataDirectory.path)"
        )
        // Only the Unix socket in our private folder: no TCP listener, so trust auth reaches nobody else.
        let settings = """

            # Set by accord: a private cluster, reachable only through the socket in \(socketDirectory.path).
            listen_addresses = ''
            unix_socket_directories = '\(socketDirectory.path.replacingOccurrences(of: "'", with: "''"))'
            unix_socket_permissions = 0700
            port = \(port)
            max_connections = 200
            timezone = 'UTC'
            log_timezone = 'UTC'

            """
        let conf = dataDirectory.appendingPathComponent("postgresql.conf")
        guard let handle = FileHandle(forWritingAtPath: conf.path) else {
            throw ClusterError("cannot write \(conf.path)")
        }
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data(settings.utf8))
    }

    private func ensureDatabase() throws {
        guard let handle = PQconnectdb(conninfo(database: "postgres")) else { throw ClusterError("out of memory") }
        defer { PQfinish(handle) }
        guard PQstatus(handle) == CONNECTION_OK else {
            throw ClusterError(
                "the embedded PostgreSQL started but refuses connections: \(PostgresConnection.lastError(handle)) (log: \(logFile.path))"
            )
        }
        let exists = withCStringArray([databaseName]) { values in
            PQexecParams(handle, "SELECT 1 FROM pg_database WHERE datname = $1", 1, nil, values, nil, nil, 0)
        }
        let found = PQntuples(exists) > 0
        PQclear(exists)
        guard !found else { return }
        let created = PQexec(handle, "CREATE DATABASE " + PostgresConnection.quoteIdentifier(databaseName))
        defer { PQclear(created) }
        let state = PQresultErrorField(created, 67).map { String(cString: $0) }
        // 42P04: created meanwhile by another process; fine.
        if PQresultStatus(created) != PGRES_COMMAND_OK && state != "42P04" {
            throw ClusterError("cannot create the database '\(databaseName)': \(PostgresConnection.lastError(handle))")
        }
    }

    /// Runs `body` holding an exclusive lock on the cluster folder, so concurrent `accord` processes
    /// do not initialise or start the cluster twice.
    private func withFileLock<T>(_ body: () throws -> T) throws -> T {
        let path = home.appendingPathComponent("cluster.lock").path
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ClusterError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw ClusterError("cannot lock \(path): \(String(cString: strerror(errno)))") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// Runs a server program, as the `postgres` user when this process is root.
    private func runServerTool(_ tool: URL, _ arguments: [String], what: String) throws {
        var executable = tool
        var args = arguments
        if runsAsRoot {
            executable = URL(fileURLWithPath: "/usr/sbin/runuser")
            if !FileManager.default.isExecutableFile(atPath: executable.path) { executable = URL(fileURLWithPath: "/sbin/runuser") }
            args = ["-u", "postgres", "--", tool.path] + arguments
        }
        let result: (status: Int32, output: String)
        do {
            result = try Self.capture(executable, args)
        } catch {
            throw ClusterError("cannot \(what): \(error.localizedDescription)")
        }
        guard result.status == 0 else {
            let lastLines = result.output.split(whereSeparator: \.isNewline).suffix(3).joined(separator: "; ")
            throw ClusterError("cannot \(what): \(tool.lastPathComponent) exited with status \(result.status): \(lastLines)")
        }
    }

    /// Runs a program to completion and returns its exit status and output.
    ///
    /// It uses `posix_spawn` and `waitpid` rather than Foundation's `Process`: `pg_ctl start` leaves a
    /// daemon behind, which would inherit the descriptor `Process` watches for the child's end and keep
    /// it open forever. Here the child gets only stdin (/dev/null) and a file for stdout and stderr.
    static func capture(_ executable: URL, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("accord-\(UUID().uuidString).out").path
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        for fd in inheritableDescriptors() { posix_spawn_file_actions_addclose(&actions, fd) }
        var pid: pid_t = 0
        // Run from a folder any user can enter (as `postgres`, the caller's folder may be closed to it);
        // the arguments pass through as positional parameters, never parsed by the shell.
        let shell = "/bin/sh"
        let argv = [shell, "-c", "cd / && exec \"$0\" \"$@\"", executable.path] + arguments
        let status = withCStringArray(argv) { args in
            withCStringArray(ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }) { env in
                posix_spawn(
                    &pid,
                    shell,
                    &actions,
                    nil,
                    UnsafeMutablePointer(mutating: args).withMemoryRebound(to: UnsafeMutablePointer<CChar>?.self, capacity: argv.count + 1) { $0 },
                    UnsafeMutablePointer(mutating: env).withMemoryRebound(to: UnsafeMutablePointer<CChar>?.self, capacity: 1) { $0 }
                )
            }
        }
        guard status == 0 else {
            throw ClusterError("cannot run \(executable.path): \(String(cString: strerror(status)))")
        }
        var waitStatus: Int32 = 0
        while waitpid(pid, &waitStatus, 0) < 0 {
            guard errno == EINTR else { throw ClusterError("cannot wait for \(executable.path): \(String(cString: strerror(errno)))") }
        }
        let exitCode: Int32 = (waitStatus & 0x7f) == 0 ? (waitStatus >> 8) & 0xff : 128 + (waitStatus & 0x7f)
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return (exitCode, text)
    }

    /// Open descriptors above stderr that a child would inherit (no close-on-exec flag).
    private static func inheritableDescriptors() -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.compactMap(Int32.init).filter { fd in
            guard fd > 2 else { return false }
            let flags = fcntl(fd, F_GETFD)
            return flags >= 0 && flags & FD_CLOEXEC == 0
        }
    }
}

/// A problem creating, starting or stopping the embedded cluster; the message says what to do.
public struct ClusterError: Error, Sendable, CustomStringConvertible {
    /// One line for the operator.
    public let message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    /// The message, as printed to the operator.
    public var description: String { message }
}
