import Foundation
import Testing
import SwrunSystem
@testable import SwrunRuntime

/// Containers whose `swrun run --rm` died before destroying them, found and removed by the next run.
@Suite struct AbandonedRunsTests {
    /// This process, as it would be had it started a tick later: the same pid, not the same process.
    var deadProcess: ProcessIdentity {
        let current = ProcessIdentity.current ?? ProcessIdentity(pid: getpid(), startTime: 0)
        return ProcessIdentity(pid: current.pid, startTime: current.startTime + 1)
    }

    @Test func theMarkOfARunRmIsKeptInSwrunJSON() throws {
        let store = try makeStore()
        defer { try? FileManager.default.removeItem(atPath: store.lxcPath) }
        let sidecar = ContainerSidecar(image: "busybox", ports: [try PortPublication(parsing: "8080:80")],
                                       removeWith: ProcessIdentity(pid: 4242, startTime: 18_446_744_073_709_551_615))
        try sidecar.write(to: store.lxcPath)
        #expect(try ContainerSidecar.load(from: store.lxcPath) == sidecar)
    }

    @Test func onlyContainersWhoseRunHasDiedAreAbandoned() throws {
        let store = try makeStore()
        defer { try? FileManager.default.removeItem(atPath: store.lxcPath) }
        try container("dead", in: store, removeWith: deadProcess)
        try container("alive", in: store, removeWith: ProcessIdentity.current)
        try container("kept", in: store, removeWith: nil)
        try FileManager.default.createDirectory(atPath: store.directory(of: "plain"), withIntermediateDirectories: true)
        #expect(AbandonedRuns(store: store).names() == ["dead"])
    }

    @Test func anAbandonedContainerAndACreateCutShortAreRemoved() throws {
        let store = try makeStore()
        defer { try? FileManager.default.removeItem(atPath: store.lxcPath) }
        try container("dead", in: store, removeWith: deadProcess)
        try container("alive", in: store, removeWith: ProcessIdentity.current)
        try ContainerSidecar(removeWith: deadProcess).write(to: try directory("half", in: store))  // no config yet
        var warnings: [String] = []
        AbandonedRuns(store: store).destroy { warnings.append($0) }
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.lxcPath) == ["alive"])
    }

    @Test func aSweepInProgressElsewhereIsLeftToFinish() throws {
        let store = try makeStore()
        defer { try? FileManager.default.removeItem(atPath: store.lxcPath) }
        try container("dead", in: store, removeWith: deadProcess)
        var otherSweep = try FileLock.tryAcquire(directory: store.lxcPath)
        #expect(otherSweep != nil)
        AbandonedRuns(store: store).destroy { Issue.record("\($0)") }
        #expect(store.exists("dead"))
        otherSweep = nil
        AbandonedRuns(store: store).destroy { Issue.record("\($0)") }
        #expect(!store.exists("dead"))
    }

    func makeStore() throws -> ContainerStore {
        let path = NSTemporaryDirectory() + "swrun-abandoned-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return ContainerStore(lxcPath: path)
    }

    func directory(_ name: String, in store: ContainerStore) throws -> String {
        try FileManager.default.createDirectory(atPath: store.directory(of: name), withIntermediateDirectories: true)
        return store.directory(of: name)
    }

    /// A container with a config and, with `removeWith`, the mark of a `swrun run --rm`.
    func container(_ name: String, in store: ContainerStore, removeWith: ProcessIdentity?) throws {
        let directory = try directory(name, in: store)
        try "lxc.uts.name = \(name)\n".write(toFile: store.configPath(of: name), atomically: false, encoding: .utf8)
        try ContainerSidecar(removeWith: removeWith).write(to: directory)
    }
}
