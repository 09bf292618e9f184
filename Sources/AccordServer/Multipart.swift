import Foundation

/// One part of a `multipart/form-data` body.
struct FormPart {
    var name: String
    var fileName: String?
    var bytes: [UInt8]
}

/// Reads `multipart/form-data` (RFC 7578): the parts between boundary lines, with their
/// Content-Disposition name and filename. Enough for a page's upload form; nested multiparts are not read.
enum Multipart {
    struct Malformed: Error {}

    /// The boundary from a Content-Type header, when it is multipart/form-data.
    static func boundary(contentType: String?) -> String? {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                return (1...70).contains(value.count) ? value : nil
            }
        }
        return nil
    }

    static func parse(_ body: [UInt8], boundary: String) throws -> [FormPart] {
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [FormPart] = []
        var index = try find(delimiter, in: body, from: 0) + delimiter.count
        while true {
            // After a delimiter: "--" ends the body, CRLF starts a part.
            if body[index...].starts(with: Array("--".utf8)) { break }
            guard body[index...].starts(with: [13, 10]) else { throw Malformed() }
            index += 2
            let headerEnd = try find([13, 10, 13, 10], in: body, from: index)
            let headers = String(decoding: body[index..<headerEnd], as: UTF8.self)
            let contentStart = headerEnd + 4
            let next = try find([13, 10] + delimiter, in: body, from: contentStart)
            var name: String?
            var fileName: String?
            for line in headers.components(separatedBy: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
                name = parameter("name", in: line)
                fileName = parameter("filename", in: line)
            }
            guard let name else { throw Malformed() }
            parts.append(FormPart(name: name, fileName: fileName, bytes: Array(body[contentStart..<next])))
            index = next + 2 + delimiter.count
        }
        return parts
    }

    private static func parameter(_ key: String, in line: String) -> String? {
        for piece in line.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == key {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")).replacingOccurrences(of: "\0", with: "")
            }
        }
        return nil
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) throws -> Int {
        guard needle.count <= haystack.count else { throw Malformed() }
        var i = start
        while i + needle.count <= haystack.count {
            if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        throw Malformed()
    }
}
