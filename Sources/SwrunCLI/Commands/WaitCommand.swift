import Glibc
import SwrunRuntime
import SwrunSystem

enum WaitCommand: Command {
    static let spec = CommandSpec(
        name: "wait",
        abstract: "Wait until a container reaches a state (lxc-wait).",
        discussion: "Exit status: 0 once in one of the states, 1 after the timeout.",
        options: [
            CommonOptions.name, CommonOptions.lxcPath,
            .init(short: "s", long: "state", value: "STATES", help: "One state or several joined with |: \(ContainerState.allCases.map(\.name).joined(separator: ", "))."),
            .init(short: "t", long: "timeout", value: "SECONDS", help: "Give up after this long (default: wait for ever)."),
        ])
    static let requiredOptions = ["name", "state"]

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let name = try arguments.required("name", of: spec)
        var states: Set<ContainerState> = []
        for word in try arguments.required("state", of: spec).split(separator: "|") {
            guard let state = ContainerState(rawValue: word.uppercased()) else {
                throw SwrunError(.invalidArgument, "unknown state '\(word)'", hint: "use \(ContainerState.allCases.map(\.name).joined(separator: ", "))")
            }
            states.insert(state)
        }
        let text = arguments.value("timeout") ?? "-1"
        guard let timeout = Double(text) else {
            throw SwrunError(.invalidArgument, "-t \(text): not a number of seconds", hint: "for example: -t 10, or -t -1 to wait for ever")
        }
        let store = try arguments.store()
        try store.requireExisting(name)
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let deadline = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 + timeout
        while !states.contains(store.status(of: name).state) {
            clock_gettime(CLOCK_MONOTONIC, &now)
            if timeout >= 0 && Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 >= deadline { return 1 }
            usleep(50_000)
        }
        return 0
    }
}
