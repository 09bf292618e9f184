public import AccordCore
import Crypto
import Foundation

/// Checks an evidence pack offline, with no database: the ZIP's structure, every file against the
/// manifest and the manifest against the seal, every link of the audit chain, the checkpoint against
/// the chain's head, and every signature's binding to the evidence it names. With the audit key, also
/// the MACs of the seal, the checkpoint and the signatures. Names each problem.
public func verifyPack(path: String, key: AuditKey?) -> PackVerification {
    var result = PackVerification(
        program: nil,
        files: 0,
        evidence: 0,
        signatures: 0,
        auditEntries: 0,
        checkpointChecked: false,
        macsChecked: key != nil,
        problems: []
    )
    let reader: PackZipReader
    do { reader = try PackZipReader(path: path) } catch {
        result.problems.append("\(error)")
        return result
    }
    defer { reader.close() }
    let decoder = packDecoder()
    var byName: [String: PackZipReader.Entry] = [:]
    for entry in reader.entries {
        if byName.updateValue(entry, forKey: entry.name) != nil { result.problems.append("'\(entry.name)' is in the pack twice") }
    }
    func load<T: Decodable>(_ name: String, as type: T.Type) -> (T, [UInt8])? {
        guard let entry = byName[name] else {
            result.problems.append("'\(name)' is missing")
            return nil
        }
        do {
            let bytes = try reader.bytes(entry)
            return (try decoder.decode(T.self, from: Data(bytes)), bytes)
        } catch {
            result.problems.append("'\(name)' cannot be read: \(error)")
            return nil
        }
    }
    guard let (manifest, manifestBytes) = load("manifest.json", as: PackManifest.self), let (seal, _) = load("seal.json", as: PackSeal.self) else {
        return result
    }
    result.program = manifest.program.slug
    if manifest.format != packFormat { result.problems.append("manifest.json: unknown format '\(manifest.format)'") }
    let manifestSHA = hexString(Array(SHA256.hash(data: manifestBytes)))
    if seal.manifestSHA256 != manifestSHA { result.problems.append("manifest.json does not match the SHA-256 in seal.json: the manifest was edited") }
    if let key {
        if seal.keyID != key.id {
            result.problems.append("seal.json was made with audit key \(seal.keyID), not the one given (\(key.id))")
        } else if !(hexBytes(seal.mac).map { key.verify($0, for: PackSeal.canonical(seal.manifestSHA256, keyID: seal.keyID)) } ?? false) {
            result.problems.append("seal.json's MAC does not match under the audit key: the seal was forged")
        }
    }

    // Every file against the manifest, and nothing beside it.
    let listed = Dictionary(manifest.files.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
    for entry in reader.entries where entry.name != "manifest.json" && entry.name != "seal.json" {
        guard let file = listed[entry.name] else {
            result.problems.append("'\(entry.name)' is in the pack but not in the manifest: it was added")
            continue
        }
        result.files += 1
        do {
            let sha = try reader.stream(entry)
            if entry.size != file.size || sha != file.sha256 {
                result.problems.append("'\(entry.name)' does not match the manifest (size or SHA-256): it was changed")
            }
        } catch {
            result.problems.append("\(error)")
        }
    }
    for file in manifest.files where byName[file.path] == nil {
        result.problems.append("'\(file.path)' is in the manifest but not in the pack: it was removed")
    }

    // Evidence records against their files.
    let evidence = load("evidence.json", as: [PackEvidence].self)?.0 ?? []
    result.evidence = evidence.count
    for item in evidence {
        guard let file = listed[item.path] else {
            result.problems.append("evidence \(item.id) ('\(item.title)' version \(item.version)): its file '\(item.path)' is not in the manifest")
            continue
        }
        if file.sha256 != item.sha256 || file.size != UInt64(item.size) {
            result.problems.append(
                "evidence \(item.id) ('\(item.title)' version \(item.version)): the file does not match the SHA-256 recorded at upload"
            )
        }
    }

    // The audit chain, link by link, and the checkpoint on its head.
    var previous: [UInt8]?
    var chainName: String?
    if let entry = byName["audit/program.jsonl"] {
        var pending: [UInt8] = []
        var expected: Int64 = 1
        var broken = false
        func line(_ bytes: ArraySlice<UInt8>) {
            guard !broken else { return }
            guard let item = try? decoder.decode(PackAuditEntry.self, from: Data(bytes)) else {
                result.problems.append("audit/program.jsonl: line \(expected) is not an audit entry")
                broken = true
                return
            }
            chainName = item.chain
            let content = AuditEntryContent(
                chain: item.chain,
                seq: item.seq,
                recordedAtMicros: item.recordedAtMicros,
                actor: item.actor,
                action: item.action,
                objectType: item.objectType,
                objectID: item.objectID,
                before: item.before,
                after: item.after,
                reason: item.reason,
                origin: item.origin
            )
            if item.seq != expected {
                result.problems.append("audit: entry \(item.seq) stands at position \(expected): an entry is missing or was inserted")
                broken = true
            } else if item.prevHash.flatMap(hexBytes) != previous {
                result.problems.append("audit: entry \(item.seq) does not point to the hash of entry \(item.seq - 1)")
                broken = true
            } else if hexString(content.hash(previous: previous)) != item.hash {
                result.problems.append("audit: entry \(item.seq) (\(item.action) by \(item.actor)) was altered: its content does not match its hash")
                broken = true
            } else {
                previous = hexBytes(item.hash)
                result.auditEntries += 1
                expected += 1
            }
        }
        do {
            _ = try reader.stream(entry) { chunk in
                pending += chunk
                var start = pending.startIndex
                while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    line(pending[start..<newline])
                    start = newline + 1
                }
                pending.removeSubrange(..<start)
            }
            if !pending.isEmpty { result.problems.append("audit/program.jsonl: the last line is cut") }
        } catch {
            result.problems.append("\(error)")
        }
    } else {
        result.problems.append("'audit/program.jsonl' is missing")
    }
    if let (checkpoint, _) = load("audit/checkpoint.json", as: Checkpoint.self) {
        result.checkpointChecked = true
        if let chainName, checkpoint.chain != chainName {
            result.problems.append("audit/checkpoint.json is for chain \(checkpoint.chain), not \(chainName)")
        }
        if Int64(result.auditEntries) != checkpoint.position || hexString(previous ?? []) != checkpoint.headSHA256 {
            result.problems.append(
                "the audit chain ends at entry \(result.auditEntries), but the checkpoint of \(checkpoint.at) saw entry \(checkpoint.position) with another head: the chain was cut or rewritten"
            )
        }
        if let key, !checkpoint.isAuthentic(under: key) { result.problems.append("audit/checkpoint.json's MAC does not match under the audit key") }
    }

    // Signatures: each bound to the evidence it names.
    let digests = Set(evidence.map { "\($0.taskID)|\($0.title)|\($0.version)|\($0.sha256)" })
    let signatures = load("signatures.json", as: [PackSignature].self)?.0 ?? []
    // Done tasks against their policies (packs made before approvals.json was added have none to check).
    if byName["approvals.json"] != nil {
        for task in load("approvals.json", as: [DoneTaskCheck].self)?.0 ?? [] {
            if let problem = task.problem(packSignatures: signatures) { result.problems.append(problem) }
        }
    }
    for signature in signatures {
        result.signatures += 1
        let subject = SignedSubject(
            taskID: signature.subject.taskID,
            taskRef: signature.subject.taskRef,
            evidenceVersion: signature.subject.evidenceVersion,
            evidence: signature.subject.evidence
        )
        if hexString(subject.sha256) != signature.subjectSHA256 || signature.subject.taskRef != signature.task
            || signature.subject.evidenceVersion != signature.evidenceVersion
        {
            result.problems.append(
                "signature \(signature.id) on \(signature.task) by \(signature.signer): what it signed does not match its subject hash"
            )
        }
        for digest in signature.subject.evidence
        where !digests.contains("\(signature.subject.taskID)|\(digest.title)|\(digest.version)|\(digest.sha256)") {
            result.problems.append(
                "signature \(signature.id) on \(signature.task) names '\(digest.title)' version \(digest.version), which the pack does not hold with that SHA-256"
            )
        }
        if let key {
            let content = SignatureContent(
                taskID: signature.subject.taskID,
                taskRef: signature.task,
                reviewRound: signature.reviewRound,
                evidenceVersion: signature.evidenceVersion,
                signer: signature.signer,
                printedName: signature.printedName,
                signedAtMicros: signature.signedAtMicros,
                decision: signature.decision.rawValue,
                meaning: signature.meaning.rawValue,
                comment: signature.comment,
                role: signature.role,
                onBehalfOf: signature.onBehalfOf,
                authMethod: signature.authMethod,
                subjectSHA256: hexBytes(signature.subjectSHA256) ?? []
            )
            if signature.keyID != key.id || !(hexBytes(signature.mac).map { key.verify($0, for: content.canonicalBytes) } ?? false) {
                result.problems.append(
                    "signature \(signature.id) on \(signature.task) by \(signature.signer) does not match its MAC: it was altered or forged"
                )
            }
        }
    }
    return result
}

extension PackVerification {
    /// What `accord verify-pack` and `accord-verify-pack` print: one line on standard output when the pack
    /// holds, or one line per problem and a last line on standard error.
    public func lines(for pack: String, keyID: String?) -> (out: [String], err: [String]) {
        guard !ok else {
            return (
                [
                    "\(pack): ok: program \(program ?? "?"), \(files) files match the manifest and its seal; \(evidence) evidence file(s) match their SHA-256; "
                        + "\(auditEntries) audit entries chain and end at the checkpoint; \(signatures) signature(s) bind the evidence they name; "
                        + (macsChecked ? "MACs checked with key \(keyID ?? "")" : "MACs not checked (no audit key given)")
                ], []
            )
        }
        return ([], problems.map { "\(pack): \($0)" } + ["\(pack): \(problems.count) problem(s): the pack cannot be trusted"])
    }
}
