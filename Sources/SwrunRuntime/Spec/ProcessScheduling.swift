/// How the kernel schedules a container's process: its I/O priority, CPU scheduling policy
/// and, for an exec'd process, the CPUs it runs on (OCI process.ioPriority, scheduler and
/// execCPUAffinity). Plain values, read by the plan before the fork.

/// ioprio_set(2)'s class and level within it.
struct IOPriority: Equatable, Sendable {
    enum Class: Int32, CaseIterable, Sendable {
        case realtime = 1, bestEffort = 2, idle = 3

        /// The names config.json uses.
        var name: String {
            switch self {
            case .realtime: "IOPRIO_CLASS_RT"
            case .bestEffort: "IOPRIO_CLASS_BE"
            case .idle: "IOPRIO_CLASS_IDLE"
            }
        }
        init?(name: String) {
            guard let match = Self.allCases.first(where: { $0.name == name }) else { return nil }
            self = match
        }
    }

    var ioClass: Class
    /// 0 (highest) to 7 (lowest).
    var level: Int32

    /// The value ioprio_set takes: IOPRIO_PRIO_VALUE(class, level).
    var value: Int32 { ioClass.rawValue << 13 | level }
}

/// sched_setattr(2)'s attributes of a process.
struct SchedulerSettings: Equatable, Sendable {
    var policy: Policy
    var nice: Int32 = 0
    var priority: UInt32 = 0
    /// SCHED_FLAG_* bits.
    var flags: UInt64 = 0
    /// SCHED_DEADLINE's runtime, deadline and period, in nanoseconds.
    var runtime: UInt64 = 0
    var deadline: UInt64 = 0
    var period: UInt64 = 0

    enum Policy: UInt32, CaseIterable, Sendable {
        case other = 0, fifo = 1, roundRobin = 2, batch = 3, iso = 4, idle = 5, deadline = 6

        var name: String {
            switch self {
            case .other: "SCHED_OTHER"
            case .fifo: "SCHED_FIFO"
            case .roundRobin: "SCHED_RR"
            case .batch: "SCHED_BATCH"
            case .iso: "SCHED_ISO"
            case .idle: "SCHED_IDLE"
            case .deadline: "SCHED_DEADLINE"
            }
        }
        init?(name: String) {
            guard let match = Self.allCases.first(where: { $0.name == name }) else { return nil }
            self = match
        }
        /// The real-time policies, which alone take a static priority (1 to 99).
        var isRealTime: Bool { self == .fifo || self == .roundRobin }
    }

    static let flagNames: [(name: String, bit: UInt64)] = [
        ("SCHED_FLAG_RESET_ON_FORK", 0x01), ("SCHED_FLAG_RECLAIM", 0x02), ("SCHED_FLAG_DL_OVERRUN", 0x04),
        ("SCHED_FLAG_KEEP_POLICY", 0x08), ("SCHED_FLAG_KEEP_PARAMS", 0x10),
        ("SCHED_FLAG_UTIL_CLAMP_MIN", 0x20), ("SCHED_FLAG_UTIL_CLAMP_MAX", 0x40),
    ]
    static let resetOnFork: UInt64 = 0x01

    /// "SCHED_BATCH nice 5", for summaries.
    var description: String {
        var text = policy.name
        if nice != 0 { text += " nice \(nice)" }
        if priority != 0 { text += " priority \(priority)" }
        if policy == .deadline { text += " runtime \(runtime)ns deadline \(deadline)ns period \(period)ns" }
        let names = Self.flagNames.filter { flags & $0.bit != 0 }.map(\.name)
        if !names.isEmpty { text += " " + names.joined(separator: "|") }
        return text
    }
}

/// A list of CPUs as the kernel writes them ("0-3,7"), for sched_setaffinity(2).
struct CPUList: Equatable, Sendable {
    /// As given, for messages and the profile file.
    let text: String
    /// The CPU numbers, ascending.
    let cpus: [Int]

    /// The kernel's CPU masks hold up to this many CPUs here (glibc's CPU_SETSIZE).
    static let maxCPUs = 1024

    /// nil where `text` is not a list: numbers and ranges ("3-5") separated by commas, each
    /// below `maxCPUs`, with at least one CPU.
    init?(_ text: String) {
        var cpus: Set<Int> = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count),
                  let low = Int(bounds[0].trimmingCharacters(in: " ")), let high = Int(bounds[bounds.count - 1].trimmingCharacters(in: " ")),
                  low >= 0, low <= high, high < Self.maxCPUs else { return nil }
            cpus.formUnion(low...high)
        }
        guard !cpus.isEmpty else { return nil }
        self.text = text
        self.cpus = cpus.sorted()
    }

    /// The mask sched_setaffinity takes: bit N of the little-endian words is CPU N.
    var mask: [UInt8] {
        let highest = cpus.last ?? 0
        var bytes = [UInt8](repeating: 0, count: (highest / 64 + 1) * 8)
        for cpu in cpus { bytes[cpu / 8] |= UInt8(1) << UInt8(cpu % 8) }
        return bytes
    }
}

/// OCI process.execCPUAffinity: the CPUs an exec'd process runs on before it joins the
/// container's cgroup, and after (nil: as the cgroup leaves it).
struct ExecCPUAffinity: Equatable, Sendable {
    var initial: CPUList?
    var final: CPUList?
}

extension Substring {
    fileprivate func trimmingCharacters(in blank: Character) -> Substring {
        var text = self
        while text.first == blank { text.removeFirst() }
        while text.last == blank { text.removeLast() }
        return text
    }
}
