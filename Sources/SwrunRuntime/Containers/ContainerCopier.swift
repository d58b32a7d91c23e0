import Glibc
import SwrunConfig
import SwrunImages
import SwrunSystem

/// `swrun copy` (lxc-copy): a container copied under a new name or LXCPATH, whole or as a
/// snapshot (an overlay over the original's files), with its own hostname and MAC addresses,
/// as lxc-copy makes them, so that LXC's tools read the copy and its dependencies.
public struct ContainerCopier {
    public struct Options: Sendable {
        public var newName: String
        /// Where the copy goes (-p); nil: the original's LXCPATH.
        public var newPath: String?
        /// -s: an overlay over the original's files (its rootfs, or its layers and a copy of its delta).
        public var snapshot = false
        /// -B; nil: the original's kind (a snapshot is always an overlay).
        public var backingStore: BackingStore?
        /// -K: the copy keeps the original's hostname.
        public var keepName = false
        /// -M: the copy keeps the original's MAC addresses.
        public var keepMAC = false
        /// -e: lxc.ephemeral = 1, removed when it stops.
        public var ephemeral = false
        /// -a: copy a running container (its files may be changing).
        public var allowRunning = false
        /// -m bind=SRC[:DEST][:ro|rw]: bind mounts of the copy.
        public var mounts: [CopyMount] = []
        /// The copy's directory exists already, holding only what must stay (a snapshot
        /// restored in place keeps its container's snaps/).
        var intoExistingDirectory = false

        public init(newName: String) {
            self.newName = newName
        }
    }

    public let store: ContainerStore
    public let name: String
    /// Where the layers of image-based containers are recorded as in use.
    public let layerStore: LayerStore?
    public let report: (String) -> Void

    public init(store: ContainerStore, name: String, layerStore: LayerStore?, report: @escaping (String) -> Void = { _ in }) {
        self.store = store
        self.name = name
        self.layerStore = layerStore
        self.report = report
    }

    /// Makes the copy; returns its store. Whatever fails leaves no half-made copy.
    @discardableResult
    public func copy(_ options: Options) throws(SwrunError) -> ContainerStore {
        try store.requireExisting(name)
        try ContainerName.validate(options.newName)
        let target = ContainerStore(lxcPath: options.newPath.map(FileSystem.absolutePath) ?? store.lxcPath)
        let origin = ContainerAddress(lxcPath: store.lxcPath, name: name)
        let copy = ContainerAddress(lxcPath: target.lxcPath, name: options.newName)
        guard copy != origin else {
            throw SwrunError(.invalidArgument, "the copy needs another name or LXCPATH", hint: "give -N NEWNAME or -p NEWPATH")
        }
        if store.status(of: name).state != .stopped && !options.allowRunning {
            throw SwrunError(.busy, "container '\(name)' is running: its files may change while they are copied",
                             hint: "stop it first, or pass -a to copy it anyway")
        }
        let config = try store.config(of: name)
        let rootfs = try plannedRootfs(config, options: options, copy: copy)

        try FileSystem.makeDirectories(target.lxcPath, mode: 0o755)
        if !options.intoExistingDirectory {
            do {
                try FileSystem.makeDirectory(copy.directory, mode: 0o770)
            } catch where error.code == .alreadyExists {
                throw SwrunError(.alreadyExists, "container '\(copy.name)' already exists in \(copy.lxcPath)",
                                 hint: "pick another name with -N, or destroy it first")
            }
        }
        do {
            try fill(rootfs, from: config, copy: copy)
            try writeConfig(rootfs: rootfs, options: options, copy: copy)
            for file in [ContainerSidecar.fileName] where FileSystem.exists(FileSystem.join(store.directory(of: name), file)) {
                try FileSystem.writeAtomically(FileSystem.join(copy.directory, file), try FileSystem.readBytes(FileSystem.join(store.directory(of: name), file)))
            }
            if case .overlay(let overlay) = rootfs {
                if options.snapshot { try SnapshotDependencies.record(clone: copy, of: origin) }
                let layers = overlay.lowers.filter { layerStore?.holds($0) == true }
                if let layerStore, !layers.isEmpty { try layerStore.recordUser(copy.directory, layers: layers) }
            }
            _ = try target.config(of: copy.name)  // what was written must load
        } catch {
            // The caller of an in-place copy puts back what it moved aside.
            if !options.intoExistingDirectory { try? FileSystem.removeTree(copy.directory) }
            throw error
        }
        return target
    }

