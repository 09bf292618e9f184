import Foundation

/// Why a SCIM request was refused, with the RFC 7644 §3.12 `scimType` where one applies.
struct SCIMFailure: Error {
    var status: Int
    var scimType: String?
    var detail: String

    init(_ status: Int, _ scimType: String?, _ detail: String) {
        self.status = status
        self.scimType = scimType
        self.detail = detail
    }
}

/// A PATCH path (RFC 7644 §3.5.2): `attr`, `attr.sub`, `attr[filter]` or `attr[filter].sub`, with an
/// optional schema URN in front. The filter compares sub-attributes with `eq`, joined by `and`.
struct SCIMPath {
    var attribute: String
    var filter: [(String, Any)]?
    var sub: String?

    init(_ text: String, known: [String], schema: String) throws {
        var rest = text.trimmingCharacters(in: .whitespaces)
        if rest.lowercased().hasPrefix(schema.lowercased() + ":") { rest = String(rest.dropFirst(schema.count + 1)) }
        guard !rest.isEmpty else { throw SCIMFailure(400, "invalidPath", "the path is empty") }
        if let open = rest.firstIndex(of: "[") {
            guard let close = rest.lastIndex(of: "]"), close > open else { throw SCIMFailure(400, "invalidPath", "unbalanced [ in '\(text)'") }
            attribute = SCIM.canonical(String(rest[..<open]), among: known)
            filter = try SCIMPath.parseFilter(String(rest[rest.index(after: open)..<close]))
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(".") {
                sub = String(after.dropFirst())
            } else if !after.isEmpty {
                throw SCIMFailure(400, "invalidPath", "unexpected '\(after)' in '\(text)'")
            }
        } else {
            let parts = rest.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard let first = parts.first, !first.isEmpty else { throw SCIMFailure(400, "invalidPath", "no attribute in '\(text)'") }
            attribute = SCIM.canonical(first, among: known)
            sub = parts.count > 1 ? parts[1] : nil
            if sub?.isEmpty == true { throw SCIMFailure(400, "invalidPath", "no sub-attribute in '\(text)'") }
        }
        if let name = sub { sub = SCIM.canonical(name, among: SCIM.subAttributes[attribute] ?? [name]) }
        guard known.contains(attribute) else { throw SCIMFailure(400, "invalidPath", "no attribute '\(attribute)'") }
    }

    /// `value eq "x"`, `type eq "work" and primary eq true`.
    static func parseFilter(_ text: String) throws -> [(String, Any)] {
        try text.components(separatedBy: " and ").map { clause in
            let words = clause.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 2).map(String.init)
            guard words.count == 3, words[1].lowercased() == "eq" else {
                throw SCIMFailure(400, "invalidFilter", "only 'attribute eq value' (joined by 'and') is understood, not '\(clause)'")
            }
            return (words[0], try literal(words[2]))
        }
    }

    static func literal(_ text: String) throws -> Any {
        if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 {
            let data = Data(text.utf8)
            if let value = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? String { return value }
            throw SCIMFailure(400, "invalidFilter", "cannot read the string \(text)")
        }
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        case "null": return NSNull()
        default:
            if let number = Double(text) { return number }
            throw SCIMFailure(400, "invalidFilter", "cannot read the value \(text)")
        }
    }

    func matches(_ element: Any) -> Bool {
        guard let filter, let object = element as? [String: Any] else { return false }
        return filter.allSatisfy { name, wanted in
            let value = object.first { $0.key.lowercased() == name.lowercased() }?.value
            return SCIMPath.equal(value, wanted)
        }
    }

    static func equal(_ a: Any?, _ b: Any) -> Bool {
        switch (a, b) {
        case (let x as String, let y as String): x.lowercased() == y.lowercased()
        case (let x as Bool, let y as Bool): x == y
        case (let x as NSNumber, let y as Double): x.doubleValue == y
        case (nil, is NSNull): true
        default: false
        }
    }
}

