import SwrunCgroups
import SwrunSystem

/// What a plan needs to know of the host, read once per start: the cgroup layout and
/// hierarchies, the co-mount links, the kernel's version, whether sysfs is read-only. A test
/// gives its own, to plan for a host it is not on (a cgroup v2 host, an old kernel).
public struct HostFacts: Sendable {
    public var cgroupMode: CgroupMode?
    public var cgroupHierarchies: [CgroupHierarchy]
    /// What makes the container's cgroup on this layout, chosen once from the two above.
    public var cgroupManager: (any CgroupManager)? {
        cgroupMode.map { CgroupManagers.forHost(mode: $0, hierarchies: cgroupHierarchies, root: cgroupRoot) }
    }
    /// /sys/fs/cgroup but in tests.
    public var cgroupRoot = "/sys/fs/cgroup"
    /// /sys/fs/cgroup's links to co-mounted hierarchies ("cpu" -> "cpu,cpuacct").
    public var cgroupLinks: [CgroupLink]
    /// (major, minor).
    public var kernel: (Int, Int)
    /// The host's /sys is read-only (its mount or its superblock).
    public var sysfsIsReadOnly: Bool

    public struct CgroupLink: Sendable, Equatable {
        public var name: String
        public var target: String
    }

    public init(cgroupMode: CgroupMode?, cgroupHierarchies: [CgroupHierarchy], cgroupLinks: [CgroupLink] = [],
                kernel: (Int, Int), sysfsIsReadOnly: Bool = false) {
        self.cgroupMode = cgroupMode
        self.cgroupHierarchies = cgroupHierarchies
        self.cgroupLinks = cgroupLinks
        self.kernel = kernel
        self.sysfsIsReadOnly = sysfsIsReadOnly
    }

    /// This host's, as this process sees it.
    public static func current() throws(SwrunError) -> HostFacts {
        let mode = CgroupMode.detect()
        let hierarchies = mode == nil ? [] : try CgroupHierarchy.current()
        return HostFacts(cgroupMode: mode, cgroupHierarchies: hierarchies,
                         cgroupLinks: CgroupHierarchy.controllerLinks(to: hierarchies).map { CgroupLink(name: $0.name, target: $0.target) },
                         kernel: KernelVersion.current, sysfsIsReadOnly: StartPlan.hostSysfsIsReadOnly)
    }

    /// What attach needs: nothing (it plans no cgroup, mount or link).
    static let none = HostFacts(cgroupMode: nil, cgroupHierarchies: [], kernel: (0, 0))
}
