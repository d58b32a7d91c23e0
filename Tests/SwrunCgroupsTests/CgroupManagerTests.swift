import Foundation
import Glibc
import Testing
@testable import SwrunCgroups
import SwrunSystem

/// The managers on a plain directory standing for /sys/fs/cgroup: which directories each
/// layout makes, where, and what it skips. (Limits need the kernel's control files; the
/// integration tests write them.)
@Suite struct CgroupManagerTests {
    func temporaryRoot(_ directories: [String]) throws -> String {
        var template = Array("/tmp/swrun-manager-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SwrunError(.system, "mkdtemp failed") }
        let root = String(cString: made)
        for directory in directories { try FileSystem.makeDirectories(root + "/" + directory) }
        return root
    }

    @Test func theLayoutChoosesTheManager() {
        #expect(CgroupManagers.forHost(mode: .unified, hierarchies: []) is CgroupV2Manager)
        #expect(CgroupManagers.forHost(mode: .hybrid, hierarchies: []) is CgroupV1Manager)
        #expect(CgroupManagers.forHost(mode: .legacy, hierarchies: []).mode == .legacy)
    }

    @Test func v1MakesOneCgroupInEachWritableHierarchy() throws {
        let root = try temporaryRoot(["pids/mine", "systemd/mine", "freezer", "unified/mine"])
        defer { try? FileSystem.removeTree(root) }
        let hierarchies = [
            CgroupHierarchy(directory: "pids", controllers: ["pids"], ownPath: "/mine"),
            CgroupHierarchy(directory: "systemd", controllers: ["name=systemd"], ownPath: "/mine"),
            CgroupHierarchy(directory: "freezer", controllers: ["freezer"], ownPath: "/", readOnly: true),
            CgroupHierarchy(directory: "unified", controllers: [], ownPath: "/mine"),
        ]
        let manager = CgroupManagers.forHost(mode: .hybrid, hierarchies: hierarchies, root: root)
        let cgroup = try manager.create(CgroupRequest(leaf: "swrun-web-1"))
        #expect(cgroup.directories == ["pids/mine", "systemd/mine", "unified/mine"].map { "\(root)/\($0)/swrun-web-1" })
        #expect(!manager.enforcesDevicePolicy, "no devices hierarchy here")
        #expect(cgroup.remove())
        #expect(cgroup.directories.allSatisfy { !FileSystem.exists($0) })
    }

    @Test func v1RefusesALimitWhoseControllerIsMissingBeforeMakingAnything() throws {
        let root = try temporaryRoot(["pids/mine"])
        defer { try? FileSystem.removeTree(root) }
        let manager = CgroupManagers.forHost(mode: .hybrid, hierarchies: [CgroupHierarchy(directory: "pids", controllers: ["pids"], ownPath: "/mine")], root: root)
        var limits = CgroupLimits()
        try limits.set(v2: "memory.max", "64M", origin: "lxc.cgroup2.memory.max")
        #expect { try manager.create(CgroupRequest(leaf: "swrun-web-2", limits: limits)) } throws: { error in
            (error as? SwrunError)?.message.contains("no cgroup v1 memory controller") == true
        }
        #expect(!FileSystem.exists(root + "/pids/mine/swrun-web-2"))
    }

    @Test func v2MakesOneCgroupInTheTreeAndPlacesAnAbsolutePathFromItsRoot() throws {
        let root = try temporaryRoot(["mine"])
        defer { try? FileSystem.removeTree(root) }
        let manager = CgroupManagers.forHost(mode: .unified, hierarchies: [CgroupHierarchy(directory: "", controllers: [], ownPath: "/mine")], root: root)
        #expect(manager.enforcesDevicePolicy)
        let own = try manager.create(CgroupRequest(leaf: "swrun-web-3"))
        #expect(own.directories == ["\(root)/mine/swrun-web-3"])
        let placed = try manager.create(CgroupRequest(leaf: "ignored", directory: "/engine/c1"))
        #expect(placed.directories == ["\(root)/engine/c1"] && placed.configuredDirectory == "/engine/c1")
        #expect(own.remove() && placed.remove())
    }

    @Test func v2WithoutATreeRefusesLimitsAndMakesNothingWithout() throws {
        let manager = CgroupManagers.forHost(mode: .unified, hierarchies: [])
        #expect(try manager.create(CgroupRequest(leaf: "swrun-web-4")).directories.isEmpty)
        var limits = CgroupLimits()
        try limits.set(v2: "pids.max", "10", origin: "t")
        #expect(throws: SwrunError.self) { try manager.create(CgroupRequest(leaf: "swrun-web-4", limits: limits)) }
    }
}
