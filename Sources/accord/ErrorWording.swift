import AccordStore

extension AccordError {
    /// The refusal as the CLI says it: the engine's words, then the flag the input comes from and the
    /// command that shows what exists.
    var cliMessage: String {
        var text = message
        if let remedy {
            switch remedy {
            case .identifyActor: text += ": --as HANDLE or ACCORD_USER"
            case .listPeople: text += "; 'accord user list' shows who exists"
            case .listPrograms: text += "; 'accord program list' shows yours"
            case .listWorkflows: text += "; 'accord workflow list' shows what is"
            case .listSystems(let program): text += "; 'accord system list \(program)' shows them"
            case .nameProgram: text += "; name a program with --program"
            case .openCycle(let program): text += "; open one with: accord cycle open \(program)"
            case .closeCycle(let program): text += " (accord cycle close \(program))"
            case .bindRole(let program, let role, let person): text += ": accord role bind \(program) \(role) \(person)"
            case .verifyAudit(let program): text += "; run accord audit verify --program \(program)"
            case .migrateAsOwner: text += "; run 'accord db migrate --owner-database URL' with the schema owner's credentials"
            }
        }
        if let field, remedy != .identifyActor { text += " (--\(field))" }
        return text
    }
}
