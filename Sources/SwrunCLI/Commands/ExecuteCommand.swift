import SwrunRuntime
import SwrunSystem

enum ExecuteCommand: Command {
    static let spec = CommandSpec(
        name: "execute",
        abstract: "Run a command in a container, in the foreground (lxc-execute).",
        discussion: """
        The command runs as a child of a minimal init (PID 1) in new pid, mount, uts, ipc, net
        and cgroup namespaces, inside the container's rootfs. Without a command: lxc.execute.cmd,
        else lxc.init.cmd, else /bin/sh.
        Exit status: the command's, 128+N when signal N killed it, 125 when swrun failed,
        126 when the command cannot be executed, 127 when it is not found.
        """,
        options: [CommonOptions.name, CommonOptions.lxcPath] + CommonOptions.start + CommonOptions.limits,
        trailingCommand: true,
        containerExitCodes: true,
        entersContainers: true)
    static let requiredOptions = ["name"]

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let name = try arguments.required("name", of: spec)
        try requireRoot("swrun execute")
        var execution = ForegroundExecution(store: try arguments.store(), name: name)
        try arguments.configure(&execution)
        return try execution.run(warn: warn).shellExitCode
    }
}
