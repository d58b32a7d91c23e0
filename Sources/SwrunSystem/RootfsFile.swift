import CLinux
import Glibc

/// A text file of a container's rootfs, read or rewritten from the host: the one way the
/// host touches a container's files. The rootfs is the image's (or the running container's),
/// so the path is resolved inside it by the kernel (openat2 RESOLVE_IN_ROOT: its links and
/// `..` stop at the rootfs), a final symlink is never followed, only a regular file is opened
/// (a FIFO would block, a device node could act on open), and none larger than `sizeLimit`.
public enum RootfsFile {
    /// Larger than any passwd, group, hosts or template file swrun reads.
    public static let sizeLimit = 4 << 20

    /// Rewrites `path` (relative to `rootfs`): `transform` gets the old text (nil when the file
    /// is absent or empty) and returns the new one, or nil to leave the file alone. `create`
    /// makes a missing file, owned by `owner`. False when nothing was written.
    @discardableResult
    public static func rewrite(_ path: String, in rootfs: String, create: Bool = false, owner: (uid: uid_t, gid: gid_t) = (0, 0),
                               _ transform: (String?) -> String?) -> Bool {
        guard let (fd, st) = open(path, in: rootfs, writable: true, create: create) else { return false }
        defer { close(fd) }
        let old = st.st_size == 0 ? nil : read(fd).map { String(decoding: $0, as: UTF8.self) }
        if st.st_size != 0 && old == nil { return false }
        guard let new = transform(old), new != old else { return false }
        let bytes = Array(new.utf8)
        guard ftruncate(fd, 0) == 0, bytes.withUnsafeBytes({ pwrite(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else { return false }
        if st.st_size == 0 { fchown(fd, owner.uid, owner.gid) }
        return true
    }

    /// The text of `path` (relative to `rootfs`, which may be a running container's
    /// /proc/PID/root), or nil when it is absent, not a regular file, or too large.
    public static func read(_ path: String, in rootfs: String) -> String? {
        guard let (fd, _) = open(path, in: rootfs, writable: false, create: false) else { return nil }
        defer { close(fd) }
        return read(fd).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The whole of `fd`, read from its start; nil when it holds more than `sizeLimit` bytes
    /// (a file can grow after its size was checked), or on an error.
    private static func read(_ fd: Int32) -> [UInt8]? {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while result.count <= sizeLimit {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 { return nil }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
        return nil
    }

    /// `path` opened inside `rootfs` when it is a regular file of at most `sizeLimit` bytes. It
    /// is looked at first through an O_PATH fd, which opens nothing, and only then reopened
    /// for reading (or writing); a missing file may be made, exclusively.
    private static func open(_ path: String, in rootfs: String, writable: Bool, create: Bool) -> (Int32, stat)? {
        let root = Glibc.open(rootfs, SWRUN_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { return nil }
        defer { close(root) }
        let resolve = SWRUN_RESOLVE_IN_ROOT | SWRUN_RESOLVE_NO_MAGICLINKS
        let handle = swrun_openat2(root, path, UInt64(SWRUN_O_PATH | O_NOFOLLOW | O_CLOEXEC), 0, resolve)
        if handle < 0 {
            guard errno == ENOENT, create, writable else { return nil }
            // openat2 refuses a mode without O_CREAT (EINVAL), unlike openat.
            let made = swrun_openat2(root, path, UInt64(O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC), 0o644, resolve)
            return made < 0 ? nil : regularFile(made)
        }
        defer { close(handle) }
        guard let (_, st) = regularFile(handle, keep: true) else { return nil }
        let fd = Glibc.open("/proc/self/fd/\(handle)", (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC)
        guard fd >= 0, let (_, reopened) = regularFile(fd) else { return nil }
        guard reopened.st_ino == st.st_ino && reopened.st_dev == st.st_dev else {
            close(fd)
            return nil
        }
        return (fd, reopened)
    }

    /// `fd` with its status when it is a regular file within the size limit; otherwise it is
    /// closed (unless `keep`) and nil returned.
    private static func regularFile(_ fd: Int32, keep: Bool = false) -> (Int32, stat)? {
        var st = stat()
        if fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_size <= sizeLimit { return (fd, st) }
        if !keep { close(fd) }
        return nil
    }
}
