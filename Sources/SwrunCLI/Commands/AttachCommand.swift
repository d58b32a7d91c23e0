import SwrunRuntime
import SwrunSystem

enum AttachCommand: Command {
    static let spec = CommandSpec(
        name: "attach",
        abstract: "Run a command inside a running container (lxc-attach).",
        discussion: """
        Enters every namespace of the container's init and drops to what its processes run with
        (capabilities, seccomp filter, lxc.init.uid, as the container was started, whatever its
        config says now), and runs COMMAND (default: the login shell of that user in the
        container), with a pty when stdin, stdout or stderr is a terminal. The environment is the
        container's own (PATH, HOME, container, lxc.environment) plus -v; swrun's exit status is
        the command's.
        """,
        options: [
            CommonOptions.name, CommonOptions.lxcPath,
            .init(short: nil, long: "clear-env", value: nil, help: "Start from an empty environment (the default; accepted as lxc-attach takes it)."),
            .init(short: nil, long: "keep-env", value: nil, help: "Pass swrun's own environment on, under the container's variables."),
            .init(short: "v", long: "set-var", value: "VAR=VALUE", help: "Set a variable for the command.", repeats: true),
            CommonOptions.start[0], CommonOptions.start[1], CommonOptions.start[2],
        ],
        trailingCommand: true,
        containerExitCodes: true,
        entersContainers: true)
    static let requiredOptions = ["name"]

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let name = try arguments.required("name", of: spec)
        try requireRoot("swrun attach")
        for variable in arguments.values("set-var") where !variable.contains("=") {
            throw SwrunError(.invalidArgument, "-v \(variable): expected VAR=VALUE", hint: "for example: -v LANG=C.UTF-8")
        }
        var attacher = ContainerAttacher(store: try arguments.store(), name: name)
        attacher.command = arguments.command
        attacher.environment = arguments.values("set-var")
        attacher.keepHostEnvironment = arguments.flag("keep-env") && !arguments.flag("clear-env")
        attacher.useTerminal = arguments.wantsTerminal
        attacher.explain = arguments.flag("explain")
        return try attacher.run(warn: warn).shellExitCode
    }
}
