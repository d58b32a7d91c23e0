import CLinux
import Glibc
import SwrunSystem

/// How the host mounts cgroups, detected as crun and youki do: by the filesystem
/// type of /sys/fs/cgroup (statfs magic).
public enum CgroupMode: String, Sendable, Equatable {
    /// cgroup2 at /sys/fs/cgroup: one tree, every controller in it.
    case unified
    /// v1 hierarchies under a tmpfs, plus cgroup2 at /sys/fs/cgroup/unified.
    case hybrid
    /// v1 hierarchies only.
    case legacy

    static let cgroup2Magic: UInt = 0x6367_7270
    static let tmpfsMagic: UInt = 0x0102_1994

    public static func detect(root: String = "/sys/fs/cgroup") -> CgroupMode? {
        guard let type = filesystemType(root) else { return nil }
        if type == cgroup2Magic { return .unified }
        guard type == tmpfsMagic else { return nil }
        return filesystemType(root + "/unified") == cgroup2Magic ? .hybrid : .legacy
    }

    /// Whether `path` is on a cgroup2 filesystem.
    public static func isCgroup2(_ path: String) -> Bool { filesystemType(path) == cgroup2Magic }

    private static func filesystemType(_ path: String) -> UInt? {
        let type = swrun_filesystem_type(path)
        return type < 0 ? nil : UInt(bitPattern: type)
    }

    /// The controllers this host has, and whether each is enabled: v1 from /proc/cgroups,
    /// v2 from cgroup.controllers of the unified tree's root.
    public static func controllers(mode: CgroupMode, root: String = "/sys/fs/cgroup") -> (v1: [String], v2: [String]) {
        var v1: [String] = []
        if mode != .unified, let text = try? FileSystem.readText("/proc/cgroups") {
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let fields = line.split(separator: "\t")
                if fields.count >= 4, fields[3] == "1" { v1.append(String(fields[0])) }
            }
        }
        let unifiedRoot = mode == .unified ? root : root + "/unified"
        let v2 = mode == .legacy ? [] : ((try? FileSystem.readText(unifiedRoot + "/cgroup.controllers")) ?? "")
            .split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        return (v1, v2)
    }
}
