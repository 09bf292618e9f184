/// Where a task is in its life. Drawn in `docs/state-machine.md`.
public enum TaskState: String, Codable, Sendable, CaseIterable {
    /// Waiting for its dependencies.
    case blocked
    /// Ready to be worked on.
    case open
    /// Being worked on.
    case inProgress = "in_progress"
    /// Submitted; waiting for its sign-offs.
    case inReview = "in_review"
    /// Finished: signed off, or submitted when it needs no sign-off.
    case done
    /// Out of scope, with a recorded reason.
    case notApplicable = "not_applicable"
    /// Removed by a workflow upgrade, with a recorded reason; kept for history.
    case retired

    /// Whether dependents may proceed: done, or not applicable.
    public var satisfiesDependents: Bool { self == .done || self == .notApplicable }

    /// Whether the task still needs work (for overdue and inbox views).
    public var isOutstanding: Bool { [.blocked, .open, .inProgress, .inReview].contains(self) }
}

/// Something that moves a task from one state to another.
public enum TaskEvent: String, Sendable, CaseIterable {
    /// Its dependencies are all done (by the engine).
    case unblock
    /// A new dependency is not done yet (by the engine, after a workflow upgrade).
    case block
    /// The assignee or owner starts work.
    case start
    /// The work is handed in: to review when it needs sign-off, else done.
    case submit
    /// Its approval policy is met (by the engine, on the last needed signature).
    case approve
    /// A signer rejects it: back to work, with the reason.
    case reject
    /// New evidence after signatures: back to review.
    case reopen
    /// Declared out of scope, with a reason.
    case markNotApplicable = "not-applicable"
    /// A not-applicable task is brought back into scope.
    case reinstate
    /// Removed from the program by a workflow upgrade.
    case retire
}

/// The one state machine of tasks: which events each state accepts and where they lead.
public enum TaskStateMachine {
    /// The state after `event`, or `nil` when the state does not accept it.
    /// - Parameter needsSignOff: whether the task has an approval policy (decides where `submit` leads).
    public static func next(from state: TaskState, on event: TaskEvent, needsSignOff: Bool) -> TaskState? {
        switch (state, event) {
        case (.blocked, .unblock): .open
        case (.open, .block), (.inProgress, .block): .blocked
        case (.open, .start): .inProgress
        case (.open, .submit), (.inProgress, .submit): needsSignOff ? .inReview : .done
        case (.inReview, .approve): .done
        case (.inReview, .reject): .inProgress
        case (.done, .reopen), (.inReview, .reopen): needsSignOff ? .inReview : nil
        case (.blocked, .markNotApplicable), (.open, .markNotApplicable), (.inProgress, .markNotApplicable), (.inReview, .markNotApplicable):
            .notApplicable
        case (.notApplicable, .reinstate): .blocked
        case (let s, .retire) where s != .retired: .retired
        default: nil
        }
    }

    /// The events a state accepts that people trigger, for error messages.
    public static func allowedEvents(from state: TaskState, needsSignOff: Bool) -> [TaskEvent] {
        TaskEvent.allCases.filter {
            ![.unblock, .block, .approve, .retire].contains($0) && next(from: state, on: $0, needsSignOff: needsSignOff) != nil
        }
    }

    /// Why a state refuses an event, in words for the CLI and the API.
    public static func refusal(task: String, state: TaskState, event: TaskEvent, needsSignOff: Bool) -> String {
        let allowed = allowedEvents(from: state, needsSignOff: needsSignOff).map(\.rawValue)
        var message = "task '\(task)' is \(state.rawValue) and cannot \(event.rawValue)"
        switch state {
        case .blocked: message += "; it waits for its dependencies to be done"
        case .inReview: message += "; only its signers can act on it now (sign or reject)"
        case .retired: message += "; it was retired by a workflow upgrade"
        default: break
        }
        if !allowed.isEmpty { message += "; allowed now: \(allowed.joined(separator: ", "))" }
        return message
    }
}

extension TaskState: CustomStringConvertible {
    /// The state as stored and shown: `in_review`.
    public var description: String { rawValue }
}
