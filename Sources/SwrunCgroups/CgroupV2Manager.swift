import SwrunSystem

/// Cgroups on a v2 host: one directory in the one tree, its controllers given to it from
/// above (cgroup.subtree_control), the device policy a BPF program attached to it.
struct CgroupV2Manager: CgroupManager {
    let hierarchies: [CgroupHierarchy]
    let root: String

    var mode: CgroupMode { .unified }
    var enforcesDevicePolicy: Bool { true }

    /// The controllers a container's cgroup is given to hand on to its own children
    /// (`delegate`): what a distribution's init (systemd) enables for its services.
    static let delegated = ["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"]

    func create(_ request: CgroupRequest) throws(SwrunError) -> ContainerCgroup {
        let writes = try request.limits.writes(for: mode)
        let controllers = request.limits.controllers(for: mode)
        guard let tree = hierarchies.first(where: \.isUnified) else {
            if controllers.isEmpty { return ContainerCgroup(directories: []) }
            throw SwrunError(.missingDependency, "this host mounts no cgroup v2 tree at /sys/fs/cgroup for the container's limits",
                             hint: "see `swrun checkconfig`")
        }
        if tree.readOnly && controllers.isEmpty { return ContainerCgroup(directories: []) }
        var made: String?
        do throws(SwrunError) {
            let directory = try makeCgroup(request, in: tree, controllers: controllers)
            made = directory
            for item in writes {
                try FileSystem.writeExisting(FileSystem.join(directory, item.file), item.value, hint: ContainerCgroup.limitHint)
            }
            try request.devices?.attach(to: directory)
        } catch {
            ContainerCgroup(directories: made.map { [$0] } ?? []).remove()
            throw error
        }
        return ContainerCgroup(directories: made.map { [$0] } ?? [], configuredDirectory: request.directory)
    }

    /// The cgroup: below `base` (swrun's own), with the controllers its limits need, and with
    /// `delegate` every one the parent can give. v2 lets no cgroup that holds processes
    /// (swrun's own does) give controllers to children: then the container goes below the
    /// tree's root, as LXC places it. Without controllers it stays below swrun's own.
    private func makeCgroup(_ request: CgroupRequest, in tree: CgroupHierarchy, controllers: [String]) throws(SwrunError) -> String {
        let base = ContainerCgroup.base(in: tree, directory: request.directory, root: root)
        let treeRoot = FileSystem.join(root, tree.directory)
        let wanted = controllers + (request.delegate ? Self.delegated.filter { !controllers.contains($0) } : [])
        var (parent, given) = (base, [String]())
        if !wanted.isEmpty {
            (parent, given) = try Self.enable(wanted, below: base, root: request.relative ? nil : treeRoot, required: controllers)
        }
        let directory = FileSystem.join(parent, request.path)
        try ContainerCgroup.makeParents(of: directory, below: parent) { made throws(SwrunError) in
            if !given.isEmpty {
                try FileSystem.writeExisting(FileSystem.join(made, "cgroup.subtree_control"), given.map { "+" + $0 }.joined(separator: " "))
            }
        }
        try ContainerCgroup.makeFresh(directory, configured: request.directory != nil)
        return directory
    }

    /// Gives controllers to the children of `parent`, or of `root` when `parent` holds
    /// processes (EBUSY) and an escape there is allowed; returns the cgroup that the
    /// container's goes below, and the controllers given. The `required` ones (for limits)
    /// must be given; of the others, those the cgroup has to give.
    private static func enable(_ wanted: [String], below parent: String, root: String?,
                               required: [String]) throws(SwrunError) -> (parent: String, given: [String]) {
        func offered(by cgroup: String) -> [String] {
            let available = ((try? FileSystem.readText(FileSystem.join(cgroup, "cgroup.controllers"))) ?? "")
                .split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
            return wanted.filter { required.contains($0) || available.contains($0) }
        }
        func give(_ controllers: [String], at cgroup: String, hint: String? = nil) throws(SwrunError) {
            guard !controllers.isEmpty else { return }
            try FileSystem.writeExisting(FileSystem.join(cgroup, "cgroup.subtree_control"), controllers.map { "+" + $0 }.joined(separator: " "), hint: hint)
        }
        let here = offered(by: parent)
        do {
            try give(here, at: parent)
            return (parent, here)
        } catch where error.errno == .resourceBusy {
            guard let root, parent != root else {
                if required.isEmpty { return (parent, []) }  // delegation only: the container does without
                throw SwrunError(.busy, "cannot give \(required.joined(separator: ", ")) to the container's cgroup below \(parent): that cgroup holds processes (cgroup v2 allows controllers only to cgroups without)",
                                 errno: error.errno, hint: "run swrun from a cgroup of its own (systemd-run --scope), or drop lxc.cgroup.relative so the container may go below the root")
            }
            let there = offered(by: root)
            try give(there, at: root, hint: "the cgroup v2 root must be able to give these controllers to the container")
            return (root, there)
        }
    }
}
