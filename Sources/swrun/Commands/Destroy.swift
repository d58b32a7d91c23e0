import ArgumentParser
import SwrunRuntime
import SwrunSystem

struct Destroy: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Destroy a container: its config and rootfs (lxc-destroy).")

    @Option(name: [.customShort("n"), .long], help: "The container's name.")
    var name: String

    @OptionGroup var path: LXCPathOption

    func run() throws {
        try reportingErrors { () throws(SwrunError) -> Int32 in
            try requireRoot("swrun destroy")
            let store = try path.store()
            try store.destroy(name)
            print("Destroyed container \(name)")
            return 0
        }
    }
}
