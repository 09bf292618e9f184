import AccordCore
import Postgres

/// Counts over the whole organisation, for `/metrics`: no person's data, only how much work waits.
public struct TaskGauges: Sendable, Equatable {
    /// Outstanding tasks past their due date.
    public var overdue: Int
    /// Tasks in review, waiting for sign-offs.
    public var inReview: Int
    /// Tasks in scope (all but retired ones).
    public var tasks: Int
}

enum GaugeSQL {
    static let tasks = PostgresQuery<TaskGauges>(
        "gauges_tasks",
        """
        SELECT (SELECT count(*) FROM accord.task WHERE \(TaskState.outstandingSQL("state")) AND due_on < current_date) AS overdue,
               (SELECT count(*) FROM accord.task WHERE state = 'in_review') AS in_review,
               (SELECT count(*) FROM accord.task WHERE state NOT IN ('retired')) AS tasks
        """
    ) { row in
        TaskGauges(
            overdue: try row.decode(Int.self, "overdue"),
            inReview: try row.decode(Int.self, "in_review"),
            tasks: try row.decode(Int.self, "tasks")
        )
    }

    static let catalogue: [any PostgresCheckable] = [tasks]
}

extension Store {
    /// How much work waits across every program, for monitoring; needs no actor (it names nobody).
    public func taskGauges() async throws -> TaskGauges {
        try await pool.withConnection { try await $0.queryOne(GaugeSQL.tasks) }
    }
}
