import Glibc
import SwrunSystem

/// Freezing a container's cgroup: v2's cgroup.freeze, or the v1 freezer's freezer.state.
/// The kernel stops every task of the cgroup where it is (no signal a process could see or
/// catch), and they go on from there when thawed.
public struct CgroupFreezer: Sendable {
    /// The cgroup directory that can freeze, with how.
    enum Interface: Equatable {
        case v2(String)  // DIR/cgroup.freeze, DIR/cgroup.events "frozen 1"
        case v1(String)  // DIR/freezer.state FROZEN / THAWED
    }

    let interface: Interface

    /// The freezer among a container's cgroup directories, if it has one.
    public init?(directories: [String]) {
        if let v2 = directories.first(where: { FileSystem.exists(FileSystem.join($0, "cgroup.freeze")) }) {
            interface = .v2(v2)
        } else if let v1 = directories.first(where: { FileSystem.exists(FileSystem.join($0, "freezer.state")) }) {
            interface = .v1(v1)
        } else {
            return nil
        }
    }

    public var isFrozen: Bool {
        switch interface {
        case .v2(let directory):
            let events = (try? FileSystem.readText(FileSystem.join(directory, "cgroup.events"))) ?? ""
            return events.split(separator: "\n").contains("frozen 1")
        case .v1(let directory):
            return (try? FileSystem.readText(FileSystem.join(directory, "freezer.state")))?.hasPrefix("FROZEN") == true
        }
    }

    /// Freezes (or thaws) and waits until the kernel says every task is there.
    public func set(frozen: Bool, timeoutMilliseconds: Int = 5000) throws(SwrunError) {
        switch interface {
        case .v2(let directory): try FileSystem.writeExisting(FileSystem.join(directory, "cgroup.freeze"), frozen ? "1" : "0")
        case .v1(let directory): try FileSystem.writeExisting(FileSystem.join(directory, "freezer.state"), frozen ? "FROZEN" : "THAWED")
        }
        var waited = 0
        while isFrozen != frozen {
            guard waited < timeoutMilliseconds else {
                throw SwrunError(.busy, "the container's cgroup did not \(frozen ? "freeze" : "thaw") within \(timeoutMilliseconds / 1000) s",
                                 hint: "a task may be stuck in the kernel (uninterruptible I/O); try again")
            }
            usleep(10_000)
            waited += 10
        }
    }
}
