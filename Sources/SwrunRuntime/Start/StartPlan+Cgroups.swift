import SwrunConfig
import SwrunSystem

/// lxc.mount.auto = cgroup[:mode]: the host's cgroup hierarchies, as the container's
/// cgroup namespace sees them, under a tmpfs at /sys/fs/cgroup.
extension StartPlan {
    /// One cgroup filesystem mounted on the host under /sys/fs/cgroup.
    struct CgroupHierarchy: Equatable {
        var directory: String   // "memory", "systemd", "unified", or "" for a unified host
        var fsType: String      // "cgroup" or "cgroup2"
        var options: String     // the controllers: "memory", "none,name=systemd"; "" for cgroup2
    }

    /// The cgroup hierarchies in a mountinfo text (the host's, /proc/self/mountinfo).
    static func cgroupHierarchies(mountInfo: String) -> [CgroupHierarchy] {
        mountInfo.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ").map(String.init)
            guard let dash = fields.firstIndex(of: "-"), fields.count > dash + 3 else { return nil }
            let mountPoint = fields[4], fsType = fields[dash + 1], superOptions = fields[dash + 3]
            guard fsType == "cgroup" || fsType == "cgroup2", mountPoint == "/sys/fs/cgroup" || mountPoint.hasPrefix("/sys/fs/cgroup/") else { return nil }
            let directory = String(mountPoint.dropFirst("/sys/fs/cgroup".count).drop(while: { $0 == "/" }))
            let controllers = superOptions.split(separator: ",").filter { $0 != "rw" && $0 != "ro" }.map(String.init)
            var options = fsType == "cgroup2" ? [] : controllers
            if options.contains(where: { $0.hasPrefix("name=") }) && !options.contains("none") { options.insert("none", at: 0) }
            return CgroupHierarchy(directory: directory, fsType: fsType, options: options.joined(separator: ","))
        }
    }

    func planCgroupMounts(_ mode: MountAuto.CgroupMode) throws(SwrunError) {
        let hierarchies = Self.cgroupHierarchies(mountInfo: try FileSystem.readText("/proc/self/mountinfo"))
        // swrun does not give the container a cgroup of its own yet, so the namespace's root is
        // swrun's own cgroup: "mixed" (own cgroup writable, the rest read-only) is read-only for now.
        let readOnly = mode != .rw
        let flags = readOnly ? MountFlags.restrictive.union(.readOnly) : MountFlags.restrictive
        let unified = hierarchies.count == 1 && hierarchies[0].directory.isEmpty
        if !unified {
            mountKernelFilesystem("tmpfs", at: "/sys/fs/cgroup", flags: .restrictive, data: "mode=755",
                                  why: "lxc.mount.auto cgroup: a tmpfs to hold one mount per hierarchy, as on the host")
        }
        for hierarchy in hierarchies {
            let target = FileSystem.join("/sys/fs/cgroup", hierarchy.directory)
            if !unified { makeDirectoriesInRoot(target) }
            let data = hierarchy.options.isEmpty ? nil : hierarchy.options
            // A user namespace may not mount every v1 hierarchy: those it may not are left out.
            addSetup(.mount(source: .host(c(hierarchy.fsType)), target: .inRoot(c(target)), fsType: c(hierarchy.fsType),
                            flags: flags.rawValue, data: data.map(c), optional: usesUserNamespace),
                     "mount the \(hierarchy.directory.isEmpty ? "cgroup2" : hierarchy.directory) hierarchy on \(target)",
                     call: "mount(\"\(hierarchy.fsType)\", \"\(target)\", \"\(hierarchy.fsType)\", \(flags.cNames), \(data.map { "\"\($0)\"" } ?? "NULL"))",
                     why: "the cgroup namespace roots this view at the container's cgroup" + (readOnly ? "; read-only (cgroup:\(mode.rawValue))" : ""))
        }
        if !unified && readOnly {
            let remount: MountFlags = MountFlags.restrictive.union([.bind, .remount, .readOnly])
            addSetup(.mount(source: nil, target: .inRoot(c("/sys/fs/cgroup")), fsType: nil, flags: remount.rawValue, data: nil, optional: false),
                     "make /sys/fs/cgroup read-only", call: "mount(NULL, \"/sys/fs/cgroup\", NULL, \(remount.cNames), NULL)",
                     why: "no new directories appear beside the hierarchies")
        }
    }
}
