import CLinux
import Glibc

/// The system calls a container's init makes to build the container, as one seam: the real
/// ones (LinuxCalls) in the child of clone3, a recording double in tests, which then check the
/// exact calls a plan leads to without root. Each call returns 0 or an errno (a fd, or minus
/// an errno, where it makes one), never allocates, and never touches Swift errors.
protocol ContainerCalls {
    func setns(_ fd: Int32, _ type: Int32) -> Int32
    func unshare(_ flags: Int32) -> Int32
    /// setgroups(0, NULL), then setresgid and setresuid to `id`.
    func becomeUser(_ id: UInt32) -> Int32
    func mount(_ source: UnsafePointer<CChar>?, _ target: UnsafePointer<CChar>?, _ type: UnsafePointer<CChar>?,
               _ flags: UInt, _ data: UnsafePointer<CChar>?) -> Int32
    /// mount_setattr(fd, "", AT_EMPTY_PATH|AT_RECURSIVE): MOUNT_ATTR_* bits raised and cleared on
    /// the mount at `fd` and every mount below it.
    func setMountAttributes(_ fd: Int32, set: UInt64, clear: UInt64) -> Int32
    /// move_mount(2) of the detached mount at `fd` onto the path open at `target`.
    func moveMount(_ fd: Int32, onto target: Int32) -> Int32
    /// open(2) of a host path: a fd, or minus an errno.
    func open(_ path: UnsafePointer<CChar>, _ flags: Int32) -> Int32
    /// openat2(root, path, RESOLVE_IN_ROOT): a fd, or minus an errno.
    func openInRoot(_ root: Int32, _ path: UnsafePointer<CChar>, _ flags: Int32) -> Int32
    func close(_ fd: Int32)
    /// 0 and whether `fd` is a directory, or an errno.
    func isDirectory(_ fd: Int32) -> (error: Int32, directory: Bool)
    func mkdirat(_ directory: Int32, _ name: UnsafePointer<CChar>, _ mode: mode_t) -> Int32
    func mknodat(_ directory: Int32, _ name: UnsafePointer<CChar>, _ mode: mode_t, _ device: dev_t) -> Int32
    func fchownat(_ directory: Int32, _ name: UnsafePointer<CChar>, _ uid: uid_t, _ gid: gid_t) -> Int32
    func symlinkat(_ target: UnsafePointer<CChar>, _ directory: Int32, _ name: UnsafePointer<CChar>) -> Int32
    func unlinkat(_ directory: Int32, _ name: UnsafePointer<CChar>) -> Int32
    /// write(2) of all of `bytes`.
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32
    func chroot(_ path: UnsafePointer<CChar>) -> Int32
    func chdir(_ path: UnsafePointer<CChar>) -> Int32
    func fchdir(_ fd: Int32) -> Int32
    /// pivot_root(".", "."), then umount2(".", MNT_DETACH): the old root stacked and detached.
    func pivotRootHere() -> Int32
    func sethostname(_ name: UnsafePointer<CChar>, _ length: Int) -> Int32
    func setdomainname(_ name: UnsafePointer<CChar>, _ length: Int) -> Int32
    /// The pty peer of a master (TIOCGPTPEER): a fd, or minus an errno.
    func openPtyPeer(_ master: Int32) -> Int32
    func loadSeccomp(_ program: UnsafeRawBufferPointer, _ count: UInt16) -> Int32
    /// fork, execve(path, argv, environment) with `input` on stdin, wait (killed after `timeout`
    /// seconds, 0 for none): 0 when it exits 0.
    func runHook(_ path: UnsafeMutablePointer<CChar>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                 _ environment: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, input: UnsafeRawBufferPointer?, timeout: Int32) -> Int32
    /// Whether / is the kernel's initial rootfs, from which pivot_root refuses to move.
    func rootIsInitramfs() -> Bool
}

/// The real calls, made by init in the child of clone3.
struct LinuxCalls: ContainerCalls {
    private func result(_ value: Int32) -> Int32 { value == 0 ? 0 : errno }
    private func descriptor(_ value: Int32) -> Int32 { value >= 0 ? value : -errno }

