import Foundation
import Glibc
import SwrunSystem
import Testing
@testable import SwrunCgroups

@Suite struct CgroupLimitsTests {
    @Test func v2KeysBecomeV1FilesOnALegacyOrHybridHost() throws {
        var limits = CgroupLimits()
        try limits.set(v2: "memory.max", "512M", origin: "t")
        try limits.set(v2: "cpu.max", "150000 100000", origin: "t")
        try limits.set(v2: "pids.max", "100", origin: "t")
        try limits.set(v2: "cpu.weight", "100", origin: "t")
        #expect(try limits.writes(for: .hybrid) == [
            .init(controller: "memory", file: "memory.limit_in_bytes", value: "536870912"),
            .init(controller: "cpu", file: "cpu.cfs_period_us", value: "100000"),
            .init(controller: "cpu", file: "cpu.cfs_quota_us", value: "150000"),
            .init(controller: "pids", file: "pids.max", value: "100"),
            .init(controller: "cpu", file: "cpu.shares", value: "2597"),  // crun's conversion of weight 100
        ])
        #expect(try limits.writes(for: .unified).map(\.file) == ["memory.max", "cpu.max", "pids.max", "cpu.weight"])
        #expect(limits.controllers == ["memory", "cpu", "pids"])
    }

    @Test func v1KeysBecomeV2KeysOnAUnifiedHost() throws {
        var limits = CgroupLimits()
        try limits.set(v1: "memory.limit_in_bytes", "1048576", origin: "t")
        try limits.set(v1: "cpu.cfs_quota_us", "50000", origin: "t")
        try limits.set(v1: "cpu.shares", "1024", origin: "t")
        let writes = try limits.writes(for: .unified)
        #expect(writes.contains(.init(controller: "memory", file: "memory.max", value: "1048576")))
        #expect(writes.contains(.init(controller: "cpu", file: "cpu.max", value: "50000 100000")))
        #expect(writes.contains(.init(controller: "cpu", file: "cpu.weight", value: "39")))
    }

    @Test(arguments: [
        ("memory.max", "lots", "not an amount of memory"),
        ("pids.max", "-5", "not a positive number"),
        ("cpu.max", "fast", "is not 'QUOTA PERIOD'"),
        ("cpu.weight", "0", "not a weight"),
        ("cpuset.cpus", "0-9999", "which this host does not have"),
        ("memory.swap.max", "1G", "is not applied by swrun"),
        ("memory.max", "99999999999T", "more memory than any machine has"),
        ("cpu.max", "100 100000", "is not 'QUOTA PERIOD'"),
    ])
    func badValuesAreErrorsThatNameWhereTheyCameFrom(key: String, value: String, message: String) {
        var limits = CgroupLimits()
        #expect {
            try limits.set(v2: key, value, origin: "config:3")
        } throws: { error in
            "\(error)".contains("config:3") && "\(error)".contains(message)
        }
    }

    @Test func softLimitIsMemoryLowAndMemoryHighHasNoV1Twin() throws {
        var limits = CgroupLimits()
        try limits.set(v1: "memory.soft_limit_in_bytes", "1M", origin: "t")
        #expect(try limits.writes(for: .unified) == [.init(controller: "memory", file: "memory.low", value: "1048576")])
        var high = CgroupLimits()
        try high.set(v2: "memory.high", "1M", origin: "t")
        #expect(throws: SwrunError.self) { try high.writes(for: .hybrid) }
    }

    @Test func leafNamesDifferByLXCPath() {
        let first = ContainerCgroup.leafName(container: "web", lxcPath: "/var/lib/lxc")
        #expect(first.hasPrefix("swrun-web-") && first.count == "swrun-web-".count + 8)
        #expect(first != ContainerCgroup.leafName(container: "web", lxcPath: "/srv/lxc"))
    }

    @Test func v1CgroupIsMadeBelowOursWithItsLimitsAndRemoved() throws {
        let root = try temporaryDirectory()
        defer { try? FileSystem.removeTree(root) }
        try FileSystem.makeDirectories(root + "/memory/mine")
        var limits = CgroupLimits()
        try limits.set(v2: "memory.max", "1M", origin: "t")
        // A plain directory stands for cgroupfs: the control file is created by the write below.
        FileManager.default.createFile(atPath: root + "/memory/mine/swrun-web.placeholder", contents: nil)
        let memory = CgroupHierarchy(directory: "memory", controllers: ["memory"], ownPath: "/mine")
        let manager = CgroupManagers.forHost(mode: .hybrid, hierarchies: [memory], root: root)
        let made = try? manager.create(CgroupRequest(leaf: "swrun-web", limits: limits))
        // On a plain filesystem the limit file does not exist to be written: creation fails and leaves nothing.
        #expect(made == nil)
        #expect(!FileManager.default.fileExists(atPath: root + "/memory/mine/swrun-web"))
    }

    func temporaryDirectory() throws -> String {
        var template = Array("/tmp/swrun-cgroup-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SwrunError(.system, "mkdtemp failed") }
        return String(cString: made)
    }
}

@Suite struct CgroupStatsTests {
    @Test func blockIOFromEitherVersion() throws {
        var template = Array("/tmp/swrun-stats-XXXXXX".utf8CString)
        let v2 = String(cString: try #require(mkdtemp(&template)))
        var other = Array("/tmp/swrun-stats-XXXXXX".utf8CString)
        let v1 = String(cString: try #require(mkdtemp(&other)))
        defer { try? FileSystem.removeTree(v2); try? FileSystem.removeTree(v1) }
        try FileSystem.writeAtomically(v2 + "/io.stat", "8:0 rbytes=4096 wbytes=1048576 rios=1 wios=2 dbytes=0 dios=0\n254:0 rbytes=100 wbytes=0 rios=1 wios=0\n")
        try FileSystem.writeAtomically(v1 + "/blkio.throttle.io_service_bytes", "8:0 Read 10\n8:0 Write 20\n8:0 Total 30\nTotal 30\n")
        #expect(CgroupStats(ContainerCgroup(directories: [v2])).ioBytes == 4096 + 1_048_576 + 100)
        #expect(CgroupStats(ContainerCgroup(directories: [v1])).ioBytes == 30)
        #expect(CgroupStats(ContainerCgroup(directories: [])).ioBytes == nil)
    }
}
