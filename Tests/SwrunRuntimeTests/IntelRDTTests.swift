import Foundation
import Glibc
import SwrunJSON
import SwrunSystem
import Testing
@testable import SwrunRuntime

/// linux.intelRdt read from config.json, and the resctrl group it makes, on a plain
/// directory standing for /sys/fs/resctrl (this host has no RDT).
@Suite struct IntelRDTTests {
    static func read(_ value: JSONValue) throws -> IntelRDT? {
        try IntelRDT.read(value, in: OCIDocument(path: "config.json", root: .object(["linux": ["intelRdt": value]])))
    }

    @Test func readsEveryFieldOfTheSpec() throws {
        let rdt = try #require(try Self.read(["closID": "guaranteed", "l3CacheSchema": "L3:0=ffff;1=3ff\nMB:0=10", "memBwSchema": "MB:0=20;1=70",
                                              "schemata": ["L2:0=f"], "enableMonitoring": true]))
        #expect(rdt == IntelRDT(closID: "guaranteed", l3CacheSchema: "L3:0=ffff;1=3ff\nMB:0=10", memBwSchema: "MB:0=20;1=70",
                                schemata: ["L2:0=f"], monitoring: true))
        #expect(rdt.schemataText == "L3:0=ffff;1=3ff\nMB:0=20;1=70\nL2:0=f\n", "an MB: line among the L3 ones is dropped, as runc and crun do")
        #expect(try Self.read(["enableCMT": true])?.monitoring == true, "runtime-spec 1.1's names ask for a monitoring group too")
        #expect(try Self.read([:]) == nil && (try Self.read(.null)) == nil)
    }

    @Test func aClosIDThatIsNoGroupNameIsRefused() {
        for name in ["a/b", "..", "."] {
            #expect { try Self.read(["closID": .string(name)]) } throws: { ($0 as? SwrunError)?.message.contains("linux.intelRdt.closID") == true }
        }
    }

    /// A directory with what resctrl shows: made by the kernel in a real group, by the test here.
    final class FakeResctrl {
        private let scratch: ScratchDirectory
        var root: String { scratch.path }
        init() throws { scratch = try ScratchDirectory("resctrl") }
        func group(_ name: String, schemata: String) throws {
            try FileManager.default.createDirectory(atPath: root + "/" + name + "/mon_groups", withIntermediateDirectories: true)
            try schemata.write(toFile: root + "/" + name + "/schemata", atomically: false, encoding: .utf8)
        }
        func text(_ path: String) -> String? { try? String(contentsOfFile: root + "/" + path, encoding: .utf8) }
    }

    @Test func aGroupOfItsOwnIsMadeWithTheSchemataAndTakesInit() throws {
        let fake = try FakeResctrl()
        let group = ResctrlGroup(IntelRDT(l3CacheSchema: "L3:0=f0"), containerID: "web", root: fake.root)
        #expect(try group.prepare(requireMount: false) == [fake.root + "/web"], "made: to go at the end")
        #expect(fake.text("web/schemata") == "L3:0=f0\n")
        try FileManager.default.createDirectory(atPath: fake.root + "/web/mon_groups", withIntermediateDirectories: false)  // the kernel's
        let monitored = ResctrlGroup(IntelRDT(l3CacheSchema: "L3:0=f0", monitoring: true), containerID: "web", root: fake.root)
        #expect(try monitored.prepare(requireMount: false) == [fake.root + "/web/mon_groups/web"], "the group exists, with these schemata: only the monitoring group is new")
        try monitored.add(4242)
        #expect(fake.text("web/tasks") == "4242" && fake.text("web/mon_groups/web/tasks") == "4242")
    }

    @Test func aSharedClosIDIsJoinedOnlyWithTheSameSchemata() throws {
        let fake = try FakeResctrl()
        try fake.group("gold", schemata: "    L3:0=00ff;1=ff00\n    MB:0=100;1=100\n")
        let same = ResctrlGroup(IntelRDT(closID: "gold", l3CacheSchema: "L3:1=ff00;0=ff"), containerID: "a", root: fake.root)
        #expect(try same.prepare(requireMount: false).isEmpty, "joined, not made: nothing for this container to remove")
        #expect(fake.text("gold/schemata") == "    L3:0=00ff;1=ff00\n    MB:0=100;1=100\n", "a shared group's schemata are not rewritten")
        let other = ResctrlGroup(IntelRDT(closID: "gold", memBwSchema: "MB:0=50;1=100"), containerID: "b", root: fake.root)
        #expect { try other.prepare(requireMount: false) } throws: { ($0 as? SwrunError)?.message.contains("other MB schemata") == true }
        let byName = ResctrlGroup(IntelRDT(closID: "gold"), containerID: "c", root: fake.root)
        #expect(try byName.prepare(requireMount: false).isEmpty, "a closID alone joins the group as it is")
        let missing = ResctrlGroup(IntelRDT(closID: "silver"), containerID: "d", root: fake.root)
        #expect { try missing.prepare(requireMount: false) } throws: { ($0 as? SwrunError)?.message.contains("does not exist") == true }
        #expect(!FileManager.default.fileExists(atPath: fake.root + "/silver"))
    }

    @Test func withoutResctrlTheErrorNamesTheKeyAndTheMount() throws {
        let fake = try FakeResctrl()
        let group = ResctrlGroup(IntelRDT(l3CacheSchema: "L3:0=f"), containerID: "web", root: fake.root)
        #expect { try group.prepare() } throws: { error in
            let message = (error as? SwrunError)?.message ?? ""
            return message.contains("linux.intelRdt") && message.contains("no resctrl filesystem at \(fake.root)")
        }
        #expect(!FileManager.default.fileExists(atPath: fake.root + "/web"))
    }

    @Test func domainsCompareAsNumbersInAnyOrder() {
        #expect(ResctrlGroup.domains("L3:0=00ff;1=ff00") == [0: 0xff, 1: 0xff00])
        #expect(ResctrlGroup.domains("MB:0=100; 1=50") == [0: 0x100, 1: 0x50])
        #expect(ResctrlGroup.domains("L3:0=zz") == nil)
    }
}
