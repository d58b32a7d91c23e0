import SwrunRuntime
import SwrunSystem

enum DestroyCommand: Command {
    static let spec = CommandSpec(
        name: "destroy",
        abstract: "Destroy a container: its config and rootfs (lxc-destroy).",
        options: [CommonOptions.name, CommonOptions.lxcPath])
    static let requiredOptions = ["name"]

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let name = try arguments.required("name", of: spec)
        try requireRoot("swrun destroy")
        try arguments.store().destroy(name)
        print("Destroyed container \(name)")
        return 0
    }
}
