import Glibc
import SwrunConfig
import SwrunImages
import SwrunSystem

/// `swrun snapshot` (lxc-snapshot): a container's state kept as another container in its own
/// directory, in LXC's layout, so that `lxc-snapshot -L` lists what swrun made:
///   LXCPATH/NAME/snaps/snapN/{config, rootfs or overlay/delta, ts, comment}
/// A directory container's snapshot is a copy of its files (the original keeps changing under
/// an overlay, as LXC warns); an overlay container's is its layers under a copy of its delta.
public struct ContainerSnapshots {
    public let store: ContainerStore
    public let name: String
    public let layerStore: LayerStore?
    public let report: (String) -> Void

    public init(store: ContainerStore, name: String, layerStore: LayerStore?, report: @escaping (String) -> Void = { _ in }) {
        self.store = store
        self.name = name
        self.layerStore = layerStore
        self.report = report
    }

    /// One snapshot, as `-L` lists it.
    public struct Snapshot: Sendable, Equatable {
        public var name: String
        public var lxcPath: String
        /// "YYYY:MM:DD HH:MM:SS", local time, as LXC writes it.
        public var timestamp: String
        public var comment: String?
    }

    static let timestampFile = "ts"
    static let commentFile = "comment"

    /// Where the snapshots live: a store of their own, as LXC keeps them.
    public var snapshotStore: ContainerStore { ContainerStore(lxcPath: FileSystem.join(store.directory(of: name), "snaps")) }

    /// Takes a snapshot (the container must be stopped); returns its name, snapN.
    @discardableResult
    public func create(commentFile: String?) throws(SwrunError) -> String {
        try store.requireExisting(name)
        guard store.status(of: name).state == .stopped else {
            throw SwrunError(.busy, "container '\(name)' is running: a snapshot needs its files at rest",
                             hint: "stop it first (swrun stop -n \(name) -P \(store.lxcPath))")
        }
        let comment = try commentFile.map { path throws(SwrunError) in try FileSystem.readBytes(path) }
        let snaps = snapshotStore
        try FileSystem.makeDirectories(snaps.lxcPath, mode: 0o755)
        let snapshot = "snap\(nextIndex())"
        var options = ContainerCopier.Options(newName: snapshot)
        options.newPath = snaps.lxcPath
        options.keepName = true
        options.keepMAC = true
        try ContainerCopier(store: store, name: name, layerStore: layerStore, report: report).copy(options)
        do {
            let directory = snaps.directory(of: snapshot)
            try FileSystem.writeAtomically(FileSystem.join(directory, Self.timestampFile), WallClock.now("%Y:%m:%d %H:%M:%S", utc: false), mode: 0o644)
            if let comment { try FileSystem.writeAtomically(FileSystem.join(directory, Self.commentFile), comment, mode: 0o644) }
        } catch {
            try? FileSystem.removeTree(snaps.directory(of: snapshot))
            throw error
        }
        return snapshot
    }

    /// The snapshots, oldest first.
    public func list() -> [Snapshot] {
        let snaps = snapshotStore
        return indices().map { index in
            let snapshot = "snap\(index)", directory = snaps.directory(of: "snap\(index)")
            return Snapshot(name: snapshot, lxcPath: snaps.lxcPath,
                            timestamp: ((try? FileSystem.readText(FileSystem.join(directory, Self.timestampFile))) ?? "").trimmingCharacters(in: "\n"),
                            comment: try? FileSystem.readText(FileSystem.join(directory, Self.commentFile)))
        }
    }

    /// Makes a container of snapshot `snapshot` again: `newName` in the container's LXCPATH, or
    /// (nil, or the container's own name) the container itself, whose files are replaced.
    public func restore(_ snapshot: String, as newName: String?) throws(SwrunError) {
        try requireSnapshot(snapshot)
        let target = newName ?? name
        var options = ContainerCopier.Options(newName: target)
        options.newPath = store.lxcPath
        options.keepName = true
        options.keepMAC = true
        let copier = ContainerCopier(store: snapshotStore, name: snapshot, layerStore: layerStore, report: report)
        guard target == name else {
            try copier.copy(options)
            return
        }
        // In place: the container's files are replaced, its snapshots stay (as LXC's restore
        // keeps snaps/). They are moved aside first, and back should the copy fail.
        let lock = try store.lockForStart(name)
        defer { withExtendedLifetime(lock) {} }
        let directory = store.directory(of: name)
        let aside = FileSystem.join(directory, ".before-restore")
        try? FileSystem.removeTree(aside)
        try FileSystem.makeDirectory(aside, mode: 0o700)
        let kept: Set<String> = ["snaps", "swrun.lock", ".before-restore"]
        let moved = try FileSystem.listDirectory(directory).filter { !kept.contains($0) }
        func move(_ entry: String, from source: String, to destination: String) throws(SwrunError) {
            guard rename(FileSystem.join(source, entry), FileSystem.join(destination, entry)) == 0 else {
                throw SwrunError.system("cannot move \(FileSystem.join(source, entry))", Errno.current)
            }
        }
        do throws(SwrunError) {
            for entry in moved { try move(entry, from: directory, to: aside) }
            options.intoExistingDirectory = true
            try copier.copy(options)
        } catch {
            for entry in (try? FileSystem.listDirectory(directory)) ?? [] where !kept.contains(entry) {
                try? Btrfs.removeTree(FileSystem.join(directory, entry))
            }
            for entry in moved { try? move(entry, from: aside, to: directory) }
            rmdir(aside)
            throw error
        }
        try Btrfs.removeTree(aside)  // a btrfs container's old rootfs is a subvolume
    }

    /// Destroys snapshot `snapshot`, or every one for "ALL".
    public func destroy(_ snapshot: String) throws(SwrunError) {
        if snapshot == "ALL" {
            for index in indices().reversed() { try snapshotStore.destroy("snap\(index)") }
            rmdir(snapshotStore.lxcPath)
            return
        }
        try requireSnapshot(snapshot)
        try snapshotStore.destroy(snapshot)
    }

    private func requireSnapshot(_ snapshot: String) throws(SwrunError) {
        guard snapshot.hasPrefix("snap"), Int(snapshot.dropFirst(4)) != nil, FileSystem.exists(snapshotStore.configPath(of: snapshot)) else {
            throw SwrunError(.notFound, "container '\(name)' has no snapshot '\(snapshot)'",
                             hint: "list them with `swrun snapshot -n \(name) -P \(store.lxcPath) -L`")
        }
    }

    /// The numbers of the snapshots there are, in order.
    private func indices() -> [Int] {
        ((try? FileSystem.listDirectory(snapshotStore.lxcPath)) ?? []).compactMap { entry -> Int? in
            guard entry.hasPrefix("snap"), let index = Int(entry.dropFirst(4)), FileSystem.exists(snapshotStore.configPath(of: entry)) else { return nil }
            return index
        }.sorted()
    }

    /// The first snapN not taken, as LXC numbers them.
    private func nextIndex() -> Int {
        var index = 0
        while FileSystem.exists(snapshotStore.directory(of: "snap\(index)")) { index += 1 }
        return index
    }
}
