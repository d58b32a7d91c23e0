import Glibc
import SwrunSystem

/// A container's own cgroup: "swrun-NAME" below swrun's own cgroup, in each v1 hierarchy
/// its limits need, or once in the v2 tree. Made only when the container has limits, and
/// removed when it stops (or, after a crash, by the next stop or start).
public struct ContainerCgroup: Sendable, Equatable {
    /// The cgroup directories made, one per hierarchy.
    public let directories: [String]

    public init(directories: [String]) {
        self.directories = directories
    }

    /// swrun's own cgroup, as /proc/self/cgroup gives it: v1 controller -> path, and the v2 path.
    public struct Own: Sendable, Equatable {
        public var v1: [String: String] = [:]
        public var v2: String?

        public init(procSelfCgroup text: String) {
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                guard fields.count == 3 else { continue }
                if fields[0] == "0" && fields[1].isEmpty {
                    v2 = String(fields[2])
                } else {
                    for controller in fields[1].split(separator: ",") { v1[String(controller)] = String(fields[2]) }
                }
            }
        }

        public static func current() throws(SwrunError) -> Own {
            Own(procSelfCgroup: try FileSystem.readText("/proc/self/cgroup"))
        }
    }

    /// Makes the cgroup and writes the limits. Anything made is removed again on failure.
    public static func create(name: String, limits: CgroupLimits, mode: CgroupMode, own: Own,
                              root: String = "/sys/fs/cgroup") throws(SwrunError) -> ContainerCgroup {
        let leaf = "swrun-" + name
        let writes = try limits.writes(for: mode)
        var made: [String] = []
        do throws(SwrunError) {
            if mode == .unified {
                guard let base = own.v2 else { throw SwrunError(.system, "swrun's own cgroup v2 path is unknown (/proc/self/cgroup)") }
                let parent = FileSystem.join(root, base)
                try write(limits.controllers.map { "+" + $0 }.joined(separator: " "), to: FileSystem.join(parent, "cgroup.subtree_control"),
                          hint: "a cgroup that holds processes cannot give controllers to its children: run swrun from a leaf cgroup of its own (for example a systemd service or scope)")
                let directory = FileSystem.join(parent, leaf)
                try makeFresh(directory)
                made.append(directory)
                for item in writes { try write(item.value, to: FileSystem.join(directory, item.file)) }
            } else {
                for controller in limits.controllers {
                    guard let base = own.v1[controller], FileSystem.isDirectory(FileSystem.join(root, controller)) else {
                        throw SwrunError(.missingDependency, "this host has no cgroup v1 \(controller) controller for the container's \(controller) limits",
                                         hint: "see `swrun checkconfig`; remove the \(controller) limits or mount the controller")
                    }
                    let directory = FileSystem.join(FileSystem.join(FileSystem.join(root, controller), base), leaf)
                    try makeFresh(directory)
                    made.append(directory)
                    if controller == "cpuset" { try inheritCpuset(directory) }
                    for item in writes where item.controller == controller { try write(item.value, to: FileSystem.join(directory, item.file)) }
                }
            }
        } catch {
            ContainerCgroup(directories: made).remove()
            throw error
        }
        return ContainerCgroup(directories: made)
    }

    /// Moves `pid` (and so every child it forks later) into the cgroup.
    public func add(_ pid: pid_t) throws(SwrunError) {
        for directory in directories { try Self.write(String(pid), to: FileSystem.join(directory, "cgroup.procs")) }
    }

    /// Removes the directories; a cgroup that still holds processes stays (EBUSY), which the
    /// next stop or start retries.
    @discardableResult
    public func remove() -> Bool {
        var removed = true
        for directory in directories.reversed() where FileSystem.exists(directory) {
            var tries = 0
            while rmdir(directory) != 0 && errno == EBUSY && tries < 50 {
                usleep(2000)  // the last process may still be on its way out
                tries += 1
            }
            if FileSystem.exists(directory) { removed = false }
        }
        return removed
    }

    /// Writes `value` to the cgroup file `file`, wherever it is; a v2 key that this host
    /// keeps under v1 names (memory.max on a hybrid host) is translated first.
    public func set(_ file: String, _ value: String, mode: CgroupMode) throws(SwrunError) {
        if let directory = directories.first(where: { FileSystem.exists(FileSystem.join($0, file)) }) {
            return try Self.write(value, to: FileSystem.join(directory, file))
        }
        var limits = CgroupLimits()
        try limits.set(v2: file, value, origin: "swrun cgroup")
        for item in try limits.writes(for: mode) {
            guard let directory = directories.first(where: { FileSystem.exists(FileSystem.join($0, item.file)) }) else {
                throw SwrunError(.notFound, "the container's cgroup has no \(item.file)",
                                 hint: "its cgroup covers only the controllers of its limits: \(directories.joined(separator: ", "))")
            }
            try Self.write(item.value, to: FileSystem.join(directory, item.file))
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

    /// A directory of our own: one left by a crash (and empty) is removed first.
    private static func makeFresh(_ directory: String) throws(SwrunError) {
        if FileSystem.isDirectory(directory) { rmdir(directory) }
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
            if !value.isEmpty { try write(value, to: FileSystem.join(directory, file)) }
        }
    }

    static func write(_ value: String, to path: String, hint: String? = nil) throws(SwrunError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        let bytes = Array(value.utf8)
        let written = fd < 0 ? -1 : bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let errno = Errno.current
        if fd >= 0 { close(fd) }
        if written != bytes.count {
            throw SwrunError.system("cannot write '\(value)' to \(path)", errno,
                                    hint: hint ?? "check the value; the kernel refused it for this cgroup")
        }
    }
}
