import SwrunSystem

/// What a container's cgroup is to be: its name and place, its limits and device policy.
public struct CgroupRequest: Sendable {
    /// The cgroup's own name below swrun's ("swrun-NAME-HASH"), unless `directory` places it.
    public var leaf: String
    /// lxc.cgroup.dir ("a/b", below swrun's own cgroup; its missing parents are made and stay,
    /// as with LXC) or an OCI cgroupsPath (absolute: from the hierarchy's root, as runc takes it).
    public var directory: String?
    /// lxc.cgroup.relative: no escape to the v2 root, even where controllers would need it.
    public var relative = false
    public var limits: CgroupLimits
    public var devices: DevicePolicy?
    /// Give a v2 cgroup every controller it can have, for a booted init (systemd) to hand on.
    public var delegate = false

    public init(leaf: String, directory: String? = nil, relative: Bool = false, limits: CgroupLimits = CgroupLimits(),
                devices: DevicePolicy? = nil, delegate: Bool = false) {
        self.leaf = leaf
        self.directory = directory
        self.relative = relative
        self.limits = limits
        self.devices = devices
        self.delegate = delegate
    }

    /// The cgroup's path below its base, without a leading slash.
    var path: String { String((directory ?? leaf).drop { $0 == "/" }) }
}

/// Makes and changes containers' cgroups on one host's cgroup layout. A manager is chosen once,
/// from the host's facts (`CgroupManagers.forHost`), so that nothing above it asks which
/// layout it runs on: `CgroupV1Manager` for a hierarchy per controller (a hybrid host's empty
/// v2 tree among them), `CgroupV2Manager` for the one v2 tree.
public protocol CgroupManager: Sendable {
    var mode: CgroupMode { get }
    /// Makes the container's cgroup, with its limits and device policy written in; anything
    /// made is removed again on failure.
    func create(_ request: CgroupRequest) throws(SwrunError) -> ContainerCgroup
    /// Whether a cgroup made here carries a device policy.
    var enforcesDevicePolicy: Bool { get }
}

extension CgroupManager {
    /// Writes `value` to the file `file` of `cgroup`, wherever the cgroup has it; a v2 key
    /// that this layout keeps under v1 names (memory.max on a hybrid host) is translated first.
    public func set(_ file: String, _ value: String, in cgroup: ContainerCgroup) throws(SwrunError) {
        if let directory = cgroup.directories.first(where: { FileSystem.exists(FileSystem.join($0, file)) }) {
            return try FileSystem.writeExisting(FileSystem.join(directory, file), value, hint: ContainerCgroup.limitHint)
        }
        var limits = CgroupLimits()
        try limits.set(v2: file, value, origin: "swrun cgroup")
        try apply(limits, to: cgroup)
    }

    /// Writes new limits into a running container's cgroup (`swrun cgroup`, OCI `update`).
    public func apply(_ limits: CgroupLimits, to cgroup: ContainerCgroup) throws(SwrunError) {
        for item in try limits.writes(for: mode) {
            guard let directory = cgroup.directories.first(where: { FileSystem.exists(FileSystem.join($0, item.file)) }) else {
                throw SwrunError(.notFound, "the container's cgroup has no \(item.file)",
                                 hint: "its cgroup covers only the controllers of its limits: \(cgroup.directories.joined(separator: ", "))")
            }
            try FileSystem.writeExisting(FileSystem.join(directory, item.file), item.value, hint: ContainerCgroup.limitHint)
        }
    }
}

/// The choice of a cgroup manager.
public enum CgroupManagers {
    /// The manager for a host that mounts cgroups as `mode` says, with `hierarchies`; `root`
    /// is /sys/fs/cgroup but in tests.
    public static func forHost(mode: CgroupMode, hierarchies: [CgroupHierarchy], root: String = "/sys/fs/cgroup") -> any CgroupManager {
        switch mode {
        case .unified: CgroupV2Manager(hierarchies: hierarchies, root: root)
        case .hybrid, .legacy: CgroupV1Manager(mode: mode, hierarchies: hierarchies, root: root)
        }
    }

    /// This host's, for commands that change a running container's cgroup.
    public static func current() throws(SwrunError) -> any CgroupManager {
        guard let mode = CgroupMode.detect() else {
            throw SwrunError(.missingDependency, "this host has no cgroup filesystem at /sys/fs/cgroup", hint: "see `swrun checkconfig`")
        }
        return forHost(mode: mode, hierarchies: try CgroupHierarchy.current())
    }
}
