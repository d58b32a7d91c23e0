import CLinux
import Glibc
import SwrunSystem

/// Unpacks tar archives into a rootfs, keeping owners, modes (setuid included), times,
/// `user.*` extended attributes and file capabilities, hard links and FIFOs, and writing
/// nothing outside the rootfs whatever the archive holds: every path goes through
/// `RootedDirectory`, and every final step is an *at call that does not follow a symlink.
public final class RootfsUnpacker {
    /// What becomes of OCI whiteouts (`.wh.NAME`, `.wh..wh..opq`).
    public enum Whiteouts: Sendable {
        /// Members like any other (a plain rootfs tarball).
        case kept
        /// Applied against the layers unpacked below into the same directory.
        case applied
        /// Written as overlayfs marks them, for a layer unpacked into a directory of its own:
        /// a character device 0/0 for a hidden file, trusted.overlay.opaque=y on a directory.
        case overlay
    }

    public struct Options: Sendable {
        public var whiteouts = Whiteouts.kept
        /// Make the archive's character and block device nodes. Off unless a trusted
        /// template asks: a node in an image would open a host device (`c 1 11` is the
        /// host's kernel log) from a container that keeps the rights to open it; LXC's
        /// images and OCI images need none, since the container's /dev is made at start.
        public var deviceNodes = false
        /// What one archive may hold.
        public var limits = ArchiveLimits()
        public init(whiteouts: Whiteouts = .kept, deviceNodes: Bool = false, limits: ArchiveLimits = ArchiveLimits()) {
            self.whiteouts = whiteouts
            self.deviceNodes = deviceNodes
            self.limits = limits
        }
    }

    /// The extended attributes an image may set: its own (`user.*`) and file capabilities,
    /// as GNU tar keeps `user.*` by default. `trusted.*` (overlayfs's own, among others) and
    /// security labels (`security.selinux`, `security.ima`...) belong to the host.
    static func isAllowedAttribute(_ name: String) -> Bool {
        name.hasPrefix("user.") || name == "security.capability"
    }

