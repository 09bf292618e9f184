import ArgumentParser

/// `accord audit`: the hash-chained audit trail.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read, verify and checkpoint the tamper-evident audit trail.",
        subcommands: [AuditLog.self, AuditVerify.self, AuditCheckpoint.self]
    )
}
