import AccordCore
import Foundation
import Postgres

extension Store {
    /// The providers people may log in with, for the login page: open to anybody.
    public func ssoIssuers() async throws -> [SSOIssuer] {
        try await pool.withConnection { try await $0.query(SSOSQL.issuers) }
    }

    /// Adds an OpenID provider (an administrator). Its client secret, if any, is sealed under a key derived
    /// from the audit key, so a copy of the database alone does not give it away.
    public func addSSOIssuer(
        _ issuer: String,
        displayName: String,
        clientID: String,
        clientSecret: String?,
        linkByEmail: Bool,
        groupsClaim: String = "groups",
        actor: String?
    ) async throws -> SSOIssuer {
        guard acceptableIssuer(issuer), issuer.count <= 300 else {
            throw AccordError(
                .invalid,
                "the issuer must be an https:// URL without query or fragment (plain http only on 127.0.0.1 or localhost)",
                field: "issuer"
            )
        }
        let name = displayName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...80).contains(name.count) else { throw AccordError(.invalid, "a display name has 1 to 80 characters", field: "name") }
        let client = clientID.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...300).contains(client.count) else { throw AccordError(.invalid, "a client id has 1 to 300 characters", field: "client-id") }
        guard !groupsClaim.isEmpty, groupsClaim.count <= 100 else { throw AccordError(.invalid, "name the groups claim", field: "groups-claim") }
        let sealed = try clientSecret.map { secret -> [UInt8] in
            let secret = secret.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !secret.isEmpty else { throw AccordError(.invalid, "the client secret file is empty", field: "client-secret-file") }
            return try sealClientSecret(secret)
        }
        return try await pool.withTransaction { connection in
            let acting = try await Self.requireAdministrator(actor, to: "adds identity providers", on: connection)
            guard let added = try await connection.queryFirst(SSOSQL.addIssuer, issuer, name, client, sealed, linkByEmail, groupsClaim) else {
                throw AccordError(.conflict, "\(issuer) is already an identity provider; remove it first to change it")
            }
            try await connection.appendAudit(
                AuditRecord(
                    chain: organisationChain,
                    actor: acting.handle,
                    action: "sso.issuer-add",
                    objectType: "sso_issuer",
                    objectID: String(added.id),
                    after: auditJSON(SSOIssuerAudit(issuer: issuer, name: name, clientID: client, secret: sealed != nil, linkByEmail: linkByEmail))
                )
            )
            return added
        }
    }

    /// Removes a provider: nobody logs in with it any more and the sessions opened through it end.
    public func removeSSOIssuer(_ id: Int64, actor: String?) async throws {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireAdministrator(actor, to: "removes identity providers", on: connection)
            guard try await connection.execute(SSOSQL.removeIssuer, id) == 1 else { throw AccordError(.notFound, "no identity provider \(id)") }
            let ended = try await connection.execute(SSOSQL.endIssuerSessions, id)
            try await connection.appendAudit(
                AuditRecord(
                    chain: organisationChain,
                    actor: acting.handle,
                    action: "sso.issuer-remove",
                    objectType: "sso_issuer",
                    objectID: String(id),
                    after: auditJSON(["sessions_ended": String(ended)])
                )
            )
        }
    }

    /// Links a person to an identity at a provider (an administrator): the way an administrator's own
    /// account is linked, since a first SSO login never links to one.
    public func linkSSOIdentity(_ handle: String, issuer id: Int64, subject: String, actor: String?) async throws {
        let subject = subject.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...255).contains(subject.count) else { throw AccordError(.invalid, "a subject has 1 to 255 characters", field: "subject") }
        try await pool.withTransaction { connection in
            let acting = try await Self.requireAdministrator(actor, to: "links SSO identities", on: connection)
            let person = try await Self.person(handle, on: connection)
            guard try await connection.queryFirst(SSOSQL.issuer, id) != nil else { throw AccordError(.notFound, "no identity provider \(id)") }
            do {
                _ = try await connection.queryOne(SSOSQL.link, id, subject, person.id, acting.handle)
            } catch let error as PostgresError where error.sqlState == "23505" {
                throw AccordError(.conflict, "that identity, or an identity of \(handle) at this provider, is already linked; unlink it first")
            }
            try await connection.appendAudit(
                AuditRecord(
                    chain: organisationChain,
                    actor: acting.handle,
                    action: "sso.link",
                    objectType: "person",
                    objectID: handle,
                    after: auditJSON(["issuer": String(id), "subject": subject, "by": "administrator"])
                )
            )
        }
    }

    /// Unlinks a person from a provider (an administrator); the sessions opened through it end.
    public func unlinkSSOIdentity(_ handle: String, issuer id: Int64, actor: String?) async throws {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireAdministrator(actor, to: "unlinks SSO identities", on: connection)
            let person = try await Self.person(handle, on: connection)
            let ended = try await connection.execute(SSOSQL.detachSessions, id, person.id)
            guard try await connection.execute(SSOSQL.unlink, id, person.id) == 1 else {
                throw AccordError(.notFound, "\(handle) has no identity at provider \(id)")
            }
            try await connection.appendAudit(
                AuditRecord(
                    chain: organisationChain,
                    actor: acting.handle,
                    action: "sso.unlink",
                    objectType: "person",
                    objectID: handle,
                    after: auditJSON(["issuer": String(id), "sessions_ended": String(ended)])
                )
            )
        }
    }

    /// A person's linked identities: their own, or anyone's for an administrator.
    public func ssoIdentities(of handle: String, actor: String?) async throws -> [SSOLinkedIdentity] {
        try await pool.withConnection { connection in
            let acting = try await Self.requireActor(actor, on: connection)
            guard acting.handle == handle || acting.isAdmin else { throw AccordError(.forbidden, "only \(handle) or an administrator sees this") }
            return try await connection.query(SSOSQL.identities, try await Self.person(handle, on: connection).id)
        }
    }

    /// Whether local passwords log in and sign, and who the break-glass administrators are.
    public func ssoSettings() async throws -> (localPasswords: Bool, breakGlass: [String]) {
        try await pool.withConnection { try await $0.queryOne(SSOSQL.settings) }
    }

    /// Turns local passwords off (or on) for everyone but the break-glass administrators named, who keep
    /// theirs for when the provider is down. Turning them off needs at least one break-glass administrator
    /// and a provider.
    public func setLocalPasswords(_ enabled: Bool, breakGlass handles: [String], actor: String?) async throws {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireAdministrator(actor, to: "turns local passwords on or off", on: connection)
            let current = try await connection.queryOne(SSOSQL.settings)
            var named: [Person] = []
            for handle in handles {
                let person = try await Self.person(handle, on: connection)
                guard person.isAdmin, !person.disabled else {
                    throw AccordError(.invalid, "a break-glass account is an enabled administrator; \(handle) is not", field: "break-glass")
                }
                named.append(person)
            }
            if !enabled {
                guard !(named.isEmpty && current.breakGlass.isEmpty) else {
                    throw AccordError(
                        .invalid,
                        "name a break-glass administrator who keeps a password, for when the provider is down",
                        field: "break-glass"
                    )
                }
                guard !(try await connection.query(SSOSQL.issuers)).isEmpty else {
                    throw AccordError(.conflict, "add an identity provider first: with no provider and no passwords nobody could log in")
                }
            }
            _ = try await connection.execute(SSOSQL.setLocalPasswords, enabled)
            for person in named { _ = try await connection.execute(SSOSQL.setBreakGlass, person.id, true) }
            try await connection.appendAudit(
                AuditRecord(
                    chain: organisationChain,
                    actor: acting.handle,
                    action: "sso.local-passwords",
                    objectType: "organisation",
                    objectID: "passwords",
                    after: auditJSON(SSOPasswordsAudit(enabled: enabled, breakGlass: (current.breakGlass + handles).uniqued()))
                )
            )
        }
    }

    /// The group rules.
    public func ssoGroupRules(actor: String?) async throws -> [SSOGroupRule] {
        try await pool.withConnection { connection in
            _ = try await Self.requireAdministrator(actor, to: "sees group rules", on: connection)
            return try await connection.query(SSOSQL.rules)
        }
    }

    /// Adds a group rule (an administrator): members of the provider group hold the role in the program,
    /// from their next SSO login or provisioning on.
    public func addSSOGroupRule(group: String, program slug: String, role: String, actor: String?) async throws -> SSOGroupRule {
        let group = group.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(group.count) else { throw AccordError(.invalid, "a group name has 1 to 200 characters", field: "group") }
        return try await pool.withTransaction { connection in
            let acting = try await Self.requireAdministrator(actor, to: "adds group rules", on: connection)
            let program = try await Self.visibleProgram(slug, for: acting, on: connection)
            let workflow = try await Self.workflow(program.workflowID, version: program.workflowVersion, on: connection)
            guard workflow.role(role) != nil else {
                throw AccordError(
                    .notFound,
                    "workflow \(workflow.id) has no role '\(role)' (roles: \(workflow.roles.map(\.key).joined(separator: ", ")))"
                )
            }
            guard let id = try await connection.queryFirst(SSOSQL.addRule, group, program.id, role) else {
                throw AccordError(.conflict, "members of '\(group)' already hold \(role) in \(slug)")
            }
            try await connection.appendAudit(
                AuditRecord(
                    chain: programChain(slug),
                    actor: acting.handle,
                    action: "sso.rule-add",
                    objectType: "sso_group_rule",
                    objectID: String(id),
                    after: auditJSON(["group": group, "role": role])
                )
            )
            return try await connection.query(SSOSQL.rules).first { $0.id == id }!
        }
    }

    /// Removes a group rule; the bindings it made go at each member's next login or provisioning change,
    /// when the rules are applied again.
    public func removeSSOGroupRule(_ id: Int64, actor: String?) async throws {
        try await pool.withTransaction { connection in
            let acting = try await Self.requireAdministrator(actor, to: "removes group rules", on: connection)
            guard let removed = try await connection.queryFirst(SSOSQL.removeRule, id) else { throw AccordError(.notFound, "no group rule \(id)") }
            let program = try await Self.programRow(removed.programID, on: connection)
            try await connection.appendAudit(
                AuditRecord(
                    chain: programChain(program.slug),
                    actor: acting.handle,
                    action: "sso.rule-remove",
                    objectType: "sso_group_rule",
                    objectID: String(id),
                    after: auditJSON(["group": removed.group, "role": removed.role])
                )
            )
        }
    }
}

private struct SSOIssuerAudit: Encodable {
    var issuer: String
    var name: String
    var clientID: String
    var secret: Bool
    var linkByEmail: Bool
}

private struct SSOPasswordsAudit: Encodable {
    var enabled: Bool
    var breakGlass: [String]
}

extension Array where Element: Hashable {
    fileprivate func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
