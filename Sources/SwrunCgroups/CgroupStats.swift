/// What a container's cgroup says of its use, from whichever of the v1 and v2 files exist.
public struct CgroupStats: Sendable, Equatable {
    public var memoryBytes: UInt64?
    public var memoryLimitBytes: UInt64?
    public var oomKills: UInt64?
    public var pids: UInt64?
    public var cpuNanoseconds: UInt64?
    /// Bytes read and written on block devices (lxc-info's BlkIO use).
    public var ioBytes: UInt64?

    public init(_ cgroup: ContainerCgroup) {
        func number(_ file: String) -> UInt64? { cgroup.read(file).flatMap { UInt64($0) } }
        /// "key value" lines (memory.oom_control, memory.events, cpu.stat): the value of `key`.
        func field(_ file: String, _ key: String) -> UInt64? {
            cgroup.read(file)?.split(separator: "\n").first { $0.hasPrefix(key + " ") }
                .flatMap { UInt64($0.split(separator: " ")[1]) }
        }
        memoryBytes = number("memory.current") ?? number("memory.usage_in_bytes")
        let limit = number("memory.max") ?? number("memory.limit_in_bytes")
        memoryLimitBytes = limit.flatMap { $0 >= (UInt64(1) << 62) ? nil : $0 }  // v1's "unlimited" is a huge number
        oomKills = field("memory.events", "oom_kill") ?? field("memory.oom_control", "oom_kill")
        pids = number("pids.current")
        cpuNanoseconds = field("cpu.stat", "usage_usec").map { $0 * 1000 } ?? number("cpuacct.usage")
        ioBytes = cgroup.read("io.stat").map(Self.ioStatBytes) ?? cgroup.read("blkio.throttle.io_service_bytes").flatMap(Self.serviceBytes)
    }

    /// v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=..." a device a line; read and written bytes summed.
    static func ioStatBytes(_ text: String) -> UInt64 {
        var total: UInt64 = 0
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) where word.hasPrefix("rbytes=") || word.hasPrefix("wbytes=") {
            total += UInt64(word.split(separator: "=")[1]) ?? 0
        }
        return total
    }

    /// v1 blkio.throttle.io_service_bytes: its last line, "Total N".
    static func serviceBytes(_ text: String) -> UInt64? {
        text.split(separator: "\n").last { $0.hasPrefix("Total ") }.flatMap { UInt64($0.dropFirst("Total ".count)) }
    }
}
