import SwrunSystem
import Testing
@testable import SwrunCgroups

@Suite struct DevicePolicyTests {
    @Test func everyContainerStartsFromDenyAllAndTheStandardNodes() {
        let writes = DevicePolicy().v1Writes
        #expect(writes.first?.file == "devices.deny" && writes.first?.value == "a")
        #expect(writes.contains { $0 == ("devices.allow", "c 1:3 rwm") } && writes.contains { $0 == ("devices.allow", "c 136:* rwm") })
        #expect(!writes.contains { $0.value.hasPrefix("c 1:11") || $0.value.hasPrefix("b 8:") }, "no kmsg, no disk: \(writes)")
    }

    @Test func configLinesFollowInOrderAndAResets() throws {
        var policy = DevicePolicy()
        try policy.add("c 10:200 rwm", allow: true)
        try policy.add("b 8:* r", allow: true)
        try policy.add("c 1:9 w", allow: false)
        let lines = policy.v1Writes.suffix(3).map { "\($0.file) \($0.value)" }
        #expect(lines == ["devices.allow c 10:200 rwm", "devices.allow b 8:* r", "devices.deny c 1:9 w"])
        try policy.add("a", allow: true)
        #expect(policy.v1Writes.map { "\($0.file) \($0.value)" } == ["devices.allow a"])
    }

    @Test(arguments: ["x 1:2 r", "c 1 r", "c 1:2 q", "c a:b r", "c 1:2 r extra", ""])
    func badRulesAreRefused(value: String) {
        var policy = DevicePolicy()
        #expect(throws: SwrunError.self) { try policy.add(value, allow: true) }
    }

    /// The program for "deny a; allow c 1:3 rw", instruction by instruction.
    @Test func theCgroupV2ProgramMatchesTheGoldenInstructions() throws {
        var policy = DevicePolicy()
        try policy.add("a", allow: false)
        try policy.add("c 1:3 rw", allow: true)
        let golden: [(UInt8, UInt8, Int16, Int32)] = [
            (0x61, 0x12, 0, 0),       // r2 = ctx->access_type
            (0x54, 0x02, 0, 0xFFFF),  // w2 &= 0xffff: the type
            (0x61, 0x13, 0, 0),       // r3 = ctx->access_type
            (0x74, 0x03, 0, 16),      // w3 >>= 16: the access
            (0x61, 0x14, 4, 0),       // r4 = ctx->major
            (0x61, 0x15, 8, 0),       // r5 = ctx->minor
            (0x55, 0x02, 7, 2),       // if type != char, to the default
            (0x55, 0x04, 6, 1),       // if major != 1, ...
            (0x55, 0x05, 5, 3),       // if minor != 3, ...
            (0xBC, 0x36, 0, 0),       // w6 = w3
            (0x54, 0x06, 0, 1),       // w6 &= mknod: what the rule does not allow
            (0x55, 0x06, 2, 0),       // if any of it is asked for, to the default
            (0xB7, 0x00, 0, 1),       // r0 = 1: allowed
            (0x95, 0x00, 0, 0),       // exit
            (0xB7, 0x00, 0, 0),       // r0 = 0: denied
            (0x95, 0x00, 0, 0),       // exit
        ]
        var bytes: [UInt8] = []
        for (opcode, registers, offset, immediate) in golden {
            bytes += [opcode, registers]
            withUnsafeBytes(of: offset.littleEndian) { bytes += $0 }
            withUnsafeBytes(of: immediate.littleEndian) { bytes += $0 }
        }
        #expect(policy.program == bytes)
    }
}
