import CLinux
import Glibc

/// A text file of a container's rootfs, rewritten from the host. The rootfs is the image's,
/// so the path is resolved inside it by the kernel (openat2 RESOLVE_IN_ROOT: its links and
/// `..` stop at the rootfs), and a final symlink is never followed.
public enum RootfsFile {
    /// Rewrites `path` (relative to `rootfs`): `transform` gets the old text (nil when the file
    /// is absent or empty) and returns the new one, or nil to leave the file alone. `create`
    /// makes a missing file, owned by `owner`. False when nothing was written.
    @discardableResult
    public static func rewrite(_ path: String, in rootfs: String, create: Bool = false, owner: (uid: uid_t, gid: gid_t) = (0, 0),
                               _ transform: (String?) -> String?) -> Bool {
        guard let (fd, st) = open(path, in: rootfs, flags: O_RDWR | (create ? O_CREAT : 0)) else { return false }
        defer { close(fd) }
        let old = st.st_size == 0 ? nil : (try? FileSystem.readAll(fd)).map { String(decoding: $0, as: UTF8.self) }
        guard let new = transform(old), new != old else { return false }
        let bytes = Array(new.utf8)
        guard ftruncate(fd, 0) == 0, bytes.withUnsafeBytes({ pwrite(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else { return false }
        if st.st_size == 0 { fchown(fd, owner.uid, owner.gid) }
        return true
    }

    /// The text of `path` (relative to `rootfs`), or nil when it is absent or not a regular file.
    public static func read(_ path: String, in rootfs: String) -> String? {
        guard let (fd, _) = open(path, in: rootfs, flags: O_RDONLY) else { return nil }
        defer { close(fd) }
        return (try? FileSystem.readAll(fd)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// `path` opened inside `rootfs` with `flags` (plus O_NOFOLLOW and O_CLOEXEC), when it is a
    /// regular file.
    private static func open(_ path: String, in rootfs: String, flags: Int32) -> (Int32, stat)? {
        let root = Glibc.open(rootfs, SWRUN_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { return nil }
        defer { close(root) }
        // openat2 refuses a mode without O_CREAT (EINVAL), unlike openat.
        let mode: UInt64 = flags & O_CREAT != 0 ? 0o644 : 0
        let fd = swrun_openat2(root, path, UInt64(flags | O_NOFOLLOW | O_CLOEXEC), mode, SWRUN_RESOLVE_IN_ROOT | SWRUN_RESOLVE_NO_MAGICLINKS)
        guard fd >= 0 else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            return nil
        }
        return (fd, st)
    }
}
