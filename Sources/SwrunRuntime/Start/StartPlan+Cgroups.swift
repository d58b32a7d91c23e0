import SwrunCgroups
import SwrunConfig
import SwrunSystem

/// lxc.mount.auto = cgroup[-full|2][:mode][:force]: the container's cgroups, mounted by swrun
/// as LXC's `:force` mounts them, so that a distribution's init finds them ready. Init is in
/// a cgroup namespace rooted at the container's own cgroup, so every mount shows that cgroup
/// as its root: whatever the mode, the container sees and writes only its own subtree (and
/// cgroup-full shows what cgroup shows, as in LXC with a cgroup namespace).
extension StartPlan {
    func planCgroupMounts(_ mode: MountAuto.CgroupMode, kind: MountAuto.CgroupKind) throws(SwrunError) {
        guard ownsCgroup else {
            warnings.append("lxc.mount.auto cgroup: not mounted, as this host has no writable cgroup hierarchy to give the container a cgroup of its own")
            return
        }
        let readOnly = mode == .ro
        let hierarchies = containerHierarchies
        let flags = readOnly ? MountFlags.restrictive.union(.readOnly) : MountFlags.restrictive
        // cgroup2, and any cgroup mount on a unified host: the v2 tree alone, at /sys/fs/cgroup.
        if kind == .cgroup2 || cgroupMode == .unified {
            guard let unified = hierarchies.first(where: \.isUnified) else {
                throw SwrunError(.invalidConfig, "lxc.mount.auto = cgroup2 asks for the cgroup v2 tree, which this host does not mount",
                                 hint: "use cgroup:mixed (the host's v1 hierarchies), or boot the host with cgroup v2")
            }
            mountHierarchy(unified, at: "/sys/fs/cgroup", flags: flags, readOnly: readOnly, delegated: !readOnly)
            return
        }
        mountKernelFilesystem("tmpfs", at: "/sys/fs/cgroup", flags: .restrictive, data: "mode=755,size=1024k",
                              why: "lxc.mount.auto cgroup: a tmpfs to hold one mount per hierarchy, as on the host")
        for hierarchy in hierarchies {
            let target = FileSystem.join("/sys/fs/cgroup", hierarchy.directory)
            makeDirectoriesInRoot(target)
            mountHierarchy(hierarchy, at: target, flags: flags, readOnly: readOnly, delegated: false)
        }
        let directories = Set(hierarchies.map(\.directory))
        for link in host.cgroupLinks where directories.contains(link.target) {
            addSetup(.makeSymlink(parent: c("/sys/fs/cgroup"), name: c(link.name), target: c(link.target), replace: false),
                     "link /sys/fs/cgroup/\(link.name) to \(link.target)", call: "symlinkat(\"\(link.target)\", cgroupfs, \"\(link.name)\")",
                     why: "co-mounted controllers are reached by either name, as on the host")
        }
        // rw leaves the tmpfs writable as LXC's cgroup:rw does; the others seal it.
        if mode != .rw {
            let remount = MountFlags.restrictive.union([.bind, .remount, .readOnly])
            addSetup(.mount(source: nil, target: .inRoot(c("/sys/fs/cgroup")), fsType: nil, flags: remount.rawValue, data: nil, optional: false),
                     "make /sys/fs/cgroup read-only", call: "mount(NULL, \"/sys/fs/cgroup\", NULL, \(remount.cNames), NULL)",
                     why: "no new directories appear beside the hierarchies; the hierarchies themselves stay \(readOnly ? "read-only" : "writable")")
        }
    }

    private func mountHierarchy(_ hierarchy: CgroupHierarchy, at target: String, flags: MountFlags, readOnly: Bool, delegated: Bool) {
        if spec.namespaces.fromHost.contains("cgroup") && (cgroupMode != .unified || !hierarchy.isUnified) {
            return bindOwnCgroup(hierarchy, at: target, readOnly: readOnly)
        }
        let options = hierarchy.mountOptions
        let name = hierarchy.isUnified ? "cgroup2" : hierarchy.directory
        // A user namespace may not mount every v1 hierarchy: those it may not are left out.
        addSetup(.mount(source: .host(c(hierarchy.fsType)), target: .inRoot(c(target)), fsType: c(hierarchy.fsType),
                        flags: flags.rawValue, data: options.map(c), optional: usesUserNamespace),
                 "mount the \(name) hierarchy on \(target)",
                 call: "mount(\"\(hierarchy.fsType)\", \"\(target)\", \"\(hierarchy.fsType)\", \(flags.cNames), \(options.map { "\"\($0)\"" } ?? "NULL"))",
                 why: "the cgroup namespace roots this view at the container's own cgroup"
                     + (readOnly ? "; read-only (cgroup:ro)" : "; writable: its init makes its own cgroups below")
                     + (delegated ? ", with the controllers delegated to it" : ""))
    }

    /// Without a cgroup namespace of its own (an OCI bundle that lists none, as podman's on a
    /// v1 host), a mounted hierarchy would show the host's root: the container's own cgroup
    /// is bound there instead, as runc does, so that it reads its own limits.
    private func bindOwnCgroup(_ hierarchy: CgroupHierarchy, at target: String, readOnly: Bool) {
        let leaf = ContainerCgroup.leafName(container: request.containerName, lxcPath: FileSystem.parentPath(request.containerDirectory))
        let source = ContainerCgroup.directory(in: hierarchy, leaf: leaf, directory: spec.resources.cgroupDirectory)
        addSetup(.mount(source: .host(c(source)), target: .inRoot(c(target)), fsType: nil, flags: MountFlags.bind.rawValue, data: nil, optional: true),
                 "bind the container's cgroup \(source) on \(target)", call: "mount(\"\(source)\", \"\(target)\", NULL, MS_BIND, NULL)",
                 why: "the container keeps the host's cgroup namespace: its own cgroup is what it sees of the hierarchy")
        if readOnly {
            let flags = MountFlags.restrictive.union([.bind, .remount, .readOnly])
            addSetup(.mount(source: nil, target: .inRoot(c(target)), fsType: nil, flags: flags.rawValue, data: nil, optional: true),
                     "make \(target) read-only", call: "mount(NULL, \"\(target)\", NULL, \(flags.cNames), NULL)", why: "cgroup:ro")
        }
    }
}
