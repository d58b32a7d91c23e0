import SwrunSystem

/// One value to write into a container's cgroup: the controller (which v1 hierarchy holds
/// the file) and the file's name.
public struct CgroupWrite: Sendable, Equatable {
    public var controller: String
    public var file: String
    public var value: String

    public init(controller: String, file: String, value: String) {
        self.controller = controller
        self.file = file
        self.value = value
    }
}

/// Resource limits, in cgroup v2's terms, from lxc.cgroup2.* and lxc.cgroup.* keys and
/// from the --memory, --cpus, --pids and --cpuset flags; written as v2 or v1 files.
/// One config works on both kinds of host: each key is translated, and a key with no
/// counterpart on this host is an error, never silently dropped.
public struct CgroupLimits: Sendable, Equatable {
    /// v2 file name to value, e.g. "memory.max" -> "536870912".
    public private(set) var values: [String: String] = [:]
    /// The keys in the order they were given, for stable writes.
    public private(set) var order: [String] = []

    /// Files written as given (an OCI bundle's memory.swappiness, cpu.shares exactly), each
    /// with its v1 and v2 form, either of which a host may lack.
    public struct ExactWrite: Sendable, Equatable {
        public var v1: CgroupWrite?
        public var v2: CgroupWrite?
        public init(v1: CgroupWrite?, v2: CgroupWrite?) {
            self.v1 = v1
            self.v2 = v2
        }
    }
    public private(set) var exactWrites: [ExactWrite] = []

    public init() {}

    public var isEmpty: Bool { values.isEmpty && exactWrites.isEmpty }

    /// Adds an exact write; one that replaces a translated key (cpu.shares for cpu.weight) clears that key.
    public mutating func setExact(_ write: ExactWrite, replacing key: String? = nil) {
        if let key { clear(v2: key) }
        exactWrites.removeAll { $0.v1?.file == write.v1?.file && $0.v2?.file == write.v2?.file }
        exactWrites.append(write)
    }

    /// The v2 keys swrun applies, with the v1 files they translate to.
    static let v2Keys: Set<String> = ["memory.max", "memory.high", "memory.low", "pids.max", "cpu.max", "cpu.weight", "cpuset.cpus", "cpuset.mems"]
    /// The v1 files swrun applies, with their v2 key.
    static let v1Files: [String: String] = [
        // v1's soft limit is a reclaim target, as v2's memory.low; v2's memory.high (a throttle) has no v1 twin.
        "memory.limit_in_bytes": "memory.max", "memory.soft_limit_in_bytes": "memory.low", "pids.max": "pids.max",
        "cpuset.cpus": "cpuset.cpus", "cpuset.mems": "cpuset.mems",
        // cpu.cfs_quota_us, cpu.cfs_period_us and cpu.shares combine into cpu.max and cpu.weight below.
    ]

    /// Whether swrun applies `key` (an lxc.cgroup2.* or lxc.cgroup.* suffix).
    public static func applies(v2 key: String) -> Bool { v2Keys.contains(key) }
    public static func applies(v1 file: String) -> Bool {
        v1Files[file] != nil || file == "cpu.cfs_quota_us" || file == "cpu.cfs_period_us" || file == "cpu.shares"
    }

    /// Sets a v2 key after checking its value; `origin` names where it came from for errors.
    public mutating func set(v2 key: String, _ value: String, origin: String) throws(SwrunError) {
        let checked: String
        switch key {
        case "memory.max", "memory.high", "memory.low": checked = try Self.bytes(value, key: key, origin: origin)
        case "pids.max": checked = try Self.countOrMax(value, key: key, origin: origin)
        case "cpu.max": checked = try Self.cpuMax(value, origin: origin)
        case "cpu.weight":
            guard let weight = Int(value), (1...10000).contains(weight) else {
                throw SwrunError(.invalidConfig, "\(origin): cpu.weight '\(value)' is not a weight from 1 to 10000", hint: "100 is the default share")
            }
            checked = String(weight)
        case "cpuset.cpus", "cpuset.mems": checked = try Self.cpuList(value, key: key, origin: origin)
        default:
            throw SwrunError(.invalidConfig, "\(origin): lxc.cgroup2.\(key) is not applied by swrun",
                             hint: "swrun applies \(Self.v2Keys.sorted().joined(separator: ", "))")
        }
        if values[key] == nil { order.append(key) }
        values[key] = checked
    }

