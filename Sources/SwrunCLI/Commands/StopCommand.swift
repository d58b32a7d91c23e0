import SwrunRuntime
import SwrunSystem

enum StopCommand: Command {
    static let spec = CommandSpec(
        name: "stop",
        abstract: "Stop containers: their halt signal, then SIGKILL after a timeout (lxc-stop).",
        discussion: """
        The halt signal is lxc.signal.halt; without one, SIGRTMIN+3 when the container's init
        waits for it (systemd does), else SIGPWR, as lxc-stop chooses. Name the containers with
        -n (repeated) or as arguments, or stop every running one with --all: they are stopped
        together, under one timeout. -r reboots instead (lxc.signal.reboot, else SIGINT) and
        waits until the container runs again. Exit status: 0 once every container is stopped,
        2 when none was running, 1 on any error.
        """,
        options: [
            .init(short: "n", long: "name", value: "NAME", help: "A container's name; may be repeated.", repeats: true),
            .init(short: nil, long: "all", value: nil, help: "Every running container of the LXCPATH."),
            .init(short: "t", long: "timeout", value: "SECONDS",
                  help: "How long to wait after the halt signal before SIGKILL (default: --stop-timeout of run or create, else 10 for a container from an image, else 60)."),
            .init(short: "k", long: "kill", value: nil, help: "Kill at once (lxc.signal.stop, else SIGKILL)."),
            .init(short: "r", long: "reboot", value: nil, help: "Reboot the container, and wait until it runs again."),
            CommonOptions.lxcPath,
            CommonOptions.start[0],
        ],
        arguments: [.init(name: "NAME", help: "A container's name, as with -n.", optional: true, repeats: true, completes: .container)])

    /// The containers named, for their stop timeouts (every one with --all).
    private static func names(_ arguments: ParsedArguments, store: ContainerStore) -> [String] {
        arguments.flag("all") ? (try? store.names()) ?? [] : arguments.values("name") + arguments.arguments
    }

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        try requireRoot("swrun stop")
        let given = try arguments.seconds("timeout")
        let store = try arguments.store()
        let explain = Explainer(enabled: arguments.flag("explain"))
        let named = arguments.values("name") + arguments.arguments
        if arguments.flag("all") && !named.isEmpty {
            throw SwrunError(.invalidArgument, "swrun stop: --all stops every container; name none with it", hint: "drop --all, or the names")
        }
        let timeout = given ?? names(arguments, store: store).map { store.stopTimeout(of: $0) }.max() ?? ContainerSidecar.systemStopTimeout
        if arguments.flag("reboot") {
            guard named.count == 1, !arguments.flag("all"), !arguments.flag("kill") else {
                throw SwrunError(.invalidArgument, "swrun stop -r reboots one container, named with -n", hint: "for example: swrun stop -r -n web")
            }
            try ContainerStopper(store: store, name: named[0]).reboot(timeout: timeout, explain: explain)
            return 0
        }
        let names = arguments.flag("all") ? try store.names() : named
        guard arguments.flag("all") || !names.isEmpty else {
            throw SwrunError(.invalidArgument, "swrun stop: name a container (-n NAME), or give --all", hint: "see `swrun stop --help`")
        }
        for name in names { try store.requireExisting(name) }
        let running = names.filter { store.status(of: $0).state != .stopped }
        for name in names where !running.contains(name) && !arguments.flag("all") {
            printError("swrun: container '\(name)' is not running")
        }
        guard !running.isEmpty else { return arguments.flag("all") ? 0 : 2 }
        var failed = false
        for (name, outcome) in ContainerStopper.stop(running, store: store, timeout: timeout, killAtOnce: arguments.flag("kill"),
                                                     explain: explain, warn: warn) {
            switch outcome {
            case .success(.killed) where !arguments.flag("kill"):
                warn("container '\(name)' did not halt within \(timeout) s: killed")
            case .success:
                break
            case .failure(let error):
                printError("swrun: error: \(error)")
                failed = true
            }
        }
        return failed ? 1 : 0
    }
}

/// `swrun reboot -n NAME`: `stop -r` under its own name.
enum RebootCommand: Command {
    static let spec = CommandSpec(
        name: "reboot",
        abstract: "Reboot a running container and wait until it runs again (lxc-stop -r).",
        discussion: "Sends lxc.signal.reboot (SIGINT when unset), which a distribution's init takes as Ctrl-Alt-Del.",
        options: [
            CommonOptions.name,
            .init(short: "t", long: "timeout", value: "SECONDS", help: "How long to wait for it to run again (default 60)."),
            CommonOptions.lxcPath,
            CommonOptions.start[0],
        ])
    static let requiredOptions = ["name"]

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let name = try arguments.required("name", of: spec)
        try requireRoot("swrun reboot")
        let given = try arguments.seconds("timeout")
        let store = try arguments.store()
        try ContainerStopper(store: store, name: name).reboot(timeout: given ?? ContainerSidecar.systemStopTimeout,
                                                              explain: Explainer(enabled: arguments.flag("explain")))
        return 0
    }
}
