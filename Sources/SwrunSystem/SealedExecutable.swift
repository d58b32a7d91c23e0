import CLinux
import Glibc

/// Keeps the swrun binary out of a container's reach. swrun runs inside containers (the
/// init of `swrun execute` is swrun, and a payload `#!/proc/self/exe` makes the kernel run
/// swrun in the container while it execs, as in CVE-2019-5736), so the container can open
/// /proc/PID/exe. Were that the host's file, root inside could rewrite the binary that the
/// host runs next. So the commands that enter containers first re-exec swrun from a view of
/// itself that cannot be written: a detached read-only bind mount of the binary (no copy,
/// and in no mount namespace, so nothing can make it writable again), or, where the kernel
/// has no open_tree (before 5.12's mount_setattr), a sealed in-memory copy.
public enum SealedExecutable {
    public enum Protection: Equatable, Sendable {
        /// The binary's file lies on a read-only mount (ours, or the filesystem's own).
        case readOnlyMount
        /// The binary is a memfd sealed against writes.
        case sealedCopy
    }

    static let selfPath = "/proc/self/exe"

    /// How the running executable is protected, or nil when it is writable.
    public static func currentProtection() -> Protection? {
        let fd = open(selfPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return protection(of: fd)
    }

    static func protection(of fd: Int32) -> Protection? {
        if swrun_is_write_sealed(fd) == 1 { return .sealedCopy }
        var info = statvfs()
        if fstatvfs(fd, &info) == 0 && info.f_flag & UInt(ST_RDONLY) != 0 { return .readOnlyMount }
        return nil
    }

    /// Re-execs this process (same arguments and environment) from a protected view of its
    /// binary, unless it runs from one already. Returns only then; throws when neither
    /// protection can be made.
    public static func reexecIfNeeded() throws(SwrunError) {
        guard let fd = try protectedView() else { return }
        defer { close(fd) }
        fflush(nil)
        _ = swrun_execveat_fd(fd, CommandLine.unsafeArgv, environ)
        throw SwrunError.system("cannot re-exec swrun from its protected copy", Errno.current)
    }

    /// A protected view of this binary (close-on-exec), for exec'ing swrun where it will enter
    /// containers: nil when the running binary is protected already (then /proc/self/exe is
    /// one). A process that only spawns such a process (`start -d` its monitor) execs the view
    /// rather than re-exec'ing itself first.
    public static func protectedView() throws(SwrunError) -> Int32? {
        if currentProtection() != nil { return nil }
        let fd: Int32
        if let mounted = readOnlyMount() { fd = mounted } else { fd = try sealedCopy() }
        // Checked before any exec, so that the exec'd process finds it and cannot loop.
        guard protection(of: fd) != nil else {
            close(fd)
            throw SwrunError(.system, "the protected copy of swrun's binary is still writable", hint: unprotectedHint)
        }
        return fd
    }

    /// open_tree(OPEN_TREE_CLONE) of the binary, made read-only: nil where the kernel or our
    /// privileges allow no detached mounts.
    private static func readOnlyMount() -> Int32? {
        let fd = swrun_open_tree_clone(selfPath)
        guard fd >= 0 else { return nil }
        guard swrun_mount_set_readonly(fd) == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// The binary copied into a memfd and sealed: costs a copy of the binary at each start.
    private static func sealedCopy() throws(SwrunError) -> Int32 {
        let source = open(selfPath, O_RDONLY | O_CLOEXEC)
        guard source >= 0 else { throw SwrunError.system("cannot open swrun's own executable (\(selfPath))", Errno.current) }
        defer { close(source) }
        let copy = swrun_memfd_create_sealable("swrun")
        guard copy >= 0 else {
            throw SwrunError(.system, "cannot protect swrun's binary from the container: no detached mounts and no memfd",
                             errno: Errno.current, hint: unprotectedHint)
        }
        while true {
            let sent = sendfile(copy, source, nil, 1 << 30)
            if sent == 0 { break }
            if sent < 0 && errno != EINTR {
                let error = Errno.current
                close(copy)
                throw SwrunError.system("cannot copy swrun's binary into a sealed memfd", error)
            }
        }
        guard swrun_memfd_seal_all(copy) == 0 else {
            let error = Errno.current
            close(copy)
            throw SwrunError.system("cannot seal the in-memory copy of swrun's binary", error)
        }
        return copy
    }

    static let unprotectedHint = "swrun needs CAP_SYS_ADMIN (for a read-only bind mount of itself) or memfd_create; "
        + "or install swrun on a read-only filesystem"
}
