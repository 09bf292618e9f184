import Foundation
public import Hummingbird

/// An RFC 9457 problem document, sent as `application/problem+json`.
public struct Problem: Codable, Sendable, Equatable {
    /// A stable identifier of the kind of problem, e.g. `/problems/database-unavailable`.
    public var type: String
    /// A short summary of the kind of problem.
    public var title: String
    /// The HTTP status code.
    public var status: Int
    /// What went wrong this time, for people.
    public var detail: String?
    /// The request member the problem is about (`reason`, `until`…), when it is about one: an extension
    /// member (RFC 9457 §3.2) a client can use to mark the field.
    public var field: String?

    /// Creates a problem.
    public init(type: String, title: String, status: HTTPResponse.Status, detail: String? = nil, field: String? = nil) {
        self.field = field
        self.type = type
        self.title = title
        self.status = status.code
        self.detail = detail
    }

    /// The problem as an HTTP response.
    public func response() -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return Response(
            status: HTTPResponse.Status(code: status),
            headers: [.contentType: "application/problem+json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}