    /// Sets a v1 file by translating it to its v2 key.
    public mutating func set(v1 file: String, _ value: String, origin: String) throws(SwrunError) {
        switch file {
        case "cpu.cfs_quota_us", "cpu.cfs_period_us":
            let parts = (values["cpu.max"] ?? "max 100000").split(separator: " ").map(String.init)
            var quota = parts[0], period = parts.count > 1 ? parts[1] : "100000"
            guard let number = Int(value), number >= -1 else {
                throw SwrunError(.invalidConfig, "\(origin): lxc.cgroup.\(file) '\(value)' is not a number of microseconds", hint: "for example 50000")
            }
            if file == "cpu.cfs_quota_us" { quota = number < 0 ? "max" : String(number) } else { period = String(number) }
            try set(v2: "cpu.max", "\(quota) \(period)", origin: origin)
        case "cpu.shares":
            guard let shares = Int(value), shares >= 2 else {
                throw SwrunError(.invalidConfig, "\(origin): lxc.cgroup.cpu.shares '\(value)' is not a share of at least 2", hint: "1024 is the default")
            }
            try set(v2: "cpu.weight", String(Self.weight(fromShares: shares)), origin: origin)
        default:
            guard let key = Self.v1Files[file] else {
                throw SwrunError(.invalidConfig, "\(origin): lxc.cgroup.\(file) is not applied by swrun",
                                 hint: "swrun applies memory, cpu, pids and cpuset limits")
            }
            try set(v2: key, value == "-1" ? "max" : value, origin: origin)
        }
    }

    public mutating func clear(v2 key: String) {
        values[key] = nil
        order.removeAll { $0 == key }
    }

    public mutating func clear(v1 file: String) {
        switch file {
        case "cpu.cfs_quota_us", "cpu.cfs_period_us": clear(v2: "cpu.max")
        case "cpu.shares": clear(v2: "cpu.weight")
        default: if let key = Self.v1Files[file] { clear(v2: key) }
        }
    }

    // MARK: writing

    /// The files to write on a host of `mode`, each with the controller that holds it.
    public func writes(for mode: CgroupMode) throws(SwrunError) -> [CgroupWrite] {
        var writes: [CgroupWrite] = []
        for key in order {
            guard let value = values[key] else { continue }
            let controller = String(key.prefix { $0 != "." })
            if mode == .unified {
                writes.append(CgroupWrite(controller: controller, file: key, value: value))
                continue
            }
            switch key {
            case "memory.max": writes.append(.init(controller: "memory", file: "memory.limit_in_bytes", value: value == "max" ? "-1" : value))
            case "memory.low": writes.append(.init(controller: "memory", file: "memory.soft_limit_in_bytes", value: value == "max" ? "-1" : value))
            case "memory.high":
                throw SwrunError(.invalidConfig, "memory.high has no counterpart on this cgroup v1 host",
                                 hint: "use memory.max for a hard limit, or memory.low (v1's soft limit) for a reclaim target")
            case "pids.max": writes.append(.init(controller: "pids", file: "pids.max", value: value))
            case "cpu.max":
                let parts = value.split(separator: " ")
                writes.append(.init(controller: "cpu", file: "cpu.cfs_period_us", value: String(parts.count > 1 ? parts[1] : "100000")))
                writes.append(.init(controller: "cpu", file: "cpu.cfs_quota_us", value: parts[0] == "max" ? "-1" : String(parts[0])))
            case "cpu.weight": writes.append(.init(controller: "cpu", file: "cpu.shares", value: String(Self.shares(fromWeight: Int(value) ?? 100))))
            case "cpuset.cpus", "cpuset.mems": writes.append(.init(controller: "cpuset", file: key, value: value))
            default: break
            }
        }
        return writes + exactWrites.compactMap { mode == .unified ? $0.v2 : $0.v1 }
    }

    /// The controllers the writes need (v1's names for the exact writes).
    public var controllers: [String] { controllers(for: .hybrid) }

