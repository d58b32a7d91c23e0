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
    /// The filter loaded with SECCOMP_FILTER_FLAG_NEW_LISTENER: its notify fd, or minus an errno.
    func loadSeccompWithListener(_ program: UnsafeRawBufferPointer, _ count: UInt16) -> Int32
    /// One sync message with `fd` as SCM_RIGHTS: 0, or an errno.
    func sendSync(_ message: SyncMessage, on socket: Int32, passing fd: Int32) -> Int32
    /// fork, execve(path, argv, environment) with `input` on stdin, wait (killed after `timeout`
    /// seconds, 0 for none): 0 when it exits 0.
    func runHook(_ path: UnsafeMutablePointer<CChar>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                 _ environment: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, input: UnsafeRawBufferPointer?, timeout: Int32) -> Int32
    /// Whether / is the kernel's initial rootfs, from which pivot_root refuses to move.
    func rootIsInitramfs() -> Bool

    // The payload's calls: the process that becomes the command, between fork and execve.

    /// dup2 each fd given (-1: none) onto 0, 1, 2.
    func replaceStandardFDs(_ fds: UnsafeBufferPointer<Int32>) -> Int32
    /// Every signal unblocked and at its default, umask 022.
    func resetInheritedState() -> Int32
    func prctl(_ option: Int32, _ argument: UInt, _ argument3: UInt) -> Int32
    /// clone(CLONE_PARENT): the child's pid to the caller, 0 to the child, or minus an errno.
    func forkSibling() -> Int32
    /// Reports `pid` as running on `channel`, then _exit(0): the attach fork that handed on.
    func handOn(_ pid: Int32, on channel: Int32)
    func setsid() -> Int32
    /// ioctl(fd, TIOCSCTTY, 0): the terminal becomes the session's controlling terminal.
    func setControllingTerminal(_ fd: Int32) -> Int32
    func dup2(_ fd: Int32, _ target: Int32) -> Int32
    func setgroups(_ groups: UnsafeBufferPointer<gid_t>) -> Int32
    func capset(effective: UInt64, permitted: UInt64, inheritable: UInt64) -> Int32
    func setIOPriority(_ value: Int32) -> Int32
    func setScheduler(_ settings: SchedulerSettings) -> Int32
    func setCPUAffinity(_ mask: UnsafeRawBufferPointer) -> Int32
    func setrlimit(_ resource: Int32, soft: UInt64, hard: UInt64) -> Int32
    func umask(_ mode: mode_t)
    func setresgid(_ gid: gid_t) -> Int32
    func setresuid(_ uid: uid_t) -> Int32
    /// close_range(first, ~0, CLOSE_RANGE_CLOEXEC).
    func closeOnExec(from first: UInt32) -> Int32
    func personality(_ persona: UInt) -> Int32
    /// execve(2): returns only on failure, with the errno.
    func execve(_ path: UnsafeMutablePointer<CChar>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                _ envp: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32
}

/// The real calls, made by init in the child of clone3.
struct LinuxCalls: ContainerCalls {
    private func result(_ value: Int32) -> Int32 { value == 0 ? 0 : errno }
    private func descriptor(_ value: Int32) -> Int32 { value >= 0 ? value : -errno }

    func setns(_ fd: Int32, _ type: Int32) -> Int32 { result(swrun_setns(fd, type)) }
    func unshare(_ flags: Int32) -> Int32 { result(swrun_unshare(flags)) }
    func becomeUser(_ id: UInt32) -> Int32 {
        if Glibc.setgroups(0, nil) != 0 || swrun_setresgid(id) != 0 || swrun_setresuid(id) != 0 { return errno }
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

    func loadSeccompWithListener(_ program: UnsafeRawBufferPointer, _ count: UInt16) -> Int32 {
        descriptor(swrun_load_seccomp_listener(program.baseAddress, count))
    }
    func sendSync(_ message: SyncMessage, on socket: Int32, passing fd: Int32) -> Int32 { message.send(on: socket, passing: fd) ? 0 : EPIPE }
    func replaceStandardFDs(_ fds: UnsafeBufferPointer<Int32>) -> Int32 { ContainerChild.replaceStandardFDs(fds) }
    func resetInheritedState() -> Int32 { ContainerChild.resetInheritedState() }
    func prctl(_ option: Int32, _ argument: UInt, _ argument3: UInt) -> Int32 { result(swrun_prctl(option, argument, argument3, 0, 0)) }
    func forkSibling() -> Int32 { descriptor(swrun_raw_fork_sibling()) }
    func handOn(_ pid: Int32, on channel: Int32) {
        SyncMessage(.running, pid).send(on: channel)
        _exit(0)
    }
    func setsid() -> Int32 { Glibc.setsid() < 0 ? errno : 0 }
    func setControllingTerminal(_ fd: Int32) -> Int32 { result(swrun_ioctl_int(fd, swrun_TIOCSCTTY, 0)) }
    func dup2(_ fd: Int32, _ target: Int32) -> Int32 { Glibc.dup2(fd, target) < 0 ? errno : 0 }
    func setgroups(_ groups: UnsafeBufferPointer<gid_t>) -> Int32 { result(Glibc.setgroups(groups.count, groups.baseAddress)) }
    func capset(effective: UInt64, permitted: UInt64, inheritable: UInt64) -> Int32 { result(swrun_capset(effective, permitted, inheritable)) }
    func setIOPriority(_ value: Int32) -> Int32 { result(swrun_ioprio_set_self(value)) }
    func setScheduler(_ settings: SchedulerSettings) -> Int32 {
        result(swrun_sched_setattr_self(settings.policy.rawValue, settings.flags, settings.nice, settings.priority,
                                        settings.runtime, settings.deadline, settings.period))
    }
    func setCPUAffinity(_ mask: UnsafeRawBufferPointer) -> Int32 { result(swrun_sched_setaffinity_self(mask.baseAddress, mask.count)) }
    func setrlimit(_ resource: Int32, soft: UInt64, hard: UInt64) -> Int32 {
        var limit = rlimit(rlim_cur: rlim_t(soft), rlim_max: rlim_t(hard))
        return result(Glibc.setrlimit(__rlimit_resource_t(UInt32(bitPattern: resource)), &limit))
    }
    func umask(_ mode: mode_t) { _ = Glibc.umask(mode) }
    func setresgid(_ gid: gid_t) -> Int32 { result(swrun_setresgid(gid)) }
    func setresuid(_ uid: uid_t) -> Int32 { result(swrun_setresuid(uid)) }
    func closeOnExec(from first: UInt32) -> Int32 { result(swrun_close_range(first, UInt32.max, SWRUN_CLOSE_RANGE_CLOEXEC)) }
    func personality(_ persona: UInt) -> Int32 { swrun_personality(persona) < 0 ? errno : 0 }
    func execve(_ path: UnsafeMutablePointer<CChar>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                _ envp: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
        _ = Glibc.execve(path, argv, envp)
        return errno
    }
}
