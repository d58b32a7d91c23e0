import SwrunCgroups
import SwrunSystem

/// `swrun freeze` and `unfreeze` (lxc-freeze, lxc-unfreeze): every process of a running
/// container stopped where it is, through its cgroup, and let go again.
public struct ContainerFreezer {
    public let store: ContainerStore
    public let name: String

    public init(store: ContainerStore, name: String) {
        self.store = store
        self.name = name
    }

    public func set(frozen: Bool) throws(SwrunError) {
        try store.requireExisting(name)
        let status = store.status(of: name)
        guard status.state == .running || status.state == .frozen, let record = status.record else {
            throw SwrunError(.notFound, "container '\(name)' is not running (\(status.state.rawValue))", hint: "start it first: swrun start -n \(name)")
        }
        guard let freezer = CgroupFreezer(directories: store.ownCgroups(of: name, in: record)) else {
            throw SwrunError(.notFound, "container '\(name)' has no cgroup that can freeze",
                             hint: "swrun gives every container one on a cgroup v2 host; on a v1 or hybrid host only containers started with a limit have a cgroup, and that has no freezer")
        }
        try freezer.set(frozen: frozen)
    }
}
