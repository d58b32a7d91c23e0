import SwrunRuntime
import SwrunSystem

enum FreezeCommand: Command {
    static let spec = CommandSpec(
        name: "freeze",
        abstract: "Freeze every process of a running container where it is (lxc-freeze).",
        discussion: "Through the container's cgroup (cgroup.freeze, or the v1 freezer). `swrun unfreeze` lets them go on; `swrun info` shows FROZEN meanwhile.",
        options: [CommonOptions.name, CommonOptions.lxcPath])
    static let requiredOptions = ["name"]

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        try change(arguments, frozen: true, spec: spec)
    }

    static func change(_ arguments: ParsedArguments, frozen: Bool, spec: CommandSpec) throws(SwrunError) -> Int32 {
        let name = try arguments.required("name", of: spec)
        try requireRoot(frozen ? "swrun freeze" : "swrun unfreeze")
        try ContainerFreezer(store: try arguments.store(), name: name).set(frozen: frozen)
        return 0
    }
}

enum UnfreezeCommand: Command {
    static let spec = CommandSpec(
        name: "unfreeze",
        abstract: "Let the processes of a frozen container go on (lxc-unfreeze).",
        options: [CommonOptions.name, CommonOptions.lxcPath])
    static let requiredOptions = ["name"]

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        try FreezeCommand.change(arguments, frozen: false, spec: spec)
    }
}
