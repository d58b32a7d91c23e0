import SwrunJSON
import SwrunSystem
import Testing
@testable import SwrunRuntime

/// `update`'s single flags: the linux.resources fields they stand for.
@Suite struct OCIUpdateFlagsTests {
    @Test(arguments: [
        ("memory", "512m", "memory", "limit", JSONValue.number("536870912")),
        ("memory-reservation", "1g", "memory", "reservation", .number("1073741824")),
        ("cpu-shares", "512", "cpu", "shares", .number("512")),
        ("cpu-share", "256", "cpu", "shares", .number("256")),
        ("cpu-quota", "-1", "cpu", "quota", .number("-1")),
        ("cpu-period", "100000", "cpu", "period", .number("100000")),
        ("cpuset-cpus", "0-1", "cpu", "cpus", .string("0-1")),
        ("cpuset-mems", "0", "cpu", "mems", .string("0")),
        ("pids-limit", "40", "pids", "limit", .number("40")),
        ("blkio-weight", "300", "blockIO", "weight", .number("300")),
        ("cpu-rt-runtime", "950", "cpu", "realtimeRuntime", .number("950")),
    ])
    func aFlagSetsTheFieldItNames(option: String, value: String, section: String, field: String, expected: JSONValue) throws {
        var flags = OCIUpdateFlags()
        try flags.set(option, value)
        #expect(try flags.resources()[section]?[field] == expected)
    }

    @Test(arguments: [("100", Int64(100)), ("100k", 102_400), ("1.5m", 1_572_864), ("2GiB", 2_147_483_648), ("4 g", 4_294_967_296), ("-1", -1)])
    func sizesTakeDockersBinaryUnits(text: String, bytes: Int64) {
        #expect(OCIUpdateFlags.bytes(text) == bytes)
    }

    @Test(arguments: ["", "m", "12x", "-5", "1..2k"])
    func aSizeThatIsNoneIsRefused(text: String) {
        #expect(OCIUpdateFlags.bytes(text) == nil)
    }

    @Test func aSwapLimitNeedsTheMemoryLimitBesideIt() throws {
        var flags = OCIUpdateFlags()
        try flags.set("memory-swap", "1g")
        #expect(throws: SwrunError.self) { try flags.resources() }
        try flags.set("memory", "512m")
        #expect(try flags.resources()["memory"]?["swap"] == .number("1073741824"))
    }

    @Test func intelRDTFlagsAreSchemataNotResources() throws {
        var flags = OCIUpdateFlags()
        #expect(OCIUpdateFlags.knows("l3-cache-schema") && OCIUpdateFlags.knows("mem-bw-schema"))
        try flags.set("l3-cache-schema", "L3:0=ff")
        try flags.set("mem-bw-schema", "MB:0=50")
        #expect(flags.l3CacheSchema == "L3:0=ff" && flags.memBwSchema == "MB:0=50")
        #expect(!flags.isEmpty && flags.setsSchemata && !flags.setsResources)
    }

    @Test func aNumberFlagRefusesText() {
        var flags = OCIUpdateFlags()
        #expect(throws: SwrunError.self) { try flags.set("pids-limit", "many") }
        #expect(!OCIUpdateFlags.knows("memory-swappiness"), "runc has no such update flag")
    }

    @Test func theFlagsReadAsLinuxResourcesDo() throws {
        var flags = OCIUpdateFlags()
        try flags.set("memory", "64m")
        try flags.set("pids-limit", "40")
        let document = OCIDocument(path: "update's flags", root: .object(["resources": try flags.resources()]))
        let spec = try OCIResources.read(try flags.resources(), in: document, key: "resources")
        #expect(spec.limits.values["memory.max"] == "67108864" && spec.limits.values["pids.max"] == "40")
    }
}
