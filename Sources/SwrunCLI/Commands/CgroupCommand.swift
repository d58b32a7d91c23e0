import SwrunCgroups
import SwrunRuntime
import SwrunSystem

enum CgroupCommand: Command {
    static let spec = CommandSpec(
        name: "cgroup",
        abstract: "Read or set a value in a running container's cgroup (lxc-cgroup).",
        discussion: """
        KEY is a cgroup file (memory.limit_in_bytes, pids.max...), or a v2 name that this host
        keeps under v1 names (memory.max on a hybrid host is written as memory.limit_in_bytes).
        The container has a cgroup of its own when it was started with limits.
        """,
        options: [CommonOptions.name, CommonOptions.lxcPath],
        arguments: [.init(name: "KEY", help: "The cgroup file."), .init(name: "VALUE", help: "The value to write; without it, KEY is read.", optional: true)])
    static let requiredOptions = ["name"]

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let name = try arguments.required("name", of: spec)
        let store = try arguments.store()
        try store.requireExisting(name)
        let status = store.status(of: name)
        guard status.state != .stopped, let record = status.record else {
            throw SwrunError(.notFound, "container '\(name)' is not running", hint: "start it first")
        }
        guard !record.cgroups.isEmpty else {
            throw SwrunError(.notFound, "container '\(name)' has no cgroup of its own",
                             hint: "start it with a limit (--memory, --pids, --cpus, --cpuset, or lxc.cgroup2.* keys) to give it one")
        }
        let cgroup = ContainerCgroup(directories: store.ownCgroups(of: name, in: record))
        let key = arguments.arguments[0]
        // A file name of the cgroup, never a path out of it.
        guard !key.isEmpty, key.contains("."), key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" }) else {
            throw SwrunError(.invalidArgument, "'\(key)' is not a cgroup file name", hint: "for example memory.max or pids.current")
        }
        guard arguments.arguments.count > 1 else {
            guard let value = cgroup.read(key) else {
                throw SwrunError(.notFound, "the cgroup of container '\(name)' has no \(key)", hint: "its cgroup: \(record.cgroups.joined(separator: ", "))")
            }
            print(value)
            return 0
        }
        try requireRoot("swrun cgroup")
        try CgroupManagers.current().set(key, arguments.arguments[1], in: cgroup)
        return 0
    }
}