/// Applies PATCH operations to a resource's JSON (RFC 7644 §3.5.2): add, remove and replace, with or
/// without a path. The result is then written as a replacement would be.
enum SCIMPatcher {
    static func apply(_ body: [String: Any], to resource: [String: Any], known: [String], schema: String) throws -> [String: Any] {
        guard let schemas = body["schemas"] as? [String], schemas.contains(SCIM.patchSchema) else {
            throw SCIMFailure(400, "invalidSyntax", "a PATCH body names the schema \(SCIM.patchSchema)")
        }
        guard let operations = (body["Operations"] ?? body["operations"]) as? [[String: Any]], !operations.isEmpty else {
            throw SCIMFailure(400, "invalidSyntax", "a PATCH body has a non-empty 'Operations' list")
        }
        var result = resource
        for operation in operations {
            guard let op = (operation["op"] as? String)?.lowercased(), ["add", "remove", "replace"].contains(op) else {
                throw SCIMFailure(400, "invalidSyntax", "each operation's op is add, remove or replace")
            }
            let value = operation["value"]
            guard let pathText = operation["path"] as? String else {
                guard op != "remove" else { throw SCIMFailure(400, "noTarget", "a remove operation needs a path") }
                guard let object = value as? [String: Any] else { throw SCIMFailure(400, "invalidValue", "without a path, the value is an object") }
                for (key, item) in object {
                    let name = SCIM.canonical(key, among: known)
                    if name.lowercased().hasPrefix("urn:") { continue }
                    try set(name, item, op: op, in: &result)
                }
                continue
            }
            // Extension schemas (Entra's enterprise User: department, manager…) are not kept: their
            // operations are accepted and ignored, as RFC 7644 lets a service provider ignore attributes.
            if pathText.lowercased().hasPrefix("urn:"), !pathText.lowercased().hasPrefix(schema.lowercased() + ":") { continue }
            let path = try SCIMPath(pathText, known: known, schema: schema)
            try apply(op, path: path, value: value, to: &result)
        }
        return result
    }

    /// add or replace one attribute, without a filter: a multi-valued one gains the values (add) or is
    /// replaced (replace); a complex one is merged (add) or replaced; a simple one is set.
    static func set(_ name: String, _ value: Any, op: String, in resource: inout [String: Any]) throws {
        if SCIM.multiValued.contains(name) {
            let values = (value as? [Any]) ?? [value]
            if op == "add" {
                var list = resource[name] as? [Any] ?? []
                for item in values where !list.contains(where: { same($0, item) }) { list.append(item) }
                resource[name] = list
            } else {
                resource[name] = values
            }
        } else if op == "add", let object = value as? [String: Any], var existing = resource[name] as? [String: Any] {
            for (key, item) in object { existing[SCIM.canonical(key, among: SCIM.subAttributes[name] ?? [key])] = item }
            resource[name] = existing
        } else {
            resource[name] = value
        }
    }

    static func apply(_ op: String, path: SCIMPath, value: Any?, to resource: inout [String: Any]) throws {
        let name = path.attribute
        if path.filter == nil {
            if let sub = path.sub {
                var object = resource[name] as? [String: Any] ?? [:]
                if op == "remove" { object[sub] = nil } else { object[sub] = value }
                resource[name] = object.isEmpty ? nil : object
            } else if op == "remove", SCIM.multiValued.contains(name), let value {
                // Entra ID removes members this way: path "members" and the values to take out.
                let unwanted = (value as? [Any]) ?? [value]
                let kept = (resource[name] as? [Any] ?? []).filter { item in !unwanted.contains { same($0, item) } }
                resource[name] = kept.isEmpty ? nil : kept
            } else if op == "remove" {
                resource[name] = nil
            } else {
                guard let value else { throw SCIMFailure(400, "invalidValue", "\(op) needs a value") }
                try set(name, value, op: op, in: &resource)
            }
            return
        }
        guard var list = resource[name] as? [Any] else {
            if op == "remove" { return }
            throw SCIMFailure(400, "noTarget", "no value of \(name) matches the filter")
        }
        let matching = list.indices.filter { path.matches(list[$0]) }
        if op == "remove" && path.sub == nil {
            list = list.enumerated().filter { !matching.contains($0.offset) }.map(\.element)
            resource[name] = list.isEmpty ? nil : list
            return
        }
        guard !matching.isEmpty else { throw SCIMFailure(400, "noTarget", "no value of \(name) matches the filter") }
        for index in matching {
            guard var object = list[index] as? [String: Any] else { continue }
            if let sub = path.sub {
                object[sub] = op == "remove" ? nil : value
            } else if let replacement = value as? [String: Any] {
                for (key, item) in replacement { object[key] = item }
            }
            list[index] = object
        }
        resource[name] = list
    }

    /// Two values of a multi-valued attribute are the same when their `value`s are (or, without one, when equal).
    static func same(_ a: Any, _ b: Any) -> Bool {
        if let x = (a as? [String: Any])?["value"], let y = (b as? [String: Any])?["value"] { return SCIMPath.equal(x, y) }
        return (a as? NSObject)?.isEqual(b) ?? false
    }
}