    /// The copy's rootfs: a directory, or an overlay.
    enum PlannedRootfs {
        case directory(from: Source)
        case overlay(RootOverlay)

        /// What a directory copy is copied from: a directory, or the merged view of an overlay.
        enum Source {
            case directory(String)
            case overlay(RootOverlay)
        }
    }

    private func plannedRootfs(_ config: ContainerConfig, options: Options, copy: ContainerAddress) throws(SwrunError) -> PlannedRootfs {
        let upper = FileSystem.join(copy.directory, "overlay/delta")
        let directory = store.directory(of: name)
        let store = options.backingStore ?? (options.snapshot || config.rootOverlay != nil ? .overlay : .dir)
        switch (store, config.rootOverlay) {
        case (.dir, let overlay?):
            guard !options.snapshot else { throw Self.snapshotsAreOverlays }
            return .directory(from: .overlay(overlay))
        case (.dir, nil):
            guard !options.snapshot else { throw Self.snapshotsAreOverlays }
            return .directory(from: .directory(ContainerSpec.rootfsPath(config, directory: directory)))
        case (.overlay, let overlay?):
            // The same layers, under a copy of the original's changes (as lxc-copy does).
            return .overlay(RootOverlay(lowers: overlay.lowers, upper: upper))
        case (.overlay, nil):
            guard options.snapshot else {
                throw SwrunError(.invalidArgument, "an overlay copy of a directory container is a snapshot: it stands on the original's files",
                                 hint: "add -s (the original then cannot be destroyed while the copy exists), or use -B dir for a whole copy")
            }
            return .overlay(RootOverlay(lowers: [ContainerSpec.rootfsPath(config, directory: directory)], upper: upper))
        }
    }

    static let snapshotsAreOverlays = SwrunError(.invalidArgument, "a snapshot (-s) is an overlay over the original's files, not a directory",
                                                 hint: "drop -B dir, or drop -s for a whole copy")

    /// Copies the files: the whole tree, or the original's changes for an overlay copy.
    private func fill(_ rootfs: PlannedRootfs, from config: ContainerConfig, copy: ContainerAddress) throws(SwrunError) {
        let rootfsDirectory = FileSystem.join(copy.directory, "rootfs")
        try FileSystem.makeDirectory(rootfsDirectory, mode: 0o755)
        switch rootfs {
        case .directory(from: .directory(let source)):
            report("copying \(source) into \(rootfsDirectory)")
            try TreeCopy.copy(source, to: rootfsDirectory)
        case .directory(from: .overlay(let overlay)):
            // The merged view, mounted in this process's own mount namespace.
            let view = FileSystem.join(copy.directory, ".merged")
            try FileSystem.makeDirectory(view, mode: 0o700)
            try RootOverlayMount.mount(overlay, at: view)
            defer {
                RootOverlayMount.unmount(at: view)
                rmdir(view)
            }
            report("copying the files of \(name) (its layers and changes) into \(rootfsDirectory)")
            try TreeCopy.copy(view, to: rootfsDirectory)
        case .overlay(let overlay):
            try FileSystem.makeDirectories(overlay.upper, mode: 0o755)
            try FileSystem.makeDirectories(overlay.work, mode: 0o755)
            if let original = config.rootOverlay, FileSystem.isDirectory(original.upper) {
                report("copying the changes of \(name) into \(overlay.upper)")
                try TreeCopy.copy(original.upper, to: overlay.upper)
            }
        }
    }

    /// The original's config with the copy's rootfs, name, paths and addresses, as lxc-copy
    /// rewrites it: values naming the original's directory name the copy's.
    private func writeConfig(rootfs: PlannedRootfs, options: Options, copy: ContainerAddress) throws(SwrunError) {
        var config = try ConfigFile.load(store.configPath(of: name))
        config.path = FileSystem.join(copy.directory, "config")
        let oldDirectory = store.directory(of: name)
        config.rewriteValues { key, value in
            guard key != "lxc.rootfs.path" else { return nil }
            if value == oldDirectory { return copy.directory }
            guard value.contains(oldDirectory + "/") else { return nil }
            return value.replacing(oldDirectory + "/", with: copy.directory + "/")
        }
        switch rootfs {
        case .directory: config.set("lxc.rootfs.path", "dir:" + FileSystem.join(copy.directory, "rootfs"))
        case .overlay(let overlay): config.set("lxc.rootfs.path", overlay.configValue)
        }
        if !options.keepName {
            config.set("lxc.uts.name", copy.name)
            try renameHost(rootfs: rootfs, copy: copy)
        }
        if !options.keepMAC {
            var random = SystemRandomNumberGenerator()
            config.rewriteValues { key, _ in
                guard key.hasPrefix("lxc.net."), key.hasSuffix(".hwaddr") else { return nil }
                return HardwareAddress.completing("00:16:3e:xx:xx:xx", using: &random)?.description
            }
        }
        if options.ephemeral { config.set("lxc.ephemeral", "1") }
        for mount in options.mounts { config.append("lxc.mount.entry", mount.entry) }
        try config.write()
    }

