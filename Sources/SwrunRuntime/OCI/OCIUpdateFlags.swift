import SwrunJSON
import SwrunSystem

/// `update`'s single flags (runc's: --memory 512m, --cpu-quota 50000, ...) as the
/// linux.resources object they stand for, so that they go the way --resources goes.
public struct OCIUpdateFlags {
    /// How a flag's value is read.
    enum Kind {
        /// A whole number, -1 allowed where the field takes it.
        case integer
        /// Bytes, with docker's units (512m, 1g, 100k; binary multiples), or -1 for no limit.
        case bytes
        /// Text as it is (a cpu list, 0-3,5).
        case text
    }

    /// Flag -> (section, field of linux.resources, how to read it).
    static let table: [String: (section: String, field: String, kind: Kind)] = [
        "blkio-weight": ("blockIO", "weight", .integer),
        "cpu-period": ("cpu", "period", .integer),
        "cpu-quota": ("cpu", "quota", .integer),
        "cpu-burst": ("cpu", "burst", .integer),
        "cpu-share": ("cpu", "shares", .integer),
        "cpu-shares": ("cpu", "shares", .integer),
        "cpu-rt-period": ("cpu", "realtimePeriod", .integer),
        "cpu-rt-runtime": ("cpu", "realtimeRuntime", .integer),
        "cpu-idle": ("cpu", "idle", .integer),
        "cpuset-cpus": ("cpu", "cpus", .text),
        "cpuset-mems": ("cpu", "mems", .text),
        "kernel-memory": ("memory", "kernel", .bytes),
        "kernel-memory-tcp": ("memory", "kernelTCP", .bytes),
        "memory": ("memory", "limit", .bytes),
        "memory-reservation": ("memory", "reservation", .bytes),
        "memory-swap": ("memory", "swap", .bytes),
        "pids-limit": ("pids", "limit", .integer),
    ]

    /// Intel RDT's flags: new schemata for the container's resctrl group (not linux.resources).
    static let rdtFlags: Set<String> = ["l3-cache-schema", "mem-bw-schema"]

    private var sections: [String: [String: JSONValue]] = [:]
    /// --l3-cache-schema and --mem-bw-schema.
    public private(set) var l3CacheSchema: String?
    public private(set) var memBwSchema: String?

    public init() {}

    /// Whether `option` is one of update's resource flags.
    public static func knows(_ option: String) -> Bool { table[option] != nil || rdtFlags.contains(option) }

    /// Reads `text` as the value of `option` (one `knows`).
    public mutating func set(_ option: String, _ text: String) throws(SwrunError) {
        if option == "l3-cache-schema" { return l3CacheSchema = text }
        if option == "mem-bw-schema" { return memBwSchema = text }
        guard let (section, field, kind) = Self.table[option] else {
            throw SwrunError(.invalidArgument, "flag provided but not defined: -\(option)", hint: "see `swrun-oci --help` for update's options")
        }
        let value: JSONValue
        switch kind {
        case .integer:
            guard let number = Int64(text) else {
                throw SwrunError(.invalidArgument, "invalid value \"\(text)\" for flag -\(option): not a whole number", hint: "for example --\(option) 100")
            }
            value = .number(String(number))
        case .bytes:
            guard let bytes = Self.bytes(text) else {
                throw SwrunError(.invalidArgument, "invalid value for \(option): \"\(text)\" is not a size", hint: "write bytes with a unit, e.g. 512m or 1g; -1 for no limit")
            }
            value = .number(String(bytes))
        case .text:
            value = .string(text)
        }
        sections[section, default: [:]][field] = value
    }

    /// Whether no flag was given.
    public var isEmpty: Bool { sections.isEmpty && !setsSchemata }

    /// Whether an Intel RDT flag was given.
    public var setsSchemata: Bool { l3CacheSchema != nil || memBwSchema != nil }

    /// Whether a flag for linux.resources was given.
    public var setsResources: Bool { !sections.isEmpty }

    /// The linux.resources object the flags stand for. A swap limit comes with the memory
    /// limit: OCI's swap is the two together, and v1 refuses a sum below the current limit.
    public func resources() throws(SwrunError) -> JSONValue {
        if sections["memory"]?["swap"] != nil && sections["memory"]?["limit"] == nil {
            throw SwrunError(.invalidArgument, "update --memory-swap needs --memory beside it", hint: "give both, e.g. --memory 512m --memory-swap 1g")
        }
        return .object(sections.mapValues { .object($0) })
    }

    /// docker's RAMInBytes: digits (a fraction allowed), then an optional unit of k, m, g, t or p
    /// (binary multiples, an optional "i" and "b"); "-1" is no limit.
    static func bytes(_ text: String) -> Int64? {
        if text == "-1" { return -1 }
        let lower = text.lowercased().filter { $0 != " " }
        let digits = lower.prefix { $0.isNumber || $0 == "." }
        var unit = lower.dropFirst(digits.count)
        if unit.hasSuffix("b") { unit = unit.dropLast() }
        if unit.hasSuffix("i") && unit.count == 2 { unit = unit.dropLast() }
        let shifts: [Substring: Int64] = ["": 0, "k": 10, "m": 20, "g": 30, "t": 40, "p": 50]
        guard let shift = shifts[unit], !digits.isEmpty, let number = Double(digits), number >= 0 else { return nil }
        let bytes = number * Double(Int64(1) << shift)
        guard bytes < 9.2e18 else { return nil }
        return Int64(bytes)
    }
}