    func setns(_ fd: Int32, _ type: Int32) -> Int32 { result(swrun_setns(fd, type)) }
    func unshare(_ flags: Int32) -> Int32 { result(swrun_unshare(flags)) }
    func becomeUser(_ id: UInt32) -> Int32 {
        if setgroups(0, nil) != 0 || swrun_setresgid(id) != 0 || swrun_setresuid(id) != 0 { return errno }
        return 0
    }
    func mount(_ source: UnsafePointer<CChar>?, _ target: UnsafePointer<CChar>?, _ type: UnsafePointer<CChar>?,
               _ flags: UInt, _ data: UnsafePointer<CChar>?) -> Int32 {
        result(Glibc.mount(source, target, type, flags, data))
    }
    func setMountAttributes(_ fd: Int32, set: UInt64, clear: UInt64) -> Int32 { result(swrun_mount_setattr_recursive(fd, set, clear)) }
    func moveMount(_ fd: Int32, onto target: Int32) -> Int32 { result(swrun_move_mount_onto(fd, target)) }
    func open(_ path: UnsafePointer<CChar>, _ flags: Int32) -> Int32 { descriptor(Glibc.open(path, flags | O_CLOEXEC)) }
    func openInRoot(_ root: Int32, _ path: UnsafePointer<CChar>, _ flags: Int32) -> Int32 {
        guard root >= 0 else { return -EBADF }
        return descriptor(swrun_openat2(root, path, UInt64(flags | O_CLOEXEC), 0, SWRUN_RESOLVE_IN_ROOT))
    }
    func close(_ fd: Int32) { _ = Glibc.close(fd) }
    func isDirectory(_ fd: Int32) -> (error: Int32, directory: Bool) {
        var status = stat()
        guard fstat(fd, &status) == 0 else { return (errno, false) }
        return (0, status.st_mode & S_IFMT == S_IFDIR)
    }
    func mkdirat(_ directory: Int32, _ name: UnsafePointer<CChar>, _ mode: mode_t) -> Int32 { result(Glibc.mkdirat(directory, name, mode)) }
    func mknodat(_ directory: Int32, _ name: UnsafePointer<CChar>, _ mode: mode_t, _ device: dev_t) -> Int32 {
        result(Glibc.mknodat(directory, name, mode, device))
    }
    func fchownat(_ directory: Int32, _ name: UnsafePointer<CChar>, _ uid: uid_t, _ gid: gid_t) -> Int32 {
        result(Glibc.fchownat(directory, name, uid, gid, AT_SYMLINK_NOFOLLOW))
    }
    func symlinkat(_ target: UnsafePointer<CChar>, _ directory: Int32, _ name: UnsafePointer<CChar>) -> Int32 {
        result(Glibc.symlinkat(target, directory, name))
    }
    func unlinkat(_ directory: Int32, _ name: UnsafePointer<CChar>) -> Int32 { result(Glibc.unlinkat(directory, name, 0)) }
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        let count = Glibc.write(fd, bytes.baseAddress, bytes.count)
        return count == bytes.count ? 0 : (count < 0 ? errno : EIO)
    }
    func chroot(_ path: UnsafePointer<CChar>) -> Int32 { result(Glibc.chroot(path)) }
    func chdir(_ path: UnsafePointer<CChar>) -> Int32 { result(Glibc.chdir(path)) }
    func fchdir(_ fd: Int32) -> Int32 { result(Glibc.fchdir(fd)) }
    func pivotRootHere() -> Int32 {
        if swrun_pivot_root(".", ".") != 0 { return errno }
        return result(umount2(".", SWRUN_MNT_DETACH))
    }
    func sethostname(_ name: UnsafePointer<CChar>, _ length: Int) -> Int32 { result(Glibc.sethostname(name, length)) }
    func setdomainname(_ name: UnsafePointer<CChar>, _ length: Int) -> Int32 { result(Glibc.setdomainname(name, length)) }
    func openPtyPeer(_ master: Int32) -> Int32 { descriptor(swrun_open_pty_peer(master)) }
    func loadSeccomp(_ program: UnsafeRawBufferPointer, _ count: UInt16) -> Int32 {
        result(swrun_load_seccomp_filter(program.baseAddress, count))
    }
    func runHook(_ path: UnsafeMutablePointer<CChar>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                 _ environment: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, input: UnsafeRawBufferPointer?, timeout: Int32) -> Int32 {
        ContainerChild.runHook(path: path, argv: argv, environment: environment, input: input, timeout: timeout)
    }
    func rootIsInitramfs() -> Bool {
        let type = swrun_filesystem_type("/")
        return type == 0x8584_58f6 /* RAMFS_MAGIC */ || type == 0x0102_1994 /* TMPFS_MAGIC */
    }
}
