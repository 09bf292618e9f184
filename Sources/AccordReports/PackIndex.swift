import AccordCore
public import AccordPack
public import AccordStore
public import Foundation

/// `index.html` of an evidence pack: one self-contained, printable page (inline style, no scripts,
/// nothing fetched), so an auditor can read the pack in any browser, offline.
func packIndexHTML(_ index: PackIndex) -> String {
    let reports = index.reports.map(Report.init)
    let evidence = index.evidence
    let signatures = index.signatures
    let checkpoint = index.checkpoint
    func e(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
    func table(_ header: [String], _ rows: [[String]]) -> String {
        guard !rows.isEmpty else { return "<p class=\"muted\">None.</p>\n" }
        return "<table><thead><tr>" + header.map { "<th>\(e($0))</th>" }.joined() + "</tr></thead><tbody>\n"
            + rows.map { "<tr>" + $0.map { "<td>\(e($0))</td>" }.joined() + "</tr>\n" }.joined() + "</tbody></table>\n"
    }
    let format = ISO8601DateFormatter()
    var html = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Evidence pack: \(e(index.programTitle))</title>
        <style>
        body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 75rem; padding: 0 1rem; color: #1b1f24; }
        h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ccd; } h3 { font-size: 1.05rem; }
        table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: 12px; }
        th, td { border: 1px solid #ccd; padding: .25rem .4rem; text-align: left; vertical-align: top; word-break: break-word; }
        th { background: #f1f3f6; } code { font-size: 11px; } .muted { color: #5b6470; }
        @media print { body { margin: 0; max-width: none; } h2 { break-before: page; } h2:first-of-type { break-before: auto; } }
        </style></head><body>
        <h1>Evidence pack: \(e(index.programTitle))</h1>
        <p>Program <code>\(e(index.programSlug))</code> · \(e(index.workflowTitle)) (\(e(index.workflowID)) version \(index.workflowVersion)) · started \(index.startsOn)</p>
        <p class="muted">Exported \(e(index.exportedAt)) by \(e(index.exportedBy)). Every file of this pack is listed with its SHA-256 in <code>manifest.json</code>,
        sealed in <code>seal.json</code>. Check it offline with <code>accord verify-pack FILE.zip</code> (add the audit key to check the MACs).</p>
        <h2>Contents</h2>
        <ul><li>\(evidence.count) evidence file(s): <code>evidence/</code>, described in <code>evidence.json</code></li>
        <li>\(signatures.count) signature(s) with what each signed: <code>signatures.json</code></li>
        <li>the program's audit chain, \(index.auditEntries) entries: <code>audit/program.jsonl</code>; its checkpoint: <code>audit/checkpoint.json</code>
        (position \(checkpoint.position), head <code>\(e(checkpoint.headSHA256))</code>, key \(e(checkpoint.keyID)))</li>
        <li>the reports below as JSON and CSV: <code>reports/</code></li></ul>

        """
    for report in reports {
        html += "<h2>\(e(report.kind.title))</h2>\n"
        for line in report.summary { html += "<p>\(e(line))</p>\n" }
        for t in report.tables {
            html += "<h3>\(e(t.title))</h3>\n" + table(t.header, t.rows)
        }
    }
    html +=
        "<h2>Signatures</h2>\n"
        + table(
            ["task", "signed by", "role", "decision", "meaning", "time (UTC)", "evidence version", "current", "comment", "subject SHA-256"],
            signatures.map {
                [
                    $0.task, $0.printedName + ($0.onBehalfOf.map { " on behalf of \($0)" } ?? "") + " (\($0.signer))", $0.role ?? "",
                    $0.decision == .approve ? "approved" : "rejected", $0.meaning.rawValue, format.string(from: $0.signedAt),
                    String($0.evidenceVersion),
                    $0.current ? "yes" : "superseded", $0.comment ?? "", $0.subjectSHA256,
                ]
            }
        )
    html +=
        "<h2>Evidence</h2>\n"
        + table(
            ["task", "title", "version", "file", "size", "uploaded", "by", "SHA-256"],
            evidence.map {
                [$0.task, $0.title, String($0.version), $0.path, String($0.size), format.string(from: $0.uploadedAt), $0.uploadedBy, $0.sha256]
            }
        )
    html += "</body></html>\n"
    return html
}

extension PackRenderer {
    /// The packs Accord writes: each report as its JSON document and its first table as CSV, and the
    /// printable index.
    public static let standard = PackRenderer(
        report: { data in
            let report = Report(data)
            return (Array(try packEncoder().encode(report)), Array(report.tables[0].csv.utf8))
        },
        index: packIndexHTML
    )
}

extension Store {
    /// Writes a program's evidence pack with the standard wording (see `exportPack(program:to:actor:now:renderer:)`).
    public func exportPack(program slug: String, to path: String, actor: String?, now: Date = Date()) async throws -> PackExport {
        try await exportPack(program: slug, to: path, actor: actor, now: now, renderer: .standard)
    }
}
