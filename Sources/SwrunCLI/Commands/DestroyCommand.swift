import SwrunRuntime
import SwrunSystem

enum DestroyCommand: Command {
    static let spec = CommandSpec(
        name: "destroy",
        abstract: "Destroy a container: its config and rootfs (lxc-destroy).",
        options: [CommonOptions.name, CommonOptions.lxcPath,
                  .init(short: "f", long: "force", value: nil, help: "Stop a running container first (SIGKILL)."),
                  .init(short: "s", long: "snapshots", value: nil, help: "Destroy the container's snapshots too (lxc-destroy -s).")])
    static let requiredOptions = ["name"]

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let name = try arguments.required("name", of: spec)
        try requireRoot("swrun destroy")
        let store = try arguments.store()
        if arguments.flag("force") {
            try store.destroyKillingIt(name, snapshots: arguments.flag("snapshots"), warn: warn)
        } else {
            try store.destroy(name, snapshots: arguments.flag("snapshots"))
        }
        print("Destroyed container \(name)")
        return 0
    }
}
