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
        /// -t: the ephemeral copy's changes on a tmpfs (lxc-copy's pre-mount script mounts it
        /// over LXCPATH/NEW/overlay in the start's mount namespace): nothing it writes reaches
        /// the disk. Over an overlay container, the original's changes are its top lower layer.
        public var tmpfs = false
        /// -a: copy a running container (its files may be changing).
        public var allowRunning = false
        /// -m bind=SRC[:DEST][:ro|rw], overlay=SRC[:DEST]: mounts of the copy.
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
        if options.tmpfs {
            guard options.ephemeral else {
                throw SwrunError(.invalidArgument, "-t puts an ephemeral copy's changes on a tmpfs; a kept copy (-D) would lose them at each stop",
                                 hint: "drop -D, or drop -t")
            }
            if let chosen = options.backingStore, chosen != .overlay {
                throw SwrunError(.invalidArgument, "-t needs an overlay copy, not -B \(chosen.rawValue)", hint: "drop -B, or give -B overlay")
            }
        }
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
            if !options.intoExistingDirectory { try? Btrfs.removeTree(copy.directory) }
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
        let chosen = options.backingStore ?? (options.tmpfs ? .overlay : Self.defaultStore(copying: config.rootBackend, snapshot: options.snapshot))
        switch chosen {
        case .overlay:
            if let overlay = config.rootOverlay {
                // On a tmpfs, which hides the copy's own directory, the original's changes
                // are read where they are.
                if options.tmpfs { return .overlay(RootOverlay(lowers: [overlay.upper] + overlay.lowers, upper: upper)) }
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
            if let original = config.rootOverlay, FileSystem.isDirectory(original.upper), !overlay.lowers.contains(original.upper) {
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
        if options.tmpfs { config.append("lxc.hook.pre-mount", try writeTmpfsScript(options: options, copy: copy)) }
        for mount in options.mounts { config.append("lxc.mount.entry", try mount.entry(in: copy.directory)) }
        try config.write()
    }

    /// lxc-copy -t's pre-mount script, as LXC writes it (LXCPATH/NEW/pre-start-XXXXXX): a tmpfs
    /// over the copy's overlay directory, and (unless -K) its /etc/hostname there again.
    private func writeTmpfsScript(options: Options, copy: ContainerAddress) throws(SwrunError) -> String {
        let overlay = FileSystem.join(copy.directory, "overlay")
        var script = "#! /bin/sh\nmount -n -t tmpfs -o mode=0755 none \(overlay)\n"
        if !options.keepName {
            script += "mkdir -p \(overlay)/delta/etc\necho \(copy.name) > \(overlay)/delta/etc/hostname\n"
        }
        var template = Array(FileSystem.join(copy.directory, "pre-start-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { mkstemp($0) } ?? -1 }
        guard fd >= 0 else { throw SwrunError.system("cannot make the tmpfs script in \(copy.directory)", Errno.current) }
        close(fd)
        let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        try FileSystem.writeAtomically(path, script, mode: 0o755)
        report("the copy's changes go to a tmpfs: they are lost when it stops")
        return path
    }

    /// The copy's /etc/hostname names it, where the original's named the original.
    private func renameHost(rootfs: PlannedRootfs, copy: ContainerAddress) throws(SwrunError) {
        switch rootfs {
        case .loop:
            return  // its files are inside the image: it keeps the original's /etc/hostname
        case .directory, .btrfs:
            HostnameFile.rename(from: name, to: copy.name, inDirectory: FileSystem.join(copy.directory, "rootfs"))
        case .overlay(let overlay):
            try HostnameFile.rename(from: name, to: copy.name, inOverlay: overlay)
        }
    }
}

/// A rootfs's /etc/hostname that names its container, renamed with it (lxc-copy rewrites
/// it when it is the old name alone; a hostname of the user's own stays).
enum HostnameFile {
    static func rename(from old: String, to new: String, inDirectory rootfs: String) {
        RootfsFile.rewrite("/etc/hostname", in: rootfs) { text in
            text?.trimmingCharacters(in: " \n") == old ? new + "\n" : nil
        }
    }

    /// Read through the layers (the upper first), written into the upper. A whiteout in the
    /// upper means there is none.
    static func rename(from old: String, to new: String, inOverlay overlay: RootOverlay) throws(SwrunError) {
        var status = stat()
        if lstat(overlay.upper + "/etc/hostname", &status) == 0 && status.st_mode & S_IFMT == S_IFCHR { return }
        let current = ([overlay.upper] + overlay.lowers).lazy.compactMap { RootfsFile.read("/etc/hostname", in: $0) }.first
        guard current?.trimmingCharacters(in: " \n") == old else { return }
        try FileSystem.makeDirectories(FileSystem.join(overlay.upper, "etc"), mode: 0o755)
        RootfsFile.rewrite("/etc/hostname", in: overlay.upper, create: true) { _ in new + "\n" }
    }
}

/// lxc-copy's -m: bind=SRC[:DEST][:ro|rw], a host directory bound into the copy; or
/// overlay=SRC[:DEST], an overlay whose lower is the host directory and whose upper and work
/// directories are the copy's own (LXCPATH/NEW/delta#XXXXXX, work#XXXXXX, as lxc-copy makes
/// them), so that the container writes over the host's files without changing them.
public struct CopyMount: Sendable, Equatable {
    public enum Kind: String, Sendable { case bind, overlay }
    public var kind: Kind = .bind
    public var source: String
    public var destination: String
    public var readOnly: Bool

    public init(kind: Kind = .bind, source: String, destination: String, readOnly: Bool = false) {
        self.kind = kind
        self.source = source
        self.destination = destination
        self.readOnly = readOnly
    }

    /// "bind=/src:/dest:ro,overlay=/src2:/dest2"; comma-separated, as lxc-copy takes them.
    public static func parse(_ value: String) throws(SwrunError) -> [CopyMount] {
        var mounts: [CopyMount] = []
        for item in value.split(separator: ",") {
            let kind: Kind
            if item.hasPrefix("bind=") { kind = .bind } else if item.hasPrefix("overlay=") { kind = .overlay } else {
                throw SwrunError(.invalidArgument, "-m \(item) is neither bind= nor overlay=",
                                 hint: "give bind=SRC[:DEST][:ro|rw] or overlay=SRC[:DEST]")
            }
            var parts = item.dropFirst(kind.rawValue.count + 1).split(separator: ":").map(String.init)
            var readOnly = false
            if kind == .bind, let last = parts.last, last == "ro" || last == "rw" {
                readOnly = last == "ro"
                parts.removeLast()
            }
            guard (1...2).contains(parts.count), parts.allSatisfy({ $0.hasPrefix("/") && !$0.contains(" ") && !$0.contains(",") }) else {
                let form = kind == .bind ? "bind=/SRC[:/DEST][:ro|rw]" : "overlay=/SRC[:/DEST]"
                throw SwrunError(.invalidArgument, "-m \(item) is not \(form)", hint: "give absolute paths without spaces or commas")
            }
            mounts.append(CopyMount(kind: kind, source: parts[0], destination: parts.count == 2 ? parts[1] : parts[0], readOnly: readOnly))
        }
        return mounts
    }

    /// The lxc.mount.entry line: the destination relative to the rootfs, made if missing (a
    /// file for a file, a directory otherwise). An overlay's upper and work directories are
    /// made in `directory` (the copy's), named as lxc-copy names them.
    func entry(in directory: String) throws(SwrunError) -> String {
        let target = String(destination.drop { $0 == "/" })
        switch kind {
        case .bind:
            let create = FileSystem.exists(source) && !FileSystem.isDirectory(source) ? "file" : "dir"
            return "\(source) \(target) none bind,create=\(create)\(readOnly ? ",ro" : "") 0 0"
        case .overlay:
            guard FileSystem.isDirectory(source) else {
                throw SwrunError(.notFound, "-m overlay=\(source): \(source) is not a directory", hint: "an overlay's lower is a host directory")
            }
            let upper = try Self.makeUniqueDirectory(FileSystem.join(directory, "delta#"))
            let work = try Self.makeUniqueDirectory(FileSystem.join(directory, "work#"))
            return "\(source) \(target) overlay lowerdir=\(source),upperdir=\(upper),workdir=\(work),create=dir"
        }
    }

    /// mkdtemp(3) on `prefix` and six random characters.
    private static func makeUniqueDirectory(_ prefix: String) throws(SwrunError) -> String {
        var template = Array((prefix + "XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        guard made != nil else { throw SwrunError.system("cannot make a directory \(prefix)XXXXXX", Errno.current) }
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
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
