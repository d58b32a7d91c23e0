import Glibc
import SwrunCgroups
import SwrunJSON
import SwrunSystem

/// `events`: a container's cgroup statistics and OOM kills as runc prints them, one JSON
/// object a line: {"type":"stats","id":ID,"data":{...}} and {"type":"oom","id":ID}.
enum OCIEvents {
    /// runc's stats "data", read from the cgroup files `read` gives (v1 or v2 names, whichever
    /// the cgroup has). Sections whose files are all missing stay empty objects, as runc's do.
    static func stats(_ read: (String) -> String?) -> JSONValue {
        ["cpu": cpu(read), "memory": memory(read), "pids": pids(read), "blkio": blkio(read), "hugetlb": .object([:])]
    }

    /// An OOM kill count: v2's memory.events, v1's memory.oom_control (Linux 4.13 on).
    static func oomKills(_ read: (String) -> String?) -> UInt64? {
        field(read("memory.events"), "oom_kill") ?? field(read("memory.oom_control"), "oom_kill")
    }

    /// The value of `key` in "key value" lines.
    static func field(_ text: String?, _ key: String) -> UInt64? {
        fields(text)[key]
    }

    static func fields(_ text: String?) -> [String: UInt64] {
        var result: [String: UInt64] = [:]
        for line in (text ?? "").split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2, let value = UInt64(words[1]) { result[String(words[0])] = value }
        }
        return result
    }

    private static func number(_ value: UInt64) -> JSONValue { .number(String(value)) }

    /// A v1 or v2 limit: "max" and v1's huge "unlimited" both as runc writes them (the largest
    /// uint64).
    private static func limit(_ text: String?) -> UInt64? {
        guard let text else { return nil }
        return text == "max" ? UInt64.max : UInt64(text).map { $0 >= UInt64(Int64.max) / 4096 * 4096 ? UInt64.max : $0 }
    }

    private static func cpu(_ read: (String) -> String?) -> JSONValue {
        var usage: [String: JSONValue] = [:]
        var throttling: [String: JSONValue] = [:]
        let stat = fields(read("cpu.stat"))
        if let total = stat["usage_usec"] {
            // v2: microseconds.
            usage["total"] = number(total * 1000)
            usage["user"] = number((stat["user_usec"] ?? 0) * 1000)
            usage["kernel"] = number((stat["system_usec"] ?? 0) * 1000)
            throttling["throttled_time"] = number((stat["throttled_usec"] ?? 0) * 1000)
        } else {
            // v1: cpuacct in nanoseconds, cpuacct.stat in clock ticks.
            if let total = read("cpuacct.usage").flatMap({ UInt64($0) }) { usage["total"] = number(total) }
            let perCPU = (read("cpuacct.usage_percpu") ?? "").split(separator: " ").compactMap { UInt64($0) }
            if !perCPU.isEmpty { usage["percpu"] = .array(perCPU.map(number)) }
            let ticks = fields(read("cpuacct.stat"))
            let hertz = UInt64(max(1, sysconf(Int32(_SC_CLK_TCK))))
            if let user = ticks["user"] { usage["user"] = number(user * 1_000_000_000 / hertz) }
            if let system = ticks["system"] { usage["kernel"] = number(system * 1_000_000_000 / hertz) }
            if let time = stat["throttled_time"] { throttling["throttled_time"] = number(time) }
        }
        if let periods = stat["nr_periods"] { throttling["periods"] = number(periods) }
        if let throttled = stat["nr_throttled"] { throttling["throttled_periods"] = number(throttled) }
        return ["usage": .object(usage), "throttling": .object(throttling)]
    }

    private static func memory(_ read: (String) -> String?) -> JSONValue {
        var memory: [String: JSONValue] = [:]
        let raw = fields(read("memory.stat"))
        if !raw.isEmpty { memory["raw"] = .object(raw.mapValues(number)) }
        if let cache = raw["cache"] ?? raw["file"] { memory["cache"] = number(cache) }
        /// usage, max, failcnt and limit of one counter: v1's files PREFIX.usage_in_bytes ..., or v2's.
        func entry(v1 prefix: String, v2 current: String? = nil, v2Limit: String? = nil) -> JSONValue? {
            var entry: [String: JSONValue] = [:]
            if let usage = read(prefix + ".usage_in_bytes").flatMap({ UInt64($0) }) ?? current.flatMap(read).flatMap({ UInt64($0) }) {
                entry["usage"] = number(usage)
            }
            if let peak = read(prefix + ".max_usage_in_bytes").flatMap({ UInt64($0) }) { entry["max"] = number(peak) }
            if let failures = read(prefix + ".failcnt").flatMap({ UInt64($0) }) { entry["failcnt"] = number(failures) }
            if let limit = limit(read(prefix + ".limit_in_bytes") ?? v2Limit.flatMap(read)) { entry["limit"] = number(limit) }
            return entry.isEmpty ? nil : .object(entry)
        }
        memory["usage"] = entry(v1: "memory", v2: "memory.current", v2Limit: "memory.max")
        memory["swap"] = entry(v1: "memory.memsw", v2: "memory.swap.current", v2Limit: "memory.swap.max")
        memory["kernel"] = entry(v1: "memory.kmem")
        memory["kernelTCP"] = entry(v1: "memory.kmem.tcp")
        return .object(memory)
    }

    private static func pids(_ read: (String) -> String?) -> JSONValue {
        var pids: [String: JSONValue] = [:]
        if let current = read("pids.current").flatMap({ UInt64($0) }) { pids["current"] = number(current) }
        // runc writes 0 for no limit.
        if let text = read("pids.max") { pids["limit"] = number(UInt64(text) ?? 0) }
        return .object(pids)
    }

    /// Bytes moved per device: v1's blkio.throttle.io_service_bytes ("8:0 Read 4096" lines) or
    /// v2's io.stat ("8:0 rbytes=1 wbytes=2 ..."), as runc's io_service_bytes_recursive.
    private static func blkio(_ read: (String) -> String?) -> JSONValue {
        var entries: [JSONValue] = []
        func add(_ device: Substring, _ op: String, _ value: UInt64) {
            let numbers = device.split(separator: ":").compactMap { UInt64($0) }
            guard numbers.count == 2 else { return }
            entries.append(["major": number(numbers[0]), "minor": number(numbers[1]), "op": .string(op), "value": number(value)])
        }
        if let text = read("io.stat") {
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ")
                guard let device = words.first else { continue }
                for word in words.dropFirst() {
                    let pair = word.split(separator: "=")
                    guard pair.count == 2, let value = UInt64(pair[1]) else { continue }
                    if pair[0] == "rbytes" { add(device, "Read", value) }
                    if pair[0] == "wbytes" { add(device, "Write", value) }
                }
            }
        } else {
            for line in (read("blkio.throttle.io_service_bytes") ?? "").split(separator: "\n") {
                let words = line.split(separator: " ")
                guard words.count == 3, let value = UInt64(words[2]) else { continue }
                add(words[0], String(words[1]), value)
            }
        }
        return entries.isEmpty ? .object([:]) : ["io_service_bytes_recursive": .array(entries)]
    }
}

