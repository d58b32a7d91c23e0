import Glibc
import SwrunSystem

/// A container's own cgroup: "swrun-NAME-HASH" below swrun's own cgroup in every hierarchy
/// the host mounts (each v1 controller, name=systemd, and the v2 tree), as LXC makes them,
/// with the container's limits written in. Removed when it stops (or, after a crash, by the
/// next stop or start).
public struct ContainerCgroup: Sendable, Equatable {
    /// The cgroup directories made, one per hierarchy.
    public let directories: [String]
    /// lxc.cgroup.dir, when the cgroup was placed by it.
    public let configuredDirectory: String?

    public init(directories: [String], configuredDirectory: String? = nil) {
        self.directories = directories
        self.configuredDirectory = configuredDirectory
    }

    /// The cgroup's name: the container's, and a hash of its LXCPATH, so that two
    /// containers of one name in two LXCPATHs do not meet.
    public static func leafName(container: String, lxcPath: String) -> String {
        var hash: UInt32 = 2_166_136_261  // FNV-1a
        for byte in lxcPath.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let hex = String(hash, radix: 16)
        return "swrun-\(container)-" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// The controllers a v2 container's cgroup is given to hand on to its own children
    /// (`delegate`): what a distribution's init (systemd) enables for its services.
    static let delegated = ["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"]

    /// Makes the cgroup in every hierarchy of `hierarchies` and writes the limits; anything
    /// made is removed again on failure. Where it goes below swrun's own: `leaf`, or
    /// `directory` (lxc.cgroup.dir, "a/b", whose missing parents are made and stay, as with
    /// LXC). `relative` (lxc.cgroup.relative) forbids the escape to the v2 root that
    /// controllers may need. `delegate` gives a v2 cgroup every controller it can have, for a
    /// booted init to use. A hierarchy the host mounts read-only is skipped, unless a limit
    /// needs it.
    /// Where the container's cgroup goes in `hierarchy`: below swrun's own cgroup, or for an
    /// absolute directory (an OCI bundle's cgroupsPath) below the hierarchy's root, as runc takes it.
    static func base(in hierarchy: CgroupHierarchy, directory: String?, root: String = "/sys/fs/cgroup") -> String {
        let mountPoint = FileSystem.join(root, hierarchy.directory)
        return directory?.hasPrefix("/") == true ? mountPoint : FileSystem.join(mountPoint, hierarchy.ownPath)
    }

    /// The container's cgroup directory in a v1 hierarchy (or the v2 tree of a hybrid host),
    /// known before it is made.
    public static func directory(in hierarchy: CgroupHierarchy, leaf: String, directory: String?, root: String = "/sys/fs/cgroup") -> String {
        FileSystem.join(base(in: hierarchy, directory: directory, root: root), String((directory ?? leaf).drop { $0 == "/" }))
    }

    public static func create(leaf: String, directory: String? = nil, relative: Bool = false, limits: CgroupLimits,
                              devices: DevicePolicy? = nil, delegate: Bool = false, hierarchies: [CgroupHierarchy],
                              mode: CgroupMode, root: String = "/sys/fs/cgroup") throws(SwrunError) -> ContainerCgroup {
        let path = String((directory ?? leaf).drop { $0 == "/" })
        let writes = try limits.writes(for: mode)
        try requireControllers(for: limits, in: hierarchies, mode: mode)
        var made: [String] = []
        do throws(SwrunError) {
            for hierarchy in hierarchies {
                let needed = mode == .unified ? limits.controllers(for: mode) : limits.controllers(for: mode).filter(hierarchy.controllers.contains)
                if hierarchy.readOnly && needed.isEmpty { continue }
                let mountPoint = FileSystem.join(root, hierarchy.directory)
                let base = Self.base(in: hierarchy, directory: directory, root: root)
                if hierarchy.isUnified && mode == .unified {
                    made.append(try makeUnified(path, below: base, root: mountPoint, limits: needed, delegate: delegate, relative: relative,
                                                configured: directory != nil))
                } else {
                    let target = FileSystem.join(base, path)
                    let cpuset = hierarchy.controllers.contains("cpuset")
                    try makeParents(of: target, below: base) { made throws(SwrunError) in
                        if cpuset { try inheritCpuset(made) }
                    }
                    try makeFresh(target, configured: directory != nil)
                    made.append(target)
                    if cpuset { try inheritCpuset(target) }
                }
                let cgroupDirectory = made[made.count - 1]
                for item in writes where mode == .unified || hierarchy.controllers.contains(item.controller) {
                    try FileSystem.writeExisting(FileSystem.join(cgroupDirectory, item.file), item.value, hint: limitHint)
                }
                if let devices {
                    if hierarchy.controllers.contains("devices") {
                        for item in devices.v1Writes {
                            try FileSystem.writeExisting(FileSystem.join(cgroupDirectory, item.file), item.value,
                                                         hint: "check lxc.cgroup.devices.allow and deny: a cgroup may not allow more than its parent")
                        }
                    } else if hierarchy.isUnified && mode == .unified {
                        try devices.attach(to: cgroupDirectory)
                    }
                }
            }
        } catch {
            ContainerCgroup(directories: made).remove()
            throw error
        }
        return ContainerCgroup(directories: made, configuredDirectory: directory)
    }

    /// A limit on a controller that no writable hierarchy has is an error before anything is made.
    private static func requireControllers(for limits: CgroupLimits, in hierarchies: [CgroupHierarchy], mode: CgroupMode) throws(SwrunError) {
        guard mode != .unified else {
            if !limits.controllers(for: mode).isEmpty && !hierarchies.contains(where: \.isUnified) {
                throw SwrunError(.missingDependency, "this host mounts no cgroup v2 tree at /sys/fs/cgroup for the container's limits",
                                 hint: "see `swrun checkconfig`")
            }
            return
        }
        for controller in limits.controllers(for: mode) {
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

    /// The v2 cgroup: below `base` (swrun's own), with the controllers its limits need, and
    /// with `delegate` every one the parent can give. v2 lets no cgroup that holds processes
    /// (swrun's own does) give controllers to children: then the container goes below the
    /// tree's root, as LXC places it. Without controllers it stays below swrun's own.
    private static func makeUnified(_ path: String, below base: String, root: String, limits: [String], delegate: Bool,
                                    relative: Bool, configured: Bool) throws(SwrunError) -> String {
        let wanted = limits + (delegate ? delegated.filter { !limits.contains($0) } : [])
        var (parent, given) = (base, [String]())
        if !wanted.isEmpty {
            (parent, given) = try enable(wanted, below: base, root: relative ? nil : root, required: limits)
        }
        let directory = FileSystem.join(parent, path)
        try makeParents(of: directory, below: parent) { made throws(SwrunError) in
            if !given.isEmpty {
                try FileSystem.writeExisting(FileSystem.join(made, "cgroup.subtree_control"), given.map { "+" + $0 }.joined(separator: " "))
            }
        }
        try makeFresh(directory, configured: configured)
        return directory
    }

    static let limitHint = "check the value; the kernel refused it for this cgroup"

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

    /// Makes the missing cgroups between `base` and `directory` (lxc.cgroup.dir's parents),
    /// calling `prepare` on each one made, top down.
    private static func makeParents(of directory: String, below base: String,
                                    _ prepare: (String) throws(SwrunError) -> Void) throws(SwrunError) {
        var missing: [String] = []
        var current = FileSystem.parentPath(directory)
        while current.count > base.count && !FileSystem.isDirectory(current) {
            missing.insert(current, at: 0)
            current = FileSystem.parentPath(current)
        }
        for made in missing {
            try FileSystem.makeDirectory(made, mode: 0o755)
            try prepare(made)
        }
    }

    /// Moves `pid` (and so every child it forks later) into the cgroup.
    public func add(_ pid: pid_t) throws(SwrunError) {
        for directory in directories { try FileSystem.writeExisting(FileSystem.join(directory, "cgroup.procs"), String(pid)) }
    }

    /// Hands the cgroup to the root of an unprivileged container (a host uid and gid), as
    /// LXC does: its init may then make cgroups below and move processes between them. The
    /// limits stay root's: their files keep their owner.
    public func delegate(to uid: uid_t, _ gid: gid_t) throws(SwrunError) {
        for directory in directories {
            for file in ["", "cgroup.procs", "tasks", "cgroup.subtree_control", "cgroup.threads"] {
                let path = file.isEmpty ? directory : FileSystem.join(directory, file)
                if chown(path, uid, gid) != 0 && errno != ENOENT {
                    throw SwrunError.system("cannot hand the cgroup \(path) to the container's root (uid \(uid))", Errno.current)
                }
            }
        }
    }

    /// The file a process writes "0" to, to join the container's cgroup `directory` (attach):
    /// v1's tasks (a single thread moving itself). On v2 the cgroup's own cgroup.procs, unless
    /// its init (systemd) has given controllers to its children: v2 then admits no process
    /// there (EBUSY), and the process joins a leaf of its own below, ".lxc", as LXC's attach does.
    public static func joinFile(of directory: String) throws(SwrunError) -> String {
        let tasks = FileSystem.join(directory, "tasks")
        if FileSystem.exists(tasks) { return tasks }
        let subtree = (try? FileSystem.readText(FileSystem.join(directory, "cgroup.subtree_control"))) ?? ""
        guard !subtree.trimmingCharacters(in: " \n").isEmpty else { return FileSystem.join(directory, "cgroup.procs") }
        let leaf = FileSystem.join(directory, ".lxc")
        if !FileSystem.isDirectory(leaf) {
            do { try FileSystem.makeDirectory(leaf, mode: 0o755) } catch where error.code == .alreadyExists {}
        }
        return FileSystem.join(leaf, "cgroup.procs")
    }

    /// The directory in the cgroup v2 tree, if the cgroup has one (on a unified or a hybrid host).
    public var unifiedDirectory: String? {
        directories.first(where: CgroupMode.isCgroup2)
    }

    /// Kills every process of the cgroup and of the cgroups below it, then removes them all,
    /// deepest first. One whose processes do not go stays (EBUSY); false then, and the caller
    /// keeps its record so that the next stop or start tries again. The usual cgroup, empty
    /// and without children once init has ended, goes with one rmdir.
    @discardableResult
    public func remove() -> Bool {
        var removed = true
        for directory in directories.reversed() where rmdir(directory) != 0 && errno != ENOENT {
            // Processes left (EBUSY), or cgroups below (a booted init's): kill, then remove the tree.
            ContainerCgroup(directories: [directory]).killAll()
            if !Self.removeTree(directory) { removed = false }
        }
        return removed
    }

    /// Kills every process in the cgroups and below them, and waits until they are gone.
    /// The end of init takes its pid namespace with it, but not a process that was moved into
    /// the container's cgroup from outside, nor one in a namespace of its own: this does.
    /// v2's cgroup.kill (Linux 5.14) kills the whole tree at once, forks in flight included;
    /// elsewhere SIGKILL goes to each listed pid, again until none is left. Never kills the
    /// caller. False when processes remain after `timeoutMilliseconds`.
    @discardableResult
    public func killAll(timeoutMilliseconds: Int = 5000) -> Bool {
        let me = getpid()
        var pids = directories.flatMap { Self.processes(below: $0) }
        // cgroup.kill would take the caller too, were it inside.
        var killedAtOnce = !pids.contains(me) && directories.allSatisfy { directory in
            (try? FileSystem.writeExisting(FileSystem.join(directory, "cgroup.kill"), "1")) != nil
        }
        var waited = 0
        while true {
            pids.removeAll { $0 == me }
            if pids.isEmpty { return true }
            guard waited < timeoutMilliseconds else { return false }
            if !killedAtOnce { for pid in pids { kill(pid, SIGKILL) } }
            usleep(2000)
            waited += 2
            pids = directories.flatMap { Self.processes(below: $0) }
            killedAtOnce = killedAtOnce && waited < 100  // a process cgroup.kill missed gets signals too
        }
    }

    /// The pids in `directory`'s cgroup.procs and in those of the cgroups below it. A process
    /// outside our pid namespace is listed as 0 there: it has no pid to signal (and kill(0)
    /// would signal our own process group).
    public static func processes(below directory: String) -> [pid_t] {
        var pids = ((try? FileSystem.readText(FileSystem.join(directory, "cgroup.procs"))) ?? "")
            .split(separator: "\n").compactMap { pid_t($0) }.filter { $0 > 0 }
        for name in FileSystem.subdirectories(of: directory) ?? [] {
            pids += processes(below: FileSystem.join(directory, name))
        }
        return pids
    }

    /// rmdir depth-first; the last processes may still be on their way out, so EBUSY is
    /// retried for up to a second.
    private static func removeTree(_ directory: String) -> Bool {
        for name in FileSystem.subdirectories(of: directory) ?? [] {
            _ = removeTree(FileSystem.join(directory, name))
        }
        var delay: UInt32 = 1000
        while rmdir(directory) != 0 {
            guard errno == EBUSY, delay < 500_000 else { return !FileSystem.exists(directory) }
            usleep(delay)
            delay *= 2
        }
        return true
    }

    /// Writes `value` to the cgroup file `file`, wherever it is; a v2 key that this host
    /// keeps under v1 names (memory.max on a hybrid host) is translated first.
    public func set(_ file: String, _ value: String, mode: CgroupMode) throws(SwrunError) {
        if let directory = directories.first(where: { FileSystem.exists(FileSystem.join($0, file)) }) {
            return try FileSystem.writeExisting(FileSystem.join(directory, file), value, hint: Self.limitHint)
        }
        var limits = CgroupLimits()
        try limits.set(v2: file, value, origin: "swrun cgroup")
        for item in try limits.writes(for: mode) {
            guard let directory = directories.first(where: { FileSystem.exists(FileSystem.join($0, item.file)) }) else {
                throw SwrunError(.notFound, "the container's cgroup has no \(item.file)",
                                 hint: "its cgroup covers only the controllers of its limits: \(directories.joined(separator: ", "))")
            }
            try FileSystem.writeExisting(FileSystem.join(directory, item.file), item.value, hint: Self.limitHint)
        }
    }

    /// A cgroup file's value, or nil.
    public func read(_ file: String) -> String? {
        for directory in directories {
            let path = FileSystem.join(directory, file)
            if FileSystem.exists(path) { return (try? FileSystem.readText(path))?.trimmingCharacters(in: " \n") }
        }
        return nil
    }

    // MARK: files

    /// A directory of our own. Under swrun's own name (swrun-NAME-HASH), one left by a crash
    /// is removed first, with what is below it; an lxc.cgroup.dir that exists is someone
    /// else's (a crash's was removed by the start's cleanup, from the record): refused.
    private static func makeFresh(_ directory: String, configured: Bool) throws(SwrunError) {
        if configured && FileSystem.exists(directory) {
            throw SwrunError(.alreadyExists, "lxc.cgroup.dir names the cgroup \(directory), which exists and is not this container's",
                             hint: "name a cgroup that does not exist yet; swrun makes it and removes it at stop")
        }
        if FileSystem.isDirectory(directory) { _ = removeTree(directory) }
        do { try FileSystem.makeDirectory(directory, mode: 0o755) } catch {
            throw SwrunError(error.code, "cannot create the cgroup \(directory)", errno: error.errno,
                             hint: error.code == .alreadyExists ? "a container of that name still has processes there" : "swrun needs root and a writable cgroup tree")
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