    /// The controllers the writes need on a host of `mode`.
    public func controllers(for mode: CgroupMode) -> [String] {
        var result: [String] = []
        for key in order {
            let controller = String(key.prefix { $0 != "." })
            if !result.contains(controller) { result.append(controller) }
        }
        for write in exactWrites {
            if let controller = (mode == .unified ? write.v2 : write.v1)?.controller, !result.contains(controller) { result.append(controller) }
        }
        return result
    }

    // MARK: values

    /// crun's conversions between v1 shares (2..262144) and v2 weights (1..10000).
    static func weight(fromShares shares: Int) -> Int { 1 + ((min(shares, 262144) - 2) * 9999) / 262142 }
    static func shares(fromWeight weight: Int) -> Int { 2 + ((weight - 1) * 262142) / 9999 }

    /// "512M", "1G", "1048576", "max" to bytes (or "max").
    static func bytes(_ text: String, key: String, origin: String) throws(SwrunError) -> String {
        if text == "max" || text == "-1" { return "max" }
        let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = Substring(text.uppercased())
        var multiplier: UInt64 = 1
        if digits.hasSuffix("B") { digits = digits.dropLast() }
        if let last = digits.last, let unit = units[last] {
            multiplier = unit
            digits = digits.dropLast()
        }
        guard let number = UInt64(digits), number > 0 else {
            throw SwrunError(.invalidConfig, "\(origin): \(key) '\(text)' is not an amount of memory", hint: "write bytes, or a number with K, M or G (512M), or max")
        }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow, bytes < UInt64(1) << 62 else {
            throw SwrunError(.invalidConfig, "\(origin): \(key) '\(text)' is more memory than any machine has", hint: "write max for no limit")
        }
        return String(bytes)
    }

    static func countOrMax(_ text: String, key: String, origin: String) throws(SwrunError) -> String {
        if text == "max" || text == "-1" { return "max" }
        guard let number = UInt64(text), number > 0 else {
            throw SwrunError(.invalidConfig, "\(origin): \(key) '\(text)' is not a positive number", hint: "for example 100, or max")
        }
        return String(number)
    }

    /// "QUOTA PERIOD" or "max PERIOD" in microseconds.
    static func cpuMax(_ text: String, origin: String) throws(SwrunError) -> String {
        let parts = text.split(separator: " ")
        // The kernel takes quotas from 1 ms and periods from 1 ms to 1 s.
        guard (1...2).contains(parts.count), parts[0] == "max" || UInt64(parts[0]).map({ $0 >= 1000 }) == true,
              parts.count == 1 || UInt64(parts[1]).map({ (1000...1_000_000).contains($0) }) == true else {
            throw SwrunError(.invalidConfig, "\(origin): cpu.max '\(text)' is not 'QUOTA PERIOD' in microseconds", hint: "for example '150000 100000' for one and a half CPUs")
        }
        return parts.count == 1 ? "\(parts[0]) 100000" : "\(parts[0]) \(parts[1])"
    }

    /// A list such as "0-1,3", checked against the CPUs (or memory nodes) this host has.
    static func cpuList(_ text: String, key: String, origin: String) throws(SwrunError) -> String {
        let available = key == "cpuset.cpus" ? "/sys/devices/system/cpu/online" : "/sys/devices/system/node/online"
        let onlineText = (try? FileSystem.readText(available))?.trimmingCharacters(in: " \n") ?? "0"
        let online = Self.expandChecked(onlineText)
        guard let wanted = Self.expandChecked(text), !wanted.isEmpty else {
            throw SwrunError(.invalidConfig, "\(origin): \(key) '\(text)' is not a list such as 0-1,3", hint: "numbers and ranges, comma separated")
        }
        let missing = wanted.subtracting(online ?? [0])
        if !missing.isEmpty {
            throw SwrunError(.invalidConfig, "\(origin): \(key) '\(text)' names \(missing.sorted().map(String.init).joined(separator: ",")), which this host does not have",
                             hint: "this host has \(onlineText)")
        }
        return text
    }

    static func expandChecked(_ text: String) -> Set<Int>? {
        var result: Set<Int> = []
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-").map { Int($0) }
            switch bounds.count {
            case 1:
                guard let value = bounds[0], value >= 0 else { return nil }
                result.insert(value)
            case 2:
                guard let low = bounds[0], let high = bounds[1], low >= 0, low <= high else { return nil }
                result.formUnion(low...high)
            default:
                return nil
            }
        }
        return result
    }
}
