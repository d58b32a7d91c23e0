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
        let root = open(rootfs, SWRUN_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { return false }
        defer { close(root) }
        let flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT : 0)
        // openat2 refuses a mode without O_CREAT (EINVAL), unlike openat.
        let fd = swrun_openat2(root, path, UInt64(flags), create ? 0o644 : 0, SWRUN_RESOLVE_IN_ROOT | SWRUN_RESOLVE_NO_MAGICLINKS)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return false }
        let old = st.st_size == 0 ? nil : (try? FileSystem.readAll(fd)).map { String(decoding: $0, as: UTF8.self) }
        guard let new = transform(old), new != old else { return false }
        let bytes = Array(new.utf8)
        guard ftruncate(fd, 0) == 0, bytes.withUnsafeBytes({ pwrite(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else { return false }
        if st.st_size == 0 { fchown(fd, owner.uid, owner.gid) }
        return true
    }
}
