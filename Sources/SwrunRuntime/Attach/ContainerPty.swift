import CLinux
import Glibc
import SwrunSystem

/// A pty from the devpts of a running container, opened from the host through its init's
/// root (/proc/PID/root), resolved inside it (openat2 RESOLVE_IN_ROOT): the container's
/// /dev/pts may be anything its root made of it, so the node is looked at through an O_PATH
/// fd first and opened only when it is a devpts ptmx.
enum ContainerPty {
    static let devptsMagic = 0x1CD1
    static let ptmx = (major: UInt32(5), minor: UInt32(2))

    /// (master, peer), both close-on-exec; the peer is not a controlling terminal yet.
    static func open(root: String, container: String) throws(SwrunError) -> (master: Int32, peer: Int32) {
        let hint = "run without a terminal: swrun attach -T"
        let rootFD = Glibc.open(root, SWRUN_O_PATH | O_DIRECTORY | O_CLOEXEC)
        if rootFD < 0 { throw SwrunError.system("cannot open the root of container '\(container)' (\(root))", Errno.current) }
        defer { close(rootFD) }
        let handle = swrun_openat2(rootFD, "dev/pts/ptmx", UInt64(SWRUN_O_PATH | O_NOFOLLOW | O_CLOEXEC), 0,
                                   SWRUN_RESOLVE_IN_ROOT | SWRUN_RESOLVE_NO_MAGICLINKS)
        if handle < 0 { throw SwrunError.system("container '\(container)' has no /dev/pts/ptmx", Errno.current, hint: hint) }
        defer { close(handle) }
        var st = stat()
        guard fstat(handle, &st) == 0, st.st_mode & S_IFMT == S_IFCHR, st.st_rdev == swrun_makedev(ptmx.major, ptmx.minor),
              swrun_filesystem_type("/proc/self/fd/\(handle)") == devptsMagic else {
            throw SwrunError(.containerSetup, "/dev/pts/ptmx of container '\(container)' is not the ptmx of a devpts", hint: hint)
        }
        let master = Glibc.open("/proc/self/fd/\(handle)", O_RDWR | O_NOCTTY | O_CLOEXEC)
        if master < 0 { throw SwrunError.system("cannot open /dev/pts/ptmx of container '\(container)'", Errno.current, hint: hint) }
        let peer = swrun_open_pty_peer(master)
        if peer < 0 {
            let errno = Errno.current
            close(master)
            throw SwrunError.system("cannot open a pty in container '\(container)'", errno, hint: hint)
        }
        return (master, peer)
    }
}
