import Glibc
import SwrunCgroups
import SwrunConfig
import SwrunSystem

/// Containers in LXC's layout: LXCPATH/NAME/config and LXCPATH/NAME/rootfs.
/// swrun adds its own files there: `swrun.lock` (flock, held while the container runs),
/// `swrun.state` (the runtime record), `swrun.sock` (the monitor's socket), `swrun.log`.
public struct ContainerStore: Sendable {
    public static let defaultLXCPath = "/var/lib/lxc"
    public let lxcPath: String

    /// A relative LXCPATH (-P containers) is taken from the working directory now: the paths
    /// written into configs and records must name the same place from anywhere.
    public init(lxcPath: String) {
        let absolute = FileSystem.absolutePath(lxcPath)
        self.lxcPath = absolute.count > 1 && absolute.hasSuffix("/") ? String(absolute.dropLast()) : absolute
    }

    public func directory(of name: String) -> String { FileSystem.join(lxcPath, name) }
    public func configPath(of name: String) -> String { FileSystem.join(directory(of: name), "config") }
    public func lockPath(of name: String) -> String { FileSystem.join(directory(of: name), "swrun.lock") }

    public func exists(_ name: String) -> Bool { FileSystem.kind(of: configPath(of: name)) == .regular }

    /// The containers under LXCPATH (directories holding a config), sorted; none when LXCPATH does not exist.
    public func names() throws(SwrunError) -> [String] {
        guard FileSystem.isDirectory(lxcPath) else { return [] }
        return try FileSystem.listDirectory(lxcPath).filter(exists)
    }

    /// The container's config with its includes, plus `extra` settings (-s) applied last.
    public func config(of name: String, adding extra: [ConfigSetting] = []) throws(SwrunError) -> ContainerConfig {
        try ContainerConfig(settings: ConfigLoader().settings(ofFile: configPath(of: name)) + extra)
    }

    /// Fails with a helpful message when `name` is not a container here.
    public func requireExisting(_ name: String) throws(SwrunError) {
        try ContainerName.validate(name)
        guard exists(name) else {
            throw SwrunError(.notFound, "container '\(name)' does not exist in \(lxcPath)",
                             hint: "create it with `swrun create -n \(name) -t busybox -P \(lxcPath)`, or list containers with `swrun ls -P \(lxcPath)`")
        }
    }

    public func recordPath(of name: String) -> String { FileSystem.join(directory(of: name), "swrun.state") }
    public func socketPath(of name: String) -> String { FileSystem.join(directory(of: name), "swrun.sock") }

    /// The state now: the runtime record when its init still lives; STARTING while a
    /// start holds the lock before init exists; otherwise STOPPED.
    public func status(of name: String) -> ContainerStatus {
        let record = (try? FileSystem.readBytes(recordPath(of: name), locked: true)).flatMap { RuntimeRecord(text: String(decoding: $0, as: UTF8.self)) }
        if let record, let initProcess = record.initProcess, initProcess.isAlive {
            // Frozen is the cgroup's state, not the monitor's: ask the cgroup.
            if record.state == .running, let freezer = CgroupFreezer(directories: record.cgroups), freezer.isFrozen {
                return ContainerStatus(state: .frozen, record: record)
            }
            return ContainerStatus(state: record.state, record: record)
        }
        if let record, record.initProcess == nil, record.monitor?.isAlive == true {
            return ContainerStatus(state: .starting, record: record)
        }
        return ContainerStatus(state: .stopped, record: nil)
    }

    /// The record's cgroups that are this container's own: below /sys/fs/cgroup, named as
    /// swrun names its leaves or ending in the lxc.cgroup.dir the start used. Whatever else a
    /// record says, nothing else is frozen, joined or removed.
    public func ownCgroups(of name: String, in record: RuntimeRecord) -> [String] {
        record.cgroups.filter { Self.isOwnCgroup($0, of: name, configuredDirectory: record.cgroupDirectory) }
    }