    /// The copy's /etc/hostname names it, where the original's named the original.
    private func renameHost(rootfs: PlannedRootfs, copy: ContainerAddress) throws(SwrunError) {
        switch rootfs {
        case .directory:
            RootfsFile.rewrite("/etc/hostname", in: FileSystem.join(copy.directory, "rootfs")) { text in
                text?.trimmingCharacters(in: " \n") == name ? copy.name + "\n" : nil
            }
        case .overlay(let overlay):
            // Read through the layers (the upper copied from the original's first), written
            // into the copy's own changes. A whiteout in the upper means there is none.
            var status = stat()
            if lstat(overlay.upper + "/etc/hostname", &status) == 0 && status.st_mode & S_IFMT == S_IFCHR { return }
            let current = ([overlay.upper] + overlay.lowers).lazy.compactMap { RootfsFile.read("/etc/hostname", in: $0) }.first
            guard current?.trimmingCharacters(in: " \n") == name else { return }
            try FileSystem.makeDirectories(FileSystem.join(overlay.upper, "etc"), mode: 0o755)
            RootfsFile.rewrite("/etc/hostname", in: overlay.upper, create: true) { _ in copy.name + "\n" }
        }
    }
}

/// lxc-copy's -m bind=SRC[:DEST][:ro|rw]: a host directory bound into the copy.
public struct CopyMount: Sendable, Equatable {
    public var source: String
    public var destination: String
    public var readOnly: Bool

    /// "bind=/src:/dest:ro,bind=/src2"; overlay= is lxc-copy's other type, not made by swrun.
    public static func parse(_ value: String) throws(SwrunError) -> [CopyMount] {
        var mounts: [CopyMount] = []
        for item in value.split(separator: ",") {
            guard item.hasPrefix("bind=") else {
                throw SwrunError(.invalidArgument, "-m \(item): swrun binds directories (bind=SRC[:DEST][:ro|rw])",
                                 hint: "lxc-copy's overlay= mounts are not made by swrun; bind the directory instead")
            }
            var parts = item.dropFirst("bind=".count).split(separator: ":").map(String.init)
            var readOnly = false
            if let last = parts.last, last == "ro" || last == "rw" {
                readOnly = last == "ro"
                parts.removeLast()
            }
            guard (1...2).contains(parts.count), parts.allSatisfy({ $0.hasPrefix("/") && !$0.contains(" ") }) else {
                throw SwrunError(.invalidArgument, "-m \(item) is not bind=/SRC[:/DEST][:ro|rw]", hint: "give absolute paths without spaces")
            }
            mounts.append(CopyMount(source: parts[0], destination: parts.count == 2 ? parts[1] : parts[0], readOnly: readOnly))
        }
        return mounts
    }

    /// The lxc.mount.entry line: the destination relative to the rootfs, made if missing (a
    /// file for a file, a directory otherwise).
    var entry: String {
        let create = FileSystem.exists(source) && !FileSystem.isDirectory(source) ? "file" : "dir"
        return "\(source) \(destination.drop { $0 == "/" }) none bind,create=\(create)\(readOnly ? ",ro" : "") 0 0"
    }
}

/// A whole tree copied with everything a rootfs has: owners, modes, times, hard links,
/// device nodes (an overlay's whiteouts among them), extended attributes (trusted.* too, as
/// root), sparse files; reflinks where the filesystem shares blocks. cp -a does all of it.
enum TreeCopy {
    static func copy(_ source: String, to destination: String) throws(SwrunError) {
        let (status, _) = try Subprocess.run(["cp", "-a", "--reflink=auto", "--", source + "/.", destination + "/"])
        guard status == 0 else {
            throw SwrunError(.system, "cp -a of \(source) into \(destination) failed with status \(status)",
                             hint: "see cp's message above; the disk may be full")
        }
    }
}
