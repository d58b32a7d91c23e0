import SwrunSystem

/// Cgroups on a v1 host (legacy), or a hybrid one: a directory in each hierarchy the host
/// mounts (each v1 controller, name=systemd, and a hybrid host's v2 tree, which has no
/// controllers), as LXC makes them; each limit goes to the hierarchy of its controller.
struct CgroupV1Manager: CgroupManager {
    let mode: CgroupMode
    let hierarchies: [CgroupHierarchy]
    let root: String

    var enforcesDevicePolicy: Bool { hierarchies.contains { $0.controllers.contains("devices") && !$0.readOnly } }

    func create(_ request: CgroupRequest) throws(SwrunError) -> ContainerCgroup {
        let writes = try request.limits.writes(for: mode)
        let controllers = request.limits.controllers(for: mode)
        try requireControllers(controllers)
        var made: [String] = []
        do throws(SwrunError) {
            for hierarchy in hierarchies {
                // A hierarchy the host mounts read-only is skipped, unless a limit needs it.
                if hierarchy.readOnly && !controllers.contains(where: hierarchy.controllers.contains) { continue }
                let base = ContainerCgroup.base(in: hierarchy, directory: request.directory, root: root)
                let target = FileSystem.join(base, request.path)
                let cpuset = hierarchy.controllers.contains("cpuset")
                try ContainerCgroup.makeParents(of: target, below: base) { made throws(SwrunError) in
                    if cpuset { try Self.inheritCpuset(made) }
                }
                try ContainerCgroup.makeFresh(target, configured: request.directory != nil)
                made.append(target)
                if cpuset { try Self.inheritCpuset(target) }
                for item in writes where hierarchy.controllers.contains(item.controller) {
                    try FileSystem.writeExisting(FileSystem.join(target, item.file), item.value, hint: ContainerCgroup.limitHint)
                }
                if let devices = request.devices, hierarchy.controllers.contains("devices") {
                    // One open per run of rules to the same file: devices.allow takes a dozen.
                    var rules = devices.v1Writes[...]
                    while let file = rules.first?.file {
                        let run = rules.prefix { $0.file == file }
                        try FileSystem.writeEach(FileSystem.join(target, file), run.map(\.value),
                                                 hint: "check lxc.cgroup.devices.allow and deny: a cgroup may not allow more than its parent")
                        rules = rules.dropFirst(run.count)
                    }
                }
            }
        } catch {
            ContainerCgroup(directories: made).remove()
            throw error
        }
        return ContainerCgroup(directories: made, configuredDirectory: request.directory)
    }

    /// A limit on a controller that no writable hierarchy has is an error before anything is made.
    private func requireControllers(_ controllers: [String]) throws(SwrunError) {
        for controller in controllers {
            guard let hierarchy = hierarchies.first(where: { $0.controllers.contains(controller) }) else {
                throw SwrunError(.missingDependency, "this host has no cgroup v1 \(controller) controller for the container's \(controller) limits",
                                 hint: "see `swrun checkconfig`; remove the \(controller) limits or mount the controller")
            }
            if hierarchy.readOnly {
                throw SwrunError(.permissionDenied, "the cgroup v1 \(controller) hierarchy is mounted read-only here, so the container's \(controller) limits cannot be set",
                                 hint: "remove the \(controller) limits, or run swrun where /sys/fs/cgroup/\(hierarchy.directory) is writable")
            }
        }
    }

    /// v1 cpuset needs cpus and mems set before a task can join: start from the parent's.
    private static func inheritCpuset(_ directory: String) throws(SwrunError) {
        let parent = FileSystem.parentPath(directory)
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let value = (try? FileSystem.readText(FileSystem.join(parent, file)))?.trimmingCharacters(in: " \n") ?? ""
            if !value.isEmpty { try FileSystem.writeExisting(FileSystem.join(directory, file), value) }
        }
    }
}
