import Glibc
import SwrunSystem

/// One cgroup filesystem that the host mounts under /sys/fs/cgroup: a v1 hierarchy with
/// its controllers (or a named one, such as name=systemd), or the v2 tree. A container
/// gets a cgroup of its own in each, below swrun's own cgroup there.
public struct CgroupHierarchy: Sendable, Equatable {
    /// Where it is mounted below /sys/fs/cgroup: "memory", "cpu,cpuacct", "systemd",
    /// "unified"; "" for the v2 tree of a unified host.
    public var directory: String
    /// v1: its controllers as /proc/self/cgroup names them ("cpu", "cpuacct",
    /// "name=systemd"); empty for cgroup2.
    public var controllers: [String]
    /// swrun's own cgroup in it, as /proc/self/cgroup gives it ("/", "/a/b").
    public var ownPath: String
    /// Mounted read-only on the host (a container nested in another, say).
    public var readOnly: Bool

    public init(directory: String, controllers: [String], ownPath: String, readOnly: Bool = false) {
        self.directory = directory
        self.controllers = controllers
        self.ownPath = ownPath
        self.readOnly = readOnly
    }

    public var isUnified: Bool { controllers.isEmpty }
    public var fsType: String { isUnified ? "cgroup2" : "cgroup" }
    /// The options that mount this hierarchy again (inside a container): its controllers,
    /// or "none,name=X" for a named one; none for cgroup2. The kernel matches an existing
    /// v1 hierarchy by its controllers alone.
    public var mountOptions: String? {
        if isUnified { return nil }
        let named = controllers.contains { $0.hasPrefix("name=") }
        return ((named ? ["none"] : []) + controllers).joined(separator: ",")
    }

    /// The hierarchies this process sees, in mountinfo's order. A hierarchy mounted twice is
    /// listed once (where /sys/fs/cgroup has it first); one not mounted under /sys/fs/cgroup
    /// (net_cls on many hosts) is left out: nothing could reach a container's cgroup there.
    public static func mounted(mountInfo: String, procSelfCgroup: String) -> [CgroupHierarchy] {
        // /proc/self/cgroup: "4:memory:/path", "2:cpu,cpuacct:/", "9:name=systemd:/", "0::/path".
        // Keyed by the controllers sorted: the mount options may list them in another order.
        func key(_ controllers: [String]) -> String { controllers.sorted().joined(separator: ",") }
        var ownPaths: [String: String] = [:]
        var known: Set<String> = []
        var unifiedPath: String?
        for line in procSelfCgroup.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            if fields[0] == "0" && fields[1].isEmpty {
                unifiedPath = String(fields[2])
            } else {
                let controllers = fields[1].split(separator: ",").map(String.init)
                ownPaths[key(controllers)] = String(fields[2])
                known.formUnion(controllers)
            }
        }
        /// The hierarchy a mountinfo line mounts, or nil (not a cgroup filesystem, or none of ours).
        func hierarchy(_ fields: [String], dash: Int, at mountPoint: String) -> CgroupHierarchy? {
            let fsType = fields[dash + 1]
            let directory = String(mountPoint.dropFirst("/sys/fs/cgroup".count).drop { $0 == "/" })
            guard fsType == "cgroup" || fsType == "cgroup2", !directory.contains("/") else { return nil }  // not a hierarchy's subdirectory bound here
            let readOnly = fields[5].split(separator: ",").contains("ro")
            if fsType == "cgroup2" {
                return unifiedPath.map { CgroupHierarchy(directory: directory, controllers: [], ownPath: $0, readOnly: readOnly) }
            }
            // The superblock's options hold the controllers among flags (rw, xattr, release_agent=...).
            let controllers = fields[dash + 3].split(separator: ",").map(String.init).filter { known.contains($0) }
            guard !controllers.isEmpty, let ownPath = ownPaths[key(controllers)] else { return nil }
            return CgroupHierarchy(directory: directory, controllers: controllers, ownPath: ownPath, readOnly: readOnly)
        }
        // What is mounted on /sys/fs/cgroup and below, in mount order: a later mount on a path,
        // or on a directory above it, hides what was mounted there before (a tmpfs over the
        // unified tree, as crun's workaround for hybrid hosts has it). Only lines that mount
        // there are split: most of a host's mounts are elsewhere.
        var mounts: [(point: String, hierarchy: CgroupHierarchy?)] = []
        for line in cgroupMountLines(mountInfo) {
            let fields = line.split(separator: " ").map(String.init)
            guard let dash = fields.firstIndex(of: "-"), fields.count > dash + 3, dash > 5 else { continue }
            let mountPoint = fields[4]
            mounts.removeAll { $0.point == mountPoint || $0.point.hasPrefix(mountPoint + "/") }
            mounts.append((mountPoint, hierarchy(fields, dash: dash, at: mountPoint)))
        }
        var result: [CgroupHierarchy] = []
        for case let hierarchy? in mounts.map(\.hierarchy)
            where !result.contains(where: { $0.controllers == hierarchy.controllers && $0.isUnified == hierarchy.isUnified }) {
            result.append(hierarchy)
        }
        return result
    }

    /// The lines of mountinfo whose mount point (field 5; mountinfo escapes the spaces in
    /// paths) is /sys/fs/cgroup or below it. Found on the bytes: this runs over the host's
    /// whole mount table at every start, and Character-wise splitting showed in its profile.
    private static func cgroupMountLines(_ mountInfo: String) -> [String] {
        let bytes = Array(mountInfo.utf8)
        let root = Array("/sys/fs/cgroup".utf8)
        var lines: [String] = []
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            var spaces = 0
            var fieldStart = start
            for index in start..<end where bytes[index] == UInt8(ascii: " ") {
                spaces += 1
                if spaces == 4 { fieldStart = index + 1 }
                if spaces == 5 {
                    let point = bytes[fieldStart..<index]
                    if point.starts(with: root) && (point.count == root.count || point[fieldStart + root.count] == UInt8(ascii: "/")) {
                        lines.append(String(decoding: bytes[start..<end], as: UTF8.self))
                    }
                    break
                }
            }
            start = end + 1
        }
        return lines
    }

    /// The host's hierarchies, as this process sees them.
    public static func current() throws(SwrunError) -> [CgroupHierarchy] {
        mounted(mountInfo: try FileSystem.readText("/proc/self/mountinfo"), procSelfCgroup: try FileSystem.readText("/proc/self/cgroup"))
    }

    /// The links of /sys/fs/cgroup that name a co-mounted hierarchy by one of its controllers
    /// ("cpu" -> "cpu,cpuacct"), as the host has them: a container's tree gets the same.
    public static func controllerLinks(in root: String = "/sys/fs/cgroup", to hierarchies: [CgroupHierarchy]) -> [(name: String, target: String)] {
        let names = Set(hierarchies.map(\.directory))
        var links: [(name: String, target: String)] = []
        for name in FileSystem.names(in: root, ofType: Int32(DT_LNK)) ?? [] {
            guard let target = try? FileSystem.readLink(FileSystem.join(root, name)), names.contains(target) else { continue }
            links.append((name, target))
        }
        return links.sorted { $0.name < $1.name }
    }
}
