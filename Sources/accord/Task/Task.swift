import AccordCore
public import ArgumentParser

/// `accord task`: the work.
struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "List, show, assign and progress tasks (addressed by id or PROGRAM/TASK[@SYSTEM]).",
        subcommands: [
            TaskList.self, TaskShow.self, TaskAssign.self, TaskStart.self, TaskSubmit.self, TaskSign.self, TaskReject.self, TaskNotApplicable.self,
        ]
    )
}

extension TaskState: ExpressibleByArgument {}