extension OCIRuntime {
    /// runc's `events`: with `statsOnce`, one stats event; otherwise a stats event every
    /// `interval` seconds and an oom event whenever the kernel reports OOM in the container's
    /// memory cgroup, until the container stops. Each event goes to `emit` as one JSON line.
    /// One thread sleeps in poll() on the kernel's notices: the OOM notifier and a pidfd of
    /// init, whose exit ends it; the timeout is the next stats event.
    public func events(id: String, statsOnce: Bool, interval: Double, emit: (String) -> Void) throws(SwrunError) {
        let container = try OCIContainer.load(root: root, id: id)
        guard container.status != .stopped else { throw SwrunError(.notFound, "container \(id) is not running", hint: "its process has ended") }
        let cgroup = ContainerCgroup(directories: container.cgroups)
        func event(_ type: String, _ data: JSONValue? = nil) -> String {
            var object: [String: JSONValue] = ["type": .string(type), "id": .string(id)]
            if let data { object["data"] = data }
            return JSONValue.object(object).serialized
        }
        if statsOnce {
            emit(event("stats", OCIEvents.stats(cgroup.read)))
            return
        }
        let notifier = try OOMNotifier.open(cgroupDirectories: container.cgroups)
        guard let pidfd = try? container.initProcess?.openPidFD() else { return }  // init has just ended
        defer { close(pidfd) }
        let period = max(Int(interval * 1000), 10)
        var nextStats = monotonicMilliseconds()
        while true {
            let now = monotonicMilliseconds()
            if now >= nextStats {
                emit(event("stats", OCIEvents.stats(cgroup.read)))
                nextStats = now + period
            }
            var fds = [pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0), pollfd(fd: notifier?.fd ?? -1, events: Int16(POLLIN), revents: 0)]
            if poll(&fds, nfds_t(fds.count), Int32(clamping: nextStats - now)) < 0 && errno != EINTR {
                throw SwrunError.system("cannot wait for events of container \(id)", Errno.current)
            }
            let ended = fds[0].revents != 0 || (try? OCIContainer.load(root: root, id: id))?.status.isLive != true
            // At the end too: the kernel's notice of a kill may come just after its victim's exit.
            if fds[1].revents != 0 || ended, notifier?.tookOOM() == true { emit(event("oom")) }
            if ended { return }
        }
    }
}

extension OCIContainer.Status {
    /// Whether the container still has a process: events go on while it does.
    var isLive: Bool { self != .stopped }
}
