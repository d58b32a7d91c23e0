import SwrunRuntime
import SwrunSystem

enum StopCommand: Command {
    static let spec = CommandSpec(
        name: "stop",
        abstract: "Stop a container: its halt signal, then SIGKILL after a timeout (lxc-stop).",
        discussion: """
        The halt signal is lxc.signal.halt (SIGPWR when unset, as in LXC). Exit status: 0 once
        stopped, 2 when the container was not running.
        """,
        options: [
            CommonOptions.name,
            .init(short: "t", long: "timeout", value: "SECONDS", help: "How long to wait after the halt signal before SIGKILL (default 60)."),
            .init(short: "k", long: "kill", value: nil, help: "SIGKILL at once."),
            CommonOptions.lxcPath,
            CommonOptions.start[0],
        ])
    static let requiredOptions = ["name"]

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let name = try arguments.required("name", of: spec)
        try requireRoot("swrun stop")
        guard let timeout = Int(arguments.value("timeout") ?? "60"), timeout >= 0 else {
            throw SwrunError(.invalidArgument, "-t \(arguments.value("timeout") ?? ""): not a number of seconds", hint: "for example: -t 10")
        }
        let store = try arguments.store()
        try store.requireExisting(name)
        if store.status(of: name).state == .stopped {
            printError("swrun: container '\(name)' is not running")
            return 2
        }
        let stopper = ContainerStopper(store: store, name: name)
        if try stopper.stop(timeout: timeout, killAtOnce: arguments.flag("kill"), explain: Explainer(enabled: arguments.flag("explain")), warn: warn) == .killed,
           !arguments.flag("kill") {
            warn("container '\(name)' did not halt within \(timeout) s: killed")
        }
        return 0
    }
}