    private let root: RootedDirectory
    private let options: Options
    private let warn: (String) -> Void
    private var warned: Set<String> = []
    private var skippedNodes = 0
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)

    public init(rootfs: String, options: Options = Options(), warn: @escaping (String) -> Void = { _ in }) throws(SwrunError) {
        root = try RootedDirectory(path: rootfs)
        self.options = options
        self.warn = warn
    }

    deinit { buffer.deallocate() }

    /// Unpacks the (possibly compressed) tar file at `archive`, opened by `opener`; returns the members unpacked.
    @discardableResult
    public func unpack(file archive: String, opener: ArchiveOpener = .inProcess) throws(SwrunError) -> Int {
        try unpack(opener.open(archive), name: archive)
    }

    /// Unpacks one archive (for OCI images: one layer, lowest first) from a stream.
    @discardableResult
    public func unpack(_ source: any ByteSource, name: String) throws(SwrunError) -> Int {
        let reader = TarReader(source, name: name, limits: options.limits)
        var layer = LayerChanges()
        var directoryTimes: [(ArchivePath, Int64)] = []
        var count = 0
        skippedNodes = 0
        while let entry = try reader.next() {
            let path = try ArchivePath(entry.path, archive: name)
            if options.whiteouts != .kept, try handleWhiteout(path, &layer, archive: name) { continue }
            try write(entry, at: path, from: reader, archive: name)
            layer.created(path)
            if entry.kind == .directory { directoryTimes.append((path, entry.modificationTime)) }
            count += 1
        }
        // Opaque directories hide the lower layers' children, whatever the order of the members.
        for directory in layer.opaqueDirectories { try removeLower(in: directory, keeping: layer) }
        // Directory times last: making their children changed them.
        for (path, time) in directoryTimes.reversed() { setTime(time, of: path) }
        if skippedNodes > 0 {
            warn("\(name): skipped \(skippedNodes) device node\(skippedNodes == 1 ? "" : "s") (an image gets none: the container's /dev is made when it starts)")
        }
        return count
    }

    // MARK: Members

    private func write(_ entry: TarEntry, at path: ArchivePath, from reader: TarReader, archive: String) throws(SwrunError) {
        if path.isRoot {
            // "./": the rootfs directory itself takes the member's owner and mode.
            if entry.kind == .directory { try setOwnerAndMode(entry, fd: root.fd, described: root.path, viaProc: true) }
            return
        }
        let parent = try root.directory(path.parent, create: true)
        let name = path.name
        let described = root.describe(path)
        switch entry.kind {
        case .directory:
            if !isDirectory(name, in: parent) {
                try remove(name, in: parent, path: path)
                if mkdirat(parent, name, 0o700) != 0 { throw SwrunError.system("cannot make the directory \(described)", Errno.current) }
            }
            let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd < 0 { throw SwrunError.system("cannot open \(described)", Errno.current) }
            defer { close(fd) }
            try setOwnerAndMode(entry, fd: fd, described: described, viaProc: false)
            setAttributes(entry, fd: fd, described: described)
        case .file:
            try remove(name, in: parent, path: path)
            let fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd < 0 { throw SwrunError.system("cannot create \(described)", Errno.current) }
            defer { close(fd) }
            try copyData(from: reader, to: fd, described: described)
            try setOwnerAndMode(entry, fd: fd, described: described, viaProc: false)
            setAttributes(entry, fd: fd, described: described)
            var times = [timespec(tv_sec: Int(entry.modificationTime), tv_nsec: 0), timespec(tv_sec: Int(entry.modificationTime), tv_nsec: 0)]
            futimens(fd, &times)
        case .symlink(let target):
            try remove(name, in: parent, path: path)
            if symlinkat(target, parent, name) != 0 { throw SwrunError.system("cannot make the symlink \(described)", Errno.current) }
            try setOwner(entry, parent: parent, name: name, described: described)
        case .hardlink(let target):
            let targetPath = try ArchivePath(target, archive: archive)
            // The target's directory is opened inside the root too: a link to /etc/passwd
            // names the rootfs's own /etc/passwd, never the host's.
            let targetDirectory = try? root.directory(targetPath.parent, create: false)
            let sourceFd = targetDirectory.map { openat($0, targetPath.name, SWRUN_O_PATH | O_NOFOLLOW | O_CLOEXEC) } ?? -1
            if sourceFd < 0 {
                throw SwrunError.system("\(archive): member \(path) is a hard link to \(target), which cannot be opened in the rootfs", Errno.current,
                                        hint: "the archive is broken: a hard link must follow the file it links to")
            }
            defer { close(sourceFd) }
            let directory = try root.directory(path.parent, create: true)
            if !sameFile(sourceFd, name, in: directory) {
                try remove(name, in: directory, path: path)
                if linkat(sourceFd, "", directory, name, SWRUN_AT_EMPTY_PATH) != 0 {
                    throw SwrunError.system("cannot make the hard link \(described) to \(target)", Errno.current)
                }
            }
        case .characterDevice(let major, let minor), .blockDevice(let major, let minor):
            guard options.deviceNodes else { skippedNodes += 1; return }
            let type = entry.kind == .characterDevice(major: major, minor: minor) ? Glibc.S_IFCHR : Glibc.S_IFBLK
            try makeNode(entry, type: type, device: swrun_makedev(major, minor), parent: parent, name: name, described: described)
        case .fifo:
            try makeNode(entry, type: Glibc.S_IFIFO, device: 0, parent: parent, name: name, described: described)
        }
    }

    private func makeNode(_ entry: TarEntry, type: mode_t, device: dev_t, parent: Int32, name: String, described: String) throws(SwrunError) {
        try remove(name, in: parent, path: nil)
        if mknodat(parent, name, type | 0o600, device) != 0 { throw SwrunError.system("cannot make the node \(described)", Errno.current) }
        try setOwner(entry, parent: parent, name: name, described: described)
        // A node cannot be a symlink, so following it here is safe.
        if fchmodat(parent, name, mode_t(entry.mode), 0) != 0 { throw SwrunError.system("cannot set the mode of \(described)", Errno.current) }
    }

    private func copyData(from reader: TarReader, to fd: Int32, described: String) throws(SwrunError) {
        while true {
            let count = try reader.readData(into: buffer)
            if count == 0 { return }
            var written = 0
            while written < count {
                let result = Glibc.write(fd, buffer.baseAddress! + written, count - written)
                if result < 0 {
                    if Errno.current == .interrupted { continue }
                    throw SwrunError.system("cannot write \(described)", Errno.current)
                }
                written += result
            }
        }
    }

    // MARK: Metadata

    /// Owner first, then mode: chown clears setuid and setgid bits.
    private func setOwnerAndMode(_ entry: TarEntry, fd: Int32, described: String, viaProc: Bool) throws(SwrunError) {
        if viaProc {
            // The root is held as an SWRUN_O_PATH fd, which fchown and fchmod refuse.
            if fchownat(fd, "", entry.uid, entry.gid, SWRUN_AT_EMPTY_PATH) != 0 { throw SwrunError.system("cannot set the owner of \(described)", Errno.current) }
            if chmod(described, mode_t(entry.mode)) != 0 { throw SwrunError.system("cannot set the mode of \(described)", Errno.current) }
            return
        }
        if fchown(fd, entry.uid, entry.gid) != 0 { throw SwrunError.system("cannot set the owner of \(described)", Errno.current) }
        if fchmod(fd, mode_t(entry.mode)) != 0 { throw SwrunError.system("cannot set the mode of \(described)", Errno.current) }
    }

    private func setOwner(_ entry: TarEntry, parent: Int32, name: String, described: String) throws(SwrunError) {
        if fchownat(parent, name, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) != 0 {
            throw SwrunError.system("cannot set the owner of \(described)", Errno.current)
        }
    }

    /// Extended attributes are kept where the filesystem takes them; one it refuses, or one
    /// an image may not set, is a warning (once per attribute name), not a failed unpack.
    private func setAttributes(_ entry: TarEntry, fd: Int32, described: String) {
        for (name, value) in entry.extendedAttributes.sorted(by: { $0.key < $1.key }) {
            guard Self.isAllowedAttribute(name) else {
                if warned.insert(name).inserted {
                    warn("not applying the extended attribute \(name) of \(described) and other members: images may set only user.* and security.capability")
                }
                continue
            }
            let result = value.withUnsafeBytes { fsetxattr(fd, name, $0.baseAddress, $0.count, 0) }
            if result != 0 && warned.insert(name).inserted {
                warn("cannot keep the extended attribute \(name) on \(described) (\(Errno.current)); files keep their other attributes")
            }
        }
    }

    private func setTime(_ time: Int64, of path: ArchivePath) {
        guard let fd = try? root.directory(path, create: false) else { return }
        var times = [timespec(tv_sec: Int(time), tv_nsec: 0), timespec(tv_sec: Int(time), tv_nsec: 0)]
        utimensat(fd, "", &times, SWRUN_AT_EMPTY_PATH)
    }

    // MARK: Replacing and whiteouts

    private func isDirectory(_ name: String, in parent: Int32) -> Bool {
        var st = stat()
        return fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_mode & S_IFMT == S_IFDIR
    }

    private func sameFile(_ source: Int32, _ name: String, in parent: Int32) -> Bool {
        var a = stat(), b = stat()
        return fstat(source, &a) == 0 && fstatat(parent, name, &b, AT_SYMLINK_NOFOLLOW) == 0
            && a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }

    /// Makes room for a new member: what is there goes, a directory with all it holds.
    private func remove(_ name: String, in parent: Int32, path: ArchivePath?) throws(SwrunError) {
        var st = stat()
        guard fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        if st.st_mode & S_IFMT == S_IFDIR { root.forget() }
        try FileSystem.removeEntry(name, in: parent, path: path.map { root.describe($0.parent) } ?? root.path)
    }

    /// True when `path` is a whiteout, which is applied (or marked for overlayfs) and never
    /// itself written.
    private func handleWhiteout(_ path: ArchivePath, _ layer: inout LayerChanges, archive: String) throws(SwrunError) -> Bool {
        guard path.name.hasPrefix(".wh.") else { return false }
        if path.name == ".wh..wh..opq" {
            if options.whiteouts == .overlay { try markOpaque(path.parent) } else { layer.opaqueDirectories.append(path.parent) }
            return true
        }
        let hiddenName = String(path.name.dropFirst(".wh.".count))
        // ".wh.." would hide the directory it is in, ".wh..." the one above (from the rootfs: the host's).
        if hiddenName.isEmpty || hiddenName == "." || hiddenName == ".." {
            throw SwrunError(.verificationFailed, "\(archive): the whiteout \"\(path)\" names no file of its directory; refusing the layer",
                             hint: "the layer is broken or hostile; nothing outside the rootfs was touched")
        }
        let hidden = path.parent.appending(hiddenName)
        // A whiteout hides only the lower layers: what this layer made stays.
        guard !layer.made.contains(hidden) else { return true }
        if options.whiteouts == .overlay {
            try markHidden(hidden)
            return true
        }
        root.forget()
        guard let parent = try? root.directory(hidden.parent, create: false) else { return true }
        try FileSystem.removeEntry(hidden.name, in: parent, path: root.describe(hidden.parent))
        root.forget()
        return true
    }

    /// overlayfs's whiteout: a character device 0/0 where the hidden file would be.
    private func markHidden(_ path: ArchivePath) throws(SwrunError) {
        let parent = try root.directory(path.parent, create: true)
        if mknodat(parent, path.name, S_IFCHR | 0o600, 0) != 0 && errno != EEXIST {
            throw SwrunError.system("cannot make the overlayfs whiteout \(root.describe(path))", Errno.current,
                                    hint: "unpacking layers for overlayfs needs root (CAP_MKNOD)")
        }
    }

    /// overlayfs's opaque directory: the lower layers' children of `directory` are hidden.
    private func markOpaque(_ directory: ArchivePath) throws(SwrunError) {
        let fd = try root.directory(directory, create: true)
        let holder = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if holder < 0 { throw SwrunError.system("cannot open \(root.describe(directory))", Errno.current) }
        defer { close(holder) }
        if fsetxattr(holder, "trusted.overlay.opaque", "y", 1, 0) != 0 {
            throw SwrunError.system("cannot mark \(root.describe(directory)) opaque for overlayfs", Errno.current,
                                    hint: "the layer store's filesystem must keep trusted.* attributes (ext4, xfs, btrfs and tmpfs do)")
        }
    }

    /// Removes everything below `directory` that this layer did not make.
    private func removeLower(in directory: ArchivePath, keeping layer: LayerChanges) throws(SwrunError) {
        root.forget()
        guard let fd = try? root.directory(directory, create: false) else { return }
        // A readable fd of its own: the cached one is O_PATH (readdir fails on it) and changes on the next lookup.
        let holder = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if holder < 0 { throw SwrunError.system("cannot open \(root.describe(directory))", Errno.current) }
        defer { close(holder) }
        let listing = try FileSystem.entries(of: holder, path: root.describe(directory))
        for (name, _) in listing {
            let child = directory.appending(name)
            if layer.made.contains(child) || layer.madeBelow.contains(child) {
                if layer.madeBelow.contains(child) && isDirectory(name, in: holder) { try removeLower(in: child, keeping: layer) }
                continue
            }
            try FileSystem.removeEntry(name, in: holder, path: root.describe(directory))
        }
        root.forget()
    }
}

/// What one layer made, for whiteouts that must spare it.
private struct LayerChanges {
    var made: Set<ArchivePath> = []
    /// Directories above something this layer made: an opaque marker keeps them, emptied of lower children.
    var madeBelow: Set<ArchivePath> = []
    var opaqueDirectories: [ArchivePath] = []

    mutating func created(_ path: ArchivePath) {
        made.insert(path)
        for ancestor in path.parent.withAncestors where !path.parent.isRoot { madeBelow.insert(ancestor) }
    }
}
