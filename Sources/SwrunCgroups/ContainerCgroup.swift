import Glibc
import SwrunSystem

/// A container's own cgroup: "swrun-NAME-HASH" below swrun's own cgroup in every hierarchy
/// the host mounts (each v1 controller, name=systemd, and the v2 tree), as LXC makes them,
/// with the container's limits written in. Made by the host's `CgroupManager`; what is done
/// with it once made (processes moved in, killed, the directories removed) is the same on
/// every layout, and is here.
public struct ContainerCgroup: Sendable, Equatable {
    /// The cgroup directories made, one per hierarchy.
    public let directories: [String]
    /// lxc.cgroup.dir, when the cgroup was placed by it.
    public let configuredDirectory: String?

    public init(directories: [String], configuredDirectory: String? = nil) {
        self.directories = directories
        self.configuredDirectory = configuredDirectory
    }

    static let limitHint = "check the value; the kernel refused it for this cgroup"

    /// The cgroup's name: the container's, and a hash of its LXCPATH, so that two
    /// containers of one name in two LXCPATHs do not meet.
    public static func leafName(container: String, lxcPath: String) -> String {
        var hash: UInt32 = 2_166_136_261  // FNV-1a
        for byte in lxcPath.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let hex = String(hash, radix: 16)
        return "swrun-\(container)-" + String(repeating: "0", count: 8 - hex.count) + hex
    }

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

    /// Makes the missing cgroups between `base` and `directory` (lxc.cgroup.dir's parents),
    /// calling `prepare` on each one made, top down.
    static func makeParents(of directory: String, below base: String,
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
        // Asked from the end: a hybrid host's v2 tree is its last hierarchy, a unified host's its only one.
        directories.last(where: CgroupMode.isCgroup2)
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
    static func makeFresh(_ directory: String, configured: Bool) throws(SwrunError) {
        if configured && FileSystem.exists(directory) {
            throw SwrunError(.alreadyExists, "lxc.cgroup.dir names the cgroup \(directory), which exists and is not this container's",
                             hint: "name a cgroup that does not exist yet; swrun makes it and removes it at stop")
        }
        if mkdir(directory, 0o755) == 0 { return }
        // Left by a start that crashed: it goes first (only then, so a start costs no stat).
        if Errno.current == .fileExists && FileSystem.isDirectory(directory) { _ = removeTree(directory) }
        do { try FileSystem.makeDirectory(directory, mode: 0o755) } catch {
            throw SwrunError(error.code, "cannot create the cgroup \(directory)", errno: error.errno,
                             hint: error.code == .alreadyExists ? "a container of that name still has processes there" : "swrun needs root and a writable cgroup tree")
        }
    }
}
