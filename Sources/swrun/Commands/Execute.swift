import ArgumentParser
import SwrunRuntime
import SwrunSystem

struct Execute: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command in a container, in the foreground (lxc-execute).",
        discussion: """
        The command runs as a child of a minimal init (PID 1) in new pid, mount, uts, ipc, net
        and cgroup namespaces, inside the container's rootfs. swrun exits with the command's
        status, 128+N when a signal N killed it, 125 when swrun failed, 126 when the command
        cannot be executed and 127 when it is not found.
        Without a command: lxc.execute.cmd, else lxc.init.cmd, else /bin/sh.
        """
    )

    @Option(name: [.customShort("n"), .long], help: "The container's name.")
    var name: String

    @OptionGroup var path: LXCPathOption
    @OptionGroup var start: StartOptions

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (after --).")
    var command: [String] = []

    func run() throws {
        try reportingErrors(containerExitCodes: true) { () throws(SwrunError) -> Int32 in
            try requireRoot("swrun execute")
            var execution = ForegroundExecution(store: try path.store(), name: name)
            execution.command = command.first == "--" ? Array(command.dropFirst()) : command
            execution.extraSettings = try start.definedSettings()
            execution.useTerminal = start.useTerminal
            execution.explain = start.explain
            return try execution.run(warn: warn).shellExitCode
        }
    }
}
