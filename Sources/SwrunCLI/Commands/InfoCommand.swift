import SwrunRuntime
import SwrunSystem

enum InfoCommand: Command {
    static let spec = CommandSpec(
        name: "info",
        abstract: "Show a container's state and pid (lxc-info).",
        discussion: """
        Resource use (CPU, memory, block I/O) and network addresses are not shown yet: swrun
        does not give containers cgroups or links of their own so far.
        """,
        options: [
            CommonOptions.name, CommonOptions.lxcPath,
            .init(short: "s", long: "state", value: nil, help: "Only the state."),
            .init(short: "p", long: "pid", value: nil, help: "Only init's pid."),
            .init(short: "H", long: "no-humanize", value: nil, help: "Bare values, without field names."),
            .init(short: nil, long: "format", value: "FORMAT", help: "text or json."),
        ])
    static let requiredOptions = ["name"]

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let name = try arguments.required("name", of: spec)
        let format = try OutputFormat(arguments.value("format"))
        let store = try arguments.store()
        try store.requireExisting(name)
        let status = store.status(of: name)
        if format == .json {
            print(JSON.object([
                ("name", .string(name)), ("state", .string(status.state.name)),
                ("pid", status.initPID.map { .number(Int($0)) } ?? .null),
                ("monitor", .bool(status.monitorAlive)),
            ]).text)
            return 0
        }
        let onlyState = arguments.flag("state"), onlyPID = arguments.flag("pid")
        let all = !onlyState && !onlyPID
        var fields: [(String, String)] = []
        if all { fields.append(("Name", name)) }
        if all || onlyState { fields.append(("State", status.state.name)) }
        if all || onlyPID, let pid = status.initPID { fields.append(("PID", String(pid))) }
        if all, status.state != .stopped, !status.monitorAlive {
            fields.append(("Monitor", "gone (stop and destroy still work)"))
        }
        for (field, value) in fields {
            print(arguments.flag("no-humanize") ? value : (field + ":").padding(to: 16) + value)
        }
        return 0
    }
}

extension String {
    func padding(to width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}
