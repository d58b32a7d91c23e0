import Glibc
import SwrunRuntime
import SwrunSystem

enum StartCommand: Command {
    static let spec = CommandSpec(
        name: "start",
        abstract: "Boot a system container: its own init as PID 1, watched by a monitor (lxc-start).",
        discussion: """
        The rootfs's init (lxc.init.cmd, default /sbin/init) runs as PID 1 with the console and
        lxc.tty.max ttys on ptys that the monitor keeps. By default swrun returns once the
        container is RUNNING (-d); with -F the console is this terminal until the container stops.
        """,
        options: [
            CommonOptions.name,
            .init(short: "d", long: "daemon", value: nil, help: "Return once the container runs (the default)."),
            .init(short: "F", long: "foreground", value: nil, help: "Stay attached to the console until the container stops."),
            settle,
            CommonOptions.lxcPath,
            CommonOptions.start[0], CommonOptions.start[3],
        ] + CommonOptions.limits,
        trailingCommand: true)
    static let requiredOptions = ["name"]

    static let settle = CommandSpec.Option(short: nil, long: "settle", value: "MILLISECONDS",
                                           help: "How long init must live for the start to succeed (default \(ContainerMonitor.defaultSettleMilliseconds)); an init that dies sooner fails the start with its status and last console lines.")

    static func settleTime(_ arguments: ParsedArguments) throws(SwrunError) -> Int {
        guard let text = arguments.value("settle") else { return ContainerMonitor.defaultSettleMilliseconds }
        guard let value = Int(text), value >= 0 else {
            throw SwrunError(.invalidArgument, "--settle \(text): not a number of milliseconds", hint: "for example: --settle 500, or 0 to return as soon as init runs")
        }
        return value
    }

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let name = try arguments.required("name", of: spec)
        try requireRoot("swrun start")
        let store = try arguments.store()
        try store.requireExisting(name)
        if store.status(of: name).state != .stopped {
            throw SwrunError(.busy, "container '\(name)' is already running", hint: "stop it first: swrun stop -n \(name) -P \(store.lxcPath)")
        }
        if arguments.flag("foreground") {
            // This process becomes the monitor, which enters the container; with -d, the
            // monitor it spawns runs from a protected view, and this one needs none.
            try SealedExecutable.reexecIfNeeded()
            var monitor = ContainerMonitor(store: store, name: name)
            monitor.command = arguments.command
            monitor.extraSettings = try arguments.definedSettings()
            monitor.explain = arguments.flag("explain")
            monitor.foreground = true
            // On the console the user sees init's end: a start needs no settling unless asked.
            monitor.settleMilliseconds = arguments.value("settle") == nil ? 0 : try settleTime(arguments)
            var failure: SwrunError?
            let code = monitor.run(ready: { result in if case .failure(let error) = result { failure = error } }, warn: warn,
                                   log: { printError("swrun: \($0)") })
            if let failure { throw failure }
            return code
        }
        try ContainerMonitor.startDetached(MonitorRequest(name: name, lxcPath: store.lxcPath, settings: try arguments.definedSettings(),
                                                          command: arguments.command, explain: arguments.flag("explain"),
                                                          settleMilliseconds: try settleTime(arguments)))
        return 0
    }
}

/// The monitor process that `start -d` spawns; not for direct use. Its request (which
/// container, this start's settings) comes as JSON on fd 3, and its answer goes back there.
enum MonitorCommand: Command {
    static let spec = CommandSpec(
        name: "monitor",
        abstract: "The monitor of a started container (spawned by `swrun start`).",
        options: [.init(short: nil, long: "request-fd", value: "FD", help: "The socket the request comes on, and the answer goes back on."),
                  CommonOptions.name, CommonOptions.lxcPath],
        hidden: true,
        entersContainers: true)
    static let requiredOptions = ["request-fd"]

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        guard let socket = arguments.value("request-fd").flatMap({ Int32($0) }) else {
            throw SwrunError(.invalidArgument, "monitor needs --request-fd", hint: "the monitor is started by `swrun start -d`, not by hand")
        }
        let request = try MonitorRequest.receive(on: socket)
        guard arguments.value("name") == request.name, arguments.value("lxcpath") == request.lxcPath else {
            throw SwrunError(.invalidArgument, "the monitor's -n and -P do not name the container of its request",
                             hint: "the monitor is started by `swrun start -d`, not by hand")
        }
        var monitor = ContainerMonitor(store: ContainerStore(lxcPath: request.lxcPath), name: request.name)
        monitor.command = request.command.isEmpty ? nil : request.command
        monitor.extraSettings = request.settings
        monitor.explain = request.explain
        monitor.settleMilliseconds = request.settleMilliseconds
        var answered = false
        return monitor.run(ready: { result in
            guard !answered else { return }
            answered = true
            MonitorRequest.answer(result, on: socket)
            close(socket)
        }, warn: warn, log: { printError("swrun: \($0)") })
    }
}
