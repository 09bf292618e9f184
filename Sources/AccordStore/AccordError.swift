/// A refusal by the engine: the thing, the rule, and what would be allowed instead.
///
/// Only the HTTP layer maps codes to statuses (not found 404, forbidden 403, conflict 409, invalid 422…);
/// the CLI prints `description` as one line.
public struct AccordError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The kind of refusal. New kinds may be added; switch with a `default`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String
        /// A program, task, person… that does not exist (or that the actor may not see).
        public static let notFound = Code("not-found")
        /// The actor may not do this.
        public static let forbidden = Code("forbidden")
        /// The object is in a state that does not allow this now.
        public static let conflict = Code("conflict")
        /// The input is malformed or out of range.
        public static let invalid = Code("invalid")
        /// No acting user, or the wrong password.
        public static let unauthenticated = Code("unauthenticated")
        /// Busy for now, nothing was done: try again shortly.
        public static let unavailable = Code("unavailable")
        /// Locked for a while after too many wrong secrets (signing): try again later.
        public static let locked = Code("locked")

        /// Every code, by its stable name.
        static let known: [String: Code] = Dictionary(
            uniqueKeysWithValues: [notFound, forbidden, conflict, invalid, unauthenticated, unavailable, locked].map { ($0.name, $0) }
        )

        /// The code with this stable name (`not-found`, `forbidden`…), if it is one.
        public init?(name: String) {
            guard let code = Code.known[name] else { return nil }
            self = code
        }

        init(_ name: StaticString) { self.name = "\(name)" }
        public var description: String { name }
    }

    /// The kind of refusal.
    public let code: Code
    /// One line for people.
    public let message: String

    /// Creates a refusal.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
