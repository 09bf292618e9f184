import AccordStore
import Foundation
import Hummingbird
import MultipartKit

// multipart/form-data bodies are parsed by MultipartKit (vapor/multipart-kit); what stays here is reading
// two header parameters it keeps internal (the boundary of the request's Content-Type, a part's file name) and
// the one reader every upload form goes through.

/// The boundary of a `multipart/form-data` Content-Type (RFC 7578 §4.1, RFC 2046 §5.1.1: 1 to 70 characters).
func multipartBoundary(_ contentType: String?) -> String? {
    guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
    guard let value = headerParameter("boundary", in: contentType) else { return nil }
    return (1...70).contains(value.count) ? value : nil
}

/// A `key=value` or `key="value"` parameter of a header value, the key matched case-insensitively.
func headerParameter(_ key: String, in value: String) -> String? {
    for piece in value.split(separator: ";").dropFirst() {
        let pair = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        if pair.count == 2, pair[0].lowercased() == key {
            return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")).replacingOccurrences(of: "\0", with: "")
        }
    }
    return nil
}

/// A file field of a form, as MultipartKit's `FormDataDecoder` hands it over: its name and bytes.
struct UploadedFile: Decodable, MultipartPartConvertible {
    /// The `filename` of the part's Content-Disposition; `nil` when the field was not a file.
    var fileName: String?
    /// The file's bytes.
    var bytes: [UInt8]

    init?(multipart: MultipartPart) {
        fileName = multipart.headers.first(name: "Content-Disposition").flatMap { headerParameter("filename", in: $0) }
        bytes = Array(multipart.body.readableBytesView)
    }

    /// Only the form decoder makes one, from a part.
    init(from decoder: any Decoder) throws {
        throw DecodingError.typeMismatch(
            UploadedFile.self,
            .init(codingPath: decoder.codingPath, debugDescription: "a file comes from a multipart form only")
        )
    }

    var multipart: MultipartPart? { nil }
}

/// A `multipart/form-data` body decoded by MultipartKit: refused, as the form's fault, when it is not
/// multipart, larger than `limit`, cut short (no close-delimiter, RFC 2046 §5.1.1) or not well formed.
func readMultipartForm<Form: Decodable>(_ type: Form.Type, _ request: Request, upTo limit: Int) async throws -> Form {
    guard let boundary = multipartBoundary(request.headers[.contentType]) else {
        throw AccordError(.invalid, "upload the file with the page's form (multipart/form-data)")
    }
    let body = try await request.body.collect(upTo: limit + (64 << 10))
    // MultipartKit reads a body cut short as if it were whole; a cut upload must not store a cut file, so
    // the close-delimiter must be there.
    let closed = body.readableBytesView.suffix(boundary.utf8.count + 12).firstRange(of: Array("--\(boundary)--".utf8)) != nil
    guard closed, let form = try? FormDataDecoder().decode(Form.self, from: body, boundary: boundary) else {
        throw AccordError(.invalid, "the upload is not a well-formed form")
    }
    return form
}