    static func isOwnCgroup(_ path: String, of name: String, configuredDirectory: String?) -> Bool {
        guard path.hasPrefix("/sys/fs/cgroup/") && !path.contains("/../") else { return false }
        if let configuredDirectory, path.hasSuffix("/" + configuredDirectory) { return true }
        return path.split(separator: "/").last?.hasPrefix("swrun-\(name)-") == true
    }

    /// Records a started init with its cgroup: whatever happens next, the record names what to clean.
    func recordStarted(_ name: String, initPID: pid_t, mode: LaunchMode, monitor: ProcessIdentity?, cgroup: ContainerCgroup?,
                       signals: ShutdownSignalSpec) throws(SwrunError) {
        try recordLaunched(name, .starting, initPID: initPID, mode: mode, monitor: monitor, cgroup: cgroup, signals: signals)
    }

    /// Marks a started container RUNNING.
    func recordRunning(_ name: String, initPID: pid_t, mode: LaunchMode, monitor: ProcessIdentity?, cgroup: ContainerCgroup?,
                       signals: ShutdownSignalSpec) throws(SwrunError) {
        try recordLaunched(name, .running, initPID: initPID, mode: mode, monitor: monitor, cgroup: cgroup, signals: signals)
    }

    private func recordLaunched(_ name: String, _ state: ContainerState, initPID: pid_t, mode: LaunchMode, monitor: ProcessIdentity?,
                                cgroup: ContainerCgroup?, signals: ShutdownSignalSpec) throws(SwrunError) {
        try writeRecord(RuntimeRecord(state: state, mode: mode, initProcess: ProcessIdentity.of(initPID), monitor: monitor,
                                      cgroups: cgroup?.directories ?? [], cgroupDirectory: cgroup?.configuredDirectory, signals: signals), of: name)
    }

    /// A run writes its record two or three times (STARTING, with init, RUNNING): it is made
    /// once and then rewritten in place, under the lock that `status` reads it with.
    public func writeRecord(_ record: RuntimeRecord, of name: String) throws(SwrunError) {
        try FileSystem.rewrite(recordPath(of: name), Array(record.text.utf8), mode: 0o644)
    }

    /// Removes the files a run leaves once nothing runs: the record, the monitor's socket and
    /// the process profile. What the run changed on the host is undone from its journal
    /// (HostEffects), by the run itself or, after a crash, when the next start takes the lock.
    public func clearRuntimeFiles(of name: String) {
        unlink(recordPath(of: name))
        unlink(socketPath(of: name))
        unlink(FileSystem.join(directory(of: name), ProcessProfile.fileName))
        unlink(stopRequestPath(of: name))
    }

    /// Left by `stop` before it signals init, so that the monitor tells a stop asked for from
    /// an init that ended by itself (which --restart starts again).
    func stopRequestPath(of name: String) -> String { FileSystem.join(directory(of: name), "swrun.stopping") }

    /// Whether a stop was asked for since the last call; the request is used up.
    func takeStopRequest(_ name: String) -> Bool { unlink(stopRequestPath(of: name)) == 0 }

    /// lxc.ephemeral: a container that goes once it stops. Called once its run lock is let go.
    public func destroyIfEphemeral(_ name: String, warn: (String) -> Void) {
        guard (try? config(of: name))?.ephemeral == true else { return }
        destroyIfStopped(name, warn: warn)
    }

    /// Removes an ephemeral container whose config is already read, once nothing runs it.
    func destroyIfStopped(_ name: String, warn: (String) -> Void) {
        guard status(of: name).state == .stopped else { return }
        do { try destroy(name) } catch { warn("could not remove the ephemeral container \(name): \(error)") }
    }

