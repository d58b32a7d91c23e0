import Glibc
import SwrunSystem

/// Which containers a snapshot clone is made over, in LXC's files, so that LXC and swrun
/// both refuse to destroy a container whose files another one still stands on:
///   LXCPATH/NAME/lxc_rdepends    the containers NAME depends on: "PATH\nNAME\n" each
///   LXCPATH/NAME/lxc_snapshots   the clones that depend on NAME, in the same form
public struct ContainerAddress: Sendable, Equatable {
    public var lxcPath: String
    public var name: String

    public init(lxcPath: String, name: String) {
        self.lxcPath = lxcPath
        self.name = name
    }

    var directory: String { FileSystem.join(lxcPath, name) }
    var exists: Bool { FileSystem.exists(FileSystem.join(directory, "config")) }
}

enum SnapshotDependencies {
    static let dependsOn = "lxc_rdepends"
    static let dependents = "lxc_snapshots"

    /// Records `clone` as made over `origin`: it depends on the origin and on what the
    /// origin depends on, and each of those lists it among its snapshots.
    static func record(clone: ContainerAddress, of origin: ContainerAddress) throws(SwrunError) {
        let chain = read(FileSystem.join(origin.directory, dependsOn)) + [origin]
        try write(chain, to: FileSystem.join(clone.directory, dependsOn))
        for ancestor in chain where ancestor.exists {
            let path = FileSystem.join(ancestor.directory, dependents)
            try write(read(path).filter { $0 != clone } + [clone], to: path)
        }
    }

    /// The clones that stand on `container` and still exist.
    static func clones(of container: ContainerAddress) -> [ContainerAddress] {
        read(FileSystem.join(container.directory, dependents)).filter(\.exists)
    }

    /// Removes `clone` from the snapshot lists of what it depended on (it is being destroyed).
    static func forget(_ clone: ContainerAddress) {
        for ancestor in read(FileSystem.join(clone.directory, dependsOn)) where ancestor.exists {
            let path = FileSystem.join(ancestor.directory, dependents)
            let left = read(path).filter { $0 != clone }
            if left.isEmpty { unlink(path) } else { try? write(left, to: path) }
        }
    }

    /// A clone renamed from `old` to `new` (its directory moved already): what it depends on
    /// lists it by its new name.
    static func move(_ old: ContainerAddress, to new: ContainerAddress) throws(SwrunError) {
        for ancestor in read(FileSystem.join(new.directory, dependsOn)) where ancestor.exists {
            let path = FileSystem.join(ancestor.directory, dependents)
            try write(read(path).map { $0 == old ? new : $0 }, to: path)
        }
    }

    static func read(_ path: String) -> [ContainerAddress] {
        let lines = ((try? FileSystem.readText(path)) ?? "").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return stride(from: 0, to: lines.count - 1, by: 2).compactMap { index in
            lines[index].isEmpty || lines[index + 1].isEmpty ? nil : ContainerAddress(lxcPath: lines[index], name: lines[index + 1])
        }
    }

    private static func write(_ addresses: [ContainerAddress], to path: String) throws(SwrunError) {
        try FileSystem.writeAtomically(path, addresses.map { "\($0.lxcPath)\n\($0.name)\n" }.joined(), mode: 0o644)
    }
}
