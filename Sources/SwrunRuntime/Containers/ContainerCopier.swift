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
            // The copy is the user's to keep: it goes with no `swrun run --rm`.
            var sidecar = try ContainerSidecar.load(from: store.directory(of: name))
            sidecar.removeWith = nil
            sidecar.created = Int(time(nil))  // a new container, whatever the original's age
            try sidecar.write(to: copy.directory)
            if case .overlay(let overlay) = rootfs {
                // An overlay snapshot stands on the original's files; a btrfs snapshot does not.
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

    /// The copy's rootfs.
    enum PlannedRootfs {
        /// A directory holding a copy of the original's files (whatever held them).
        case directory
        /// A btrfs subvolume: a snapshot of the original's (-s), or a new one with a copy.
        case btrfs(snapshotOf: String?)
        /// A copy of the original's loop image.
        case loop(image: String, copyOf: String)
        case overlay(RootOverlay)

        var configValue: (String) -> String {
            switch self {
            case .directory: { "dir:" + $0 }
            case .btrfs: { "btrfs:" + $0 }
            case .loop(let image, _): { _ in RootDevice.loop(image: image).configValue }
            case .overlay(let overlay): { _ in overlay.configValue }
            }
        }
    }

    private func plannedRootfs(_ config: ContainerConfig, options: Options, copy: ContainerAddress) throws(SwrunError) -> PlannedRootfs {
        let upper = FileSystem.join(copy.directory, "overlay/delta")
        let original = ContainerSpec.rootfsPath(config, directory: store.directory(of: name))
        let chosen = options.backingStore ?? Self.defaultStore(copying: config.rootBackend, snapshot: options.snapshot)
        switch chosen {
        case .overlay:
            if let overlay = config.rootOverlay {
                // The same layers, under a copy of the original's changes (as lxc-copy does).
                return .overlay(RootOverlay(lowers: overlay.lowers, upper: upper))
            }
            guard options.snapshot, config.rootBackend == "dir" || config.rootBackend == "btrfs" else {
                throw SwrunError(.invalidArgument, "an overlay copy of a \(config.rootBackend) container is a snapshot over its directory",
                                 hint: config.rootBackend == "dir" ? "add -s (the original then cannot be destroyed while the copy exists), or use -B dir"
                                    : "copy it with -B dir, or -B \(config.rootBackend)")
            }
            return .overlay(RootOverlay(lowers: [original], upper: upper))
        case .btrfs:
            try BackingStore.requireBtrfs(copy.lxcPath)
            let snapshotOf = options.snapshot ? original : nil
            if snapshotOf != nil && config.rootBackend != "btrfs" {
                throw SwrunError(.invalidArgument, "a btrfs snapshot needs a btrfs original, and \(name) is \(config.rootBackend)", hint: "drop -s, or use -B overlay")
            }
            return .btrfs(snapshotOf: snapshotOf)
        case .loop:
            guard case .loop(let image)? = config.rootDevice, !options.snapshot else {
                throw SwrunError(.invalidArgument, "-B loop copies a loop container's image; \(name) is \(config.rootBackend)\(options.snapshot ? ", and a loop image has no snapshots" : "")",
                                 hint: "use -B dir, or -s for an overlay snapshot")
            }
            return .loop(image: FileSystem.join(copy.directory, "rootdev"), copyOf: image)
        case .dir, .lvm, .zfs:
            guard !options.snapshot else {
                throw SwrunError(.invalidArgument, "a snapshot (-s) is an overlay or btrfs snapshot of the original's files, not a directory",
                                 hint: "drop -B \(chosen.rawValue), or drop -s for a whole copy")
            }
            return .directory
        }
    }

    /// The copy's store when -B names none: the original's (a btrfs snapshot for btrfs), an
    /// overlay for any other snapshot; lvm and zfs copies become directories.
    static func defaultStore(copying backend: String, snapshot: Bool) -> BackingStore {
        if snapshot { return backend == "btrfs" ? .btrfs : .overlay }
        switch BackingStore(rawValue: backend) {
        case .overlay?: return .overlay
        case .btrfs?: return .btrfs
        case .loop?: return .loop
        default: return .dir
        }
    }

    /// Copies the files: the whole tree, the image, or the original's changes for an overlay copy.
    private func fill(_ rootfs: PlannedRootfs, from config: ContainerConfig, copy: ContainerAddress) throws(SwrunError) {
        let rootfsDirectory = FileSystem.join(copy.directory, "rootfs")
        let originalDirectory = store.directory(of: name)
        switch rootfs {
        case .directory, .btrfs(snapshotOf: nil):
            if case .btrfs = rootfs { try Btrfs.createSubvolume(rootfsDirectory) } else { try FileSystem.makeDirectory(rootfsDirectory, mode: 0o755) }
            try ContainerFiles.withFiles(of: config, in: originalDirectory, scratch: ".copy-\(copy.name)") { (source) throws(SwrunError) in
                report("copying the files of \(name) into \(rootfsDirectory)")
                try TreeCopy.copy(source, to: rootfsDirectory)
            }
        case .btrfs(let snapshotOf?):
            report("snapshotting \(snapshotOf) into \(rootfsDirectory)")
            try Btrfs.snapshot(snapshotOf, to: rootfsDirectory)
        case .loop(let image, let original):
            try FileSystem.makeDirectory(rootfsDirectory, mode: 0o755)
            report("copying \(original) into \(image)")
            try TreeCopy.copyFile(original, to: image)
        case .overlay(let overlay):
            try FileSystem.makeDirectory(rootfsDirectory, mode: 0o755)
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
        config.set("lxc.rootfs.path", rootfs.configValue(FileSystem.join(copy.directory, "rootfs")))
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
        case .loop:
            return  // its files are inside the image: it keeps the original's /etc/hostname
        case .directory, .btrfs:
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
        try run(["cp", "-a", "--reflink=auto", "--", source + "/.", destination + "/"], source, destination)
    }

    /// One file (a loop image), its holes kept.
    static func copyFile(_ source: String, to destination: String) throws(SwrunError) {
        try run(["cp", "--sparse=always", "--reflink=auto", "--", source, destination], source, destination)
    }

    private static func run(_ argv: [String], _ source: String, _ destination: String) throws(SwrunError) {
        let (status, _) = try Subprocess.run(argv)
        guard status == 0 else {
            throw SwrunError(.system, "cp of \(source) into \(destination) failed with status \(status)",
                             hint: "see cp's message above; the disk may be full")
        }
    }
}
