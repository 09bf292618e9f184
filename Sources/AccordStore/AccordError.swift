/// A refusal by the engine: the thing, the rule, and what would be allowed instead.
///
/// The engine words the rule in terms of the domain only; the input it concerns (`field`) and where to
/// look for what exists (`remedy`) are data, which each front words its own way: the CLI names its flag
/// and command, the API adds a `field` member to the problem, a page marks the form's field. Only the
/// HTTP layer maps codes to statuses (not found 404, forbidden 403, conflict 409, invalid 422…).
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
        /// The code's stable name, e.g. `not-found`.
        public var description: String { name }
    }

    /// Where a front can point the person for what would be allowed instead.
    public enum Remedy: Sendable, Hashable {
        /// Say who is acting (the CLI's `--as`; the API and pages always know).
        case identifyActor
        /// The people who exist.
        case listPeople
        /// The programs the actor can see.
        case listPrograms
        /// The workflows loaded.
        case listWorkflows
        /// The AI systems of a program.
        case listSystems(program: String)
        /// Name one program instead of all of them.
        case nameProgram
        /// Open the program's next cycle.
        case openCycle(program: String)
        /// Close the program's open cycle.
        case closeCycle(program: String)
        /// Bind the person to a role of the program.
        case bindRole(program: String, role: String, person: String)
        /// Verify the program's audit chain.
        case verifyAudit(program: String)
        /// Migrate the schema with the schema owner's credentials.
        case migrateAsOwner
    }

    /// The kind of refusal.
    public let code: Code
    /// One line for people, in the domain's words (no CLI flag, no URL).
    public let message: String
    /// The input the refusal is about, by its domain name (`reason`, `until`, `slug`…), if one.
    public let field: String?
    /// Where the person can look for what would be allowed instead, if anywhere.
    public let remedy: Remedy?

    /// Creates a refusal.
    public init(_ code: Code, _ message: String, field: String? = nil, remedy: Remedy? = nil) {
        self.code = code
        self.message = message
        self.field = field
        self.remedy = remedy
    }

    /// The refusal's one-line message for people.
    public var description: String { message }
}