    /// Takes the container's run lock, so that one container is started once at a time.
    /// A container whose monitor died still runs: its record says so, and it is refused too.
    public func lockForStart(_ name: String) throws(SwrunError) -> FileLock {
        guard let lock = try FileLock.tryAcquire(lockPath(of: name)), status(of: name).state == .stopped else {
            throw SwrunError(.busy, "container '\(name)' is already running",
                             hint: "see it with `swrun info -n \(name) -P \(lxcPath)`; stop it with `swrun stop -n \(name) -P \(lxcPath)`")
        }
        // Left by a crash: the lock is ours and nothing runs. What cannot be undone yet (a cgroup
        // whose processes have not gone) stays journaled, and the start goes on beside it.
        HostEffects.undoJournal(in: directory(of: name))
        clearRuntimeFiles(of: name)
        ExitRecord.clear(from: directory(of: name))
        return lock
    }

    /// Removes the container's directory (config, rootfs, lock). A running container is
    /// refused, and so is one that snapshot clones stand on, and one with snapshots of its
    /// own (LXCPATH/NAME/snaps) unless `snapshots` says they go too (lxc-destroy -s).
    public func destroy(_ name: String, snapshots: Bool = false) throws(SwrunError) {
        try requireExisting(name)
        let snaps = ContainerStore(lxcPath: FileSystem.join(directory(of: name), "snaps"))
        let taken = ((try? FileSystem.listDirectory(snaps.lxcPath)) ?? []).filter { FileSystem.exists(snaps.configPath(of: $0)) }.sorted()
        if !taken.isEmpty {
            guard snapshots else {
                throw SwrunError(.busy, "container '\(name)' has snapshots: \(taken.joined(separator: ", "))",
                                 hint: "destroy them with it (swrun destroy -s -n \(name) -P \(lxcPath)), or one by one with swrun snapshot -d")
            }
            for snapshot in taken.reversed() { try snaps.destroy(snapshot) }
        }
        let address = ContainerAddress(lxcPath: lxcPath, name: name)
        let clones = SnapshotDependencies.clones(of: address)
        guard clones.isEmpty else {
            throw SwrunError(.busy, "container '\(name)' has snapshot clones that stand on its files: \(clones.map { "\($0.name) (\($0.lxcPath))" }.joined(separator: ", "))",
                             hint: "destroy the clones first (swrun destroy -n CLONE -P PATH)")
        }
        // The run lock, held while the tree goes, keeps a start from beginning in it.
        guard let lock = try? lockForStart(name) else {
            throw SwrunError(.busy, "container '\(name)' is running",
                             hint: "stop it first (`swrun stop -n \(name) -P \(lxcPath)`), or destroy it with -f, which stops it")
        }
        defer { withExtendedLifetime(lock) {} }
        SnapshotDependencies.forget(address)
        let config = try? config(of: name)
        // A btrfs subvolume goes by btrfs (to removeTree it is another filesystem); an LVM
        // volume or a ZFS dataset lives outside the directory.
        if let config, config.rootBackend == "btrfs" {
            try Btrfs.deleteSubvolume(ContainerSpec.rootfsPath(config, directory: directory(of: name)))
        }
        try FileSystem.removeTree(directory(of: name))
        try ContainerStorage.remove(config?.rootDevice)
        try AddressLeases(lxcPath: lxcPath).release(name)
    }
}

/// Container names: one path component of letters, digits and . _ - (as LXC accepts), not starting with a dot.
public enum ContainerName {
    public static func validate(_ name: String) throws(SwrunError) {
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x5F || byte == 0x2E
        }
        guard !name.isEmpty, name.utf8.count <= 64, allowed, !name.hasPrefix(".") else {
            throw SwrunError(.invalidArgument, "invalid container name '\(name)'",
                             hint: "use up to 64 letters, digits, '.', '_' or '-', not starting with '.'")
        }
    }

    /// A fresh name such as "busybox-3fa9c2", for `swrun run` without --name.
    public static func generate(prefix: String) -> String {
        let bytes = (0..<3).map { _ in UInt8.random(in: 0...255) }
        return prefix + "-" + bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
