/// What lxc.mount.auto asks for: proc, sys and cgroup mounted by the runtime.
/// Several lines add up; within a group the last token wins; an empty value clears all.
public struct MountAuto: Sendable, Equatable {
    public enum ProcMode: String, Sendable, Equatable { case rw, mixed }
    public enum SysMode: String, Sendable, Equatable { case ro, rw, mixed }
    public enum CgroupMode: String, Sendable, Equatable {
        case ro, rw, mixed
        /// "cgroup" or "cgroup-full" with no mode: LXC uses rw when the container keeps
        /// CAP_SYS_ADMIN, mixed otherwise.
        case unspecified
    }
    /// Which cgroup mount: "cgroup" (the container's own cgroup under a tmpfs),
    /// "cgroup-full" (the host's whole hierarchy) or "cgroup2" (just the cgroup2 filesystem).
    public enum CgroupKind: String, Sendable, Equatable { case cgroup, full, cgroup2 }

    public var proc: ProcMode?
    public var sys: SysMode?
    public var cgroup: CgroupMode?
    public var cgroupKind: CgroupKind
    /// ":force": mount cgroups even when the container has a cgroup namespace.
    public var cgroupForce: Bool
    /// "shmounts:HOST[:CONTAINER]": a mount point shared between host and container.
    public var sharedMounts: SharedMounts?

    public struct SharedMounts: Sendable, Equatable {
        public var host: String
        public var container: String

        public init(host: String, container: String) {
            self.host = host
            self.container = container
        }
    }

    public init(proc: ProcMode? = nil, sys: SysMode? = nil, cgroup: CgroupMode? = nil,
                cgroupKind: CgroupKind = .cgroup, cgroupForce: Bool = false) {
        self.proc = proc
        self.sys = sys
        self.cgroup = cgroup
        self.cgroupKind = cgroupKind
        self.cgroupForce = cgroupForce
    }

    public var isEmpty: Bool { proc == nil && sys == nil && cgroup == nil && sharedMounts == nil }

    /// Adds the tokens of one lxc.mount.auto value (blank-separated), as LXC does.
    mutating func apply(_ value: String) throws(ValueError) {
        for token in value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) {
            try applyToken(token)
        }
    }

    private mutating func applyToken(_ token: String) throws(ValueError) {
        if token.hasPrefix("shmounts:") {
            let rest = token.dropFirst("shmounts:".count)
            guard !rest.isEmpty else { throw ValueError("'shmounts:' needs a host path", hint: "write shmounts:HOST_PATH[:CONTAINER_PATH]") }
            let parts = rest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let container = parts.count == 2 && !parts[1].isEmpty ? String(parts[1]) : "/dev/.lxc-mounts"
            sharedMounts = SharedMounts(host: String(parts[0]), container: container)
            return
        }
        var parts = token.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let group = parts.removeFirst()
        switch (group, parts) {
        case ("proc", []), ("proc", ["mixed"]): proc = .mixed
        case ("proc", ["rw"]): proc = .rw
        case ("sys", []), ("sys", ["mixed"]): sys = .mixed
        case ("sys", ["ro"]): sys = .ro
        case ("sys", ["rw"]): sys = .rw
        case ("cgroup", _), ("cgroup-full", _), ("cgroup2", _):
            try applyCgroup(group, parts, token: token)
        default:
            throw Self.invalid(token)
        }
    }

    /// cgroup[-full][:mixed|:ro|:rw][:force], and cgroup2[:ro][:force] (always forced).
    private mutating func applyCgroup(_ group: String, _ options: [String], token: String) throws(ValueError) {
        var options = options
        var force = false
        if options.last == "force" {
            force = true
            options.removeLast()
        }
        let mode: CgroupMode
        if group == "cgroup2" {
            guard options.isEmpty || options == ["ro"] else { throw Self.invalid(token) }
            mode = options.isEmpty ? .rw : .ro
        } else if options.isEmpty {
            mode = .unspecified
        } else {
            guard options.count == 1, let named = CgroupMode(rawValue: options[0]), named != .unspecified else {
                throw Self.invalid(token)
            }
            mode = named
        }
        cgroup = mode
        cgroupKind = group == "cgroup2" ? .cgroup2 : group == "cgroup-full" ? .full : .cgroup
        cgroupForce = force || group == "cgroup2"
    }

    private static func invalid(_ token: String) -> ValueError {
        ValueError("'\(token)' is not something lxc.mount.auto mounts",
                   hint: "use proc[:mixed|:rw], sys[:mixed|:ro|:rw], cgroup[:mixed|:ro|:rw][:force], cgroup-full[...] or cgroup2[:ro][:force]")
    }
}
