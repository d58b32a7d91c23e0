import Glibc
import SwrunConfig
import SwrunImages
import SwrunSystem

/// `swrun copy -R` (lxc-copy -R): a stopped container renamed in its LXCPATH. LXC clones it
/// under the new name (its MAC addresses kept, its hostname renamed) and destroys the
/// original; swrun moves the directory instead, which keeps every backing store's files
/// where they are, and rewrites what names the old directory or name, so that LXC's tools
/// and swrun find the container under its new name only.
public struct ContainerRenamer {
    public let store: ContainerStore
    public let name: String
    /// Where the layers of image-based containers are recorded as in use.
    public let layerStore: LayerStore?

    public init(store: ContainerStore, name: String, layerStore: LayerStore?) {
        self.store = store
        self.name = name
        self.layerStore = layerStore
    }

    /// Renames the container to `newName`; with `keepHostname`, its lxc.uts.name and
    /// /etc/hostname stay (lxc-copy -R always renames them).
    public func rename(to newName: String, keepHostname: Bool = false) throws(SwrunError) {
        try store.requireExisting(name)
        try ContainerName.validate(newName)
        guard newName != name else {
            throw SwrunError(.invalidArgument, "the container is already named '\(name)'", hint: "give another name with -N")
        }
        guard !store.exists(newName), !FileSystem.exists(store.directory(of: newName)) else {
            throw SwrunError(.alreadyExists, "container '\(newName)' already exists in \(store.lxcPath)",
                             hint: "pick another name with -N, or destroy it first")
        }
        try requireNoSnapshots()
        // The run lock, held while the directory moves, keeps a start from beginning in it.
        guard let lock = try? store.lockForStart(name) else {
            throw SwrunError(.busy, "container '\(name)' is running", hint: "stop it first (`swrun stop -n \(name) -P \(store.lxcPath)`)")
        }
        defer { withExtendedLifetime(lock) {} }
        let old = ContainerAddress(lxcPath: store.lxcPath, name: name)
        let new = ContainerAddress(lxcPath: store.lxcPath, name: newName)
        var config = try ConfigFile.load(store.configPath(of: name))
        config.path = FileSystem.join(new.directory, "config")
        config.rewriteValues { _, value in
            if value == old.directory { return new.directory }
            guard value.contains(old.directory + "/") else { return nil }
            return value.replacing(old.directory + "/", with: new.directory + "/")
        }
        if !keepHostname { config.set("lxc.uts.name", newName) }
        guard Glibc.rename(old.directory, new.directory) == 0 else {
            throw SwrunError.system("cannot rename \(old.directory) to \(new.directory)", Errno.current)
        }
        do {
            try config.write()
            let renamed = try store.config(of: newName)
            if !keepHostname { try renameHost(renamed, directory: new.directory, to: newName) }
            try SnapshotDependencies.move(old, to: new)
            if let overlay = renamed.rootOverlay, let layerStore {
                let layers = overlay.lowers.filter { layerStore.holds($0) }
                if !layers.isEmpty { try layerStore.recordUser(new.directory, layers: layers) }
            }
        } catch {
            // Back where it was, under its old config.
            if Glibc.rename(new.directory, old.directory) == 0 { try? SnapshotDependencies.move(new, to: old) }
            throw error
        }
        try? AddressLeases(lxcPath: store.lxcPath).release(name)
    }

    /// LXC refuses to rename a container with snapshots (its snaps/) or snapshot clones (whose
    /// configs name its files); so does swrun.
    private func requireNoSnapshots() throws(SwrunError) {
        let snaps = ContainerStore(lxcPath: FileSystem.join(store.directory(of: name), "snaps"))
        let taken = ((try? FileSystem.listDirectory(snaps.lxcPath)) ?? []).filter { snaps.exists($0) }
        let clones = SnapshotDependencies.clones(of: ContainerAddress(lxcPath: store.lxcPath, name: name))
        guard taken.isEmpty && clones.isEmpty else {
            let what = taken.isEmpty ? "snapshot clones that stand on its files: " + clones.map(\.name).joined(separator: ", ")
                : "snapshots: " + taken.sorted().joined(separator: ", ")
            throw SwrunError(.busy, "container '\(name)' has \(what), which name it by its path",
                             hint: "copy it under the new name instead (swrun copy -n \(name) -N NEWNAME), or destroy them first")
        }
    }

    private func renameHost(_ config: ContainerConfig, directory: String, to newName: String) throws(SwrunError) {
        if let overlay = config.rootOverlay {
            try HostnameFile.rename(from: name, to: newName, inOverlay: overlay)
        } else if config.rootDevice == nil {
            HostnameFile.rename(from: name, to: newName, inDirectory: ContainerSpec.rootfsPath(config, directory: directory))
        }
        // A loop image, LVM volume or ZFS dataset keeps its /etc/hostname: it is inside the filesystem.
    }
}
