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
        let timeout = Double(arguments.value("timeout") ?? "-1") ?? -1
        let store = try arguments.store()
        try store.requireExisting(name)
        var waited = 0.0
        while !states.contains(store.status(of: name).state) {
            if timeout >= 0 && waited >= timeout { return 1 }
            usleep(50_000)
            waited += 0.05
        }
        return 0
    }
}
