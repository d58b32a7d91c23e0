import SwrunRuntime
import SwrunSystem

enum AutostartCommand: Command {
    static let spec = CommandSpec(
        name: "autostart",
        abstract: "Start (or stop) the containers with lxc.start.auto = 1 (lxc-autostart).",
        discussion: """
        Order: lxc.start.order, higher first; lxc.start.delay seconds pass after each start. Without
        -g, only containers with no lxc.group are chosen; -g NULL names them among other groups.
        The systemd unit swrun.service (installed by `make install`) runs this at boot and `-s` at shutdown.
        """,
        options: [
            CommonOptions.lxcPath,
            .init(short: "g", long: "groups", value: "GROUPS", help: "Only these groups (comma separated; NULL for no group).", repeats: true),
            .init(short: "a", long: "all", value: nil, help: "Every group."),
            .init(short: "A", long: "ignore-auto", value: nil, help: "Also containers without lxc.start.auto = 1."),
            .init(short: "s", long: "shutdown", value: nil, help: "Stop them (halt signal, then SIGKILL after the timeout) instead."),
            .init(short: "k", long: "kill", value: nil, help: "Kill them instead."),
            .init(short: "r", long: "reboot", value: nil, help: "Stop, then start them."),
            .init(short: "t", long: "timeout", value: "SECONDS", help: "For -s and -r: how long a container may take to halt (default 60)."),
            .init(short: "L", long: "list", value: nil, help: "List them, with their delays, and do nothing."),
        ])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let autostart = Autostart(store: try arguments.store())
        let groups = arguments.values("groups").flatMap { $0.split(separator: ",").map(String.init) }
        var failures: [(String, SwrunError)] = []
        let entries = try autostart.selection(groups: groups.isEmpty ? nil : groups, all: arguments.flag("all"),
                                              ignoreAuto: arguments.flag("ignore-auto"), skipped: { failures.append(($0, $1)) })
        if arguments.flag("list") {
            for entry in entries { print("\(entry.name) \(entry.delay)") }
            return 0
        }
        try requireRoot("swrun autostart")
        let timeout = Int(arguments.value("timeout") ?? "60") ?? 60
        let report: (String) -> Void = { print($0) }
        if arguments.flag("shutdown") || arguments.flag("kill") || arguments.flag("reboot") {
            failures += autostart.stop(entries, timeout: timeout, kill: arguments.flag("kill"), report: report)
        }
        if !arguments.flag("shutdown") && !arguments.flag("kill") {
            failures += autostart.start(entries, report: report)
        }
        for (name, error) in failures { printError("swrun: error: \(name): \(error)") }
        return failures.isEmpty ? 0 : 1
    }
}
