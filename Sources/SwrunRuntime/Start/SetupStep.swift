import Glibc

/// A path as the container's init uses it during setup.
enum SetupPath {
    /// A path on the host, taken as it is (lxc.rootfs.path, a bind source from the config).
    case host(UnsafeMutablePointer<CChar>)
    /// A path inside the rootfs, resolved with openat2(RESOLVE_IN_ROOT) so that no
    /// symlink in the rootfs can lead a mount out of it.
    case inRoot(UnsafeMutablePointer<CChar>)
    /// The container side of pty number N of the plan (0: the console, then the ttys),
    /// bind-mounted to /dev/console or /dev/ttyN.
    case terminal(Int)
}

/// One system call, or a tight group of them, that the container's init makes
/// while it builds the container, with every argument allocated before the fork.
enum SetupAction {
    /// setns(fd, type): joins a namespace of another container (lxc.namespace.share.KIND),
    /// opened by swrun before the clone.
    case joinNamespace(fd: Int32, type: Int32)
    /// Waits until swrun has done its part from outside: written uid_map and gid_map for
    /// the new user namespace, moved init into the container's cgroup.
    case waitForParent
    /// Forks /bin/sh with `argv` and `environment` and waits for it (lxc.hook.mount before
    /// pivot_root, with the host's sh).
    case runHook(path: UnsafeMutablePointer<CChar>, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, environment: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, readsState: Bool, timeout: Int32)
    /// Writes "0" to each v1 tasks file: init moves its one thread into the container's cgroup.
    case enterOwnCgroup(tasks: UnsafeBufferPointer<Int32>)
    /// unshare(CLONE_NEWCGROUP), once init is in its own cgroup: the container sees that
    /// cgroup as its root.
    case enterCgroupNamespace
    /// unshare(CLONE_NEWTIME); `offsets` written to /proc/self/timens_offsets while no process
    /// is in the new namespace (the kernel fixes them at the first); then setns into it
    /// (/proc/self/ns/time_for_children): init itself, and so everything after it, runs there.
    case makeTimeNamespace(offsets: UnsafeRawBufferPointer, offsetsFile: UnsafeMutablePointer<CChar>, forChildren: UnsafeMutablePointer<CChar>)
    /// setgroups(0, NULL); setresgid(0); setresuid(0): root of the user namespace, an
    /// unprivileged id on the host.
    case becomeRootInside
    /// mount(NULL, "/", NULL, MS_REC|MS_PRIVATE, NULL): nothing we mount reaches the host.
    case makeMountsPrivate
    /// mount(2) with the target (and a path source) resolved as `SetupPath` says.
    case mount(source: SetupPath?, target: SetupPath, fsType: UnsafeMutablePointer<CChar>?, flags: UInt, data: UnsafeMutablePointer<CChar>?, optional: Bool)
    /// mount_setattr(target, "", AT_EMPTY_PATH|AT_RECURSIVE, {set, clear}): MOUNT_ATTR_* of the
    /// mount at a path inside the rootfs and of every mount below it (OCI rro, rrw).
    case setMountAttributes(target: UnsafeMutablePointer<CChar>, set: UInt64, clear: UInt64, optional: Bool)
    /// move_mount(fd, "", target, "", F_EMPTY_PATH|T_EMPTY_PATH): attaches a detached mount
    /// swrun made before the clone (an id-mapped bind) at a path inside the rootfs; the fd is
    /// closed after.
    case attachMount(fd: Int32, target: UnsafeMutablePointer<CChar>)
    /// Hides a path: /dev/null (a host path) bound over a file, an empty read-only tmpfs over a
    /// directory; a missing path is skipped.
    case mask(path: UnsafeMutablePointer<CChar>, null: UnsafeMutablePointer<CChar>, tmpfs: UnsafeMutablePointer<CChar>, tmpfsFlags: UInt, data: UnsafeMutablePointer<CChar>)
    /// Opens the rootfs (after it is bind-mounted onto itself) as the root for every later resolution.
    case openRoot(UnsafeMutablePointer<CChar>)
    /// mkdir -p inside the rootfs, one component at a time, each resolved in the root.
    case makeDirectories(components: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, mode: mode_t)
    /// Creates an empty file inside the rootfs (a bind target such as /dev/console); its parent must exist.
    case makeFile(parent: UnsafeMutablePointer<CChar>, name: UnsafeMutablePointer<CChar>)
    /// mknodat under a directory inside the rootfs.
    case makeDevice(parent: UnsafeMutablePointer<CChar>, name: UnsafeMutablePointer<CChar>, mode: mode_t, device: dev_t)
    /// symlinkat under a directory inside the rootfs; with `replace`, whatever has the name
    /// goes first (a rootfs's own /dev/tty1 node must not stay where the link belongs).
    case changeOwner(parent: UnsafeMutablePointer<CChar>, name: UnsafeMutablePointer<CChar>, uid: uid_t, gid: gid_t)
    /// Writes `value` to an existing file inside the rootfs (a sysctl under /proc/sys).
    case writeFile(path: UnsafeMutablePointer<CChar>, value: UnsafeRawBufferPointer)
    case makeSymlink(parent: UnsafeMutablePointer<CChar>, name: UnsafeMutablePointer<CChar>, target: UnsafeMutablePointer<CChar>, replace: Bool)
    /// Opens ptmx of the container's own devpts, unlocks it and keeps both ends as pty
    /// number `index`; the master goes to swrun over the sync socket.
    case openTerminal(ptmx: UnsafeMutablePointer<CChar>, index: Int)
    /// fchdir(root); pivot_root(".", "."); umount2(".", MNT_DETACH); chdir("/").
    case pivotRoot
    /// chroot(2) and chdir("/"): the root of a container without a mount namespace.
    case changeRoot(UnsafeMutablePointer<CChar>)
    case setHostname(UnsafeMutablePointer<CChar>, length: Int)
    case setDomainName(UnsafeMutablePointer<CChar>, length: Int)
    /// Sends a prepared rtnetlink request and reads its ACK.
    case netlinkRequest(UnsafeRawBufferPointer)
    /// Finds the link `name` (the container's end of a veth pair) and sends the prepared
    /// requests with its index written in at `indexOffsets`: up, address, route.
    case configureLink(name: UnsafeMutablePointer<CChar>, requests: UnsafeMutablePointer<UnsafeMutableRawBufferPointer>, count: Int,
                       indexOffsets: UnsafeMutablePointer<Int>)
    /// prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER): in execute mode init loads the filter
    /// itself, so that it and the command it forks are both under it.
    case loadSeccomp(program: UnsafeRawBufferPointer, count: UInt16)
}

/// An action with its two descriptions: the learner's line for --explain
/// (the real call, pre-rendered so the child can write it without allocating)
/// and a short summary for error messages.
struct SetupStep {
    let action: SetupAction
    let summary: String
    let explanation: UnsafeRawBufferPointer
}

/// What the payload process does between fork and execve.
enum PayloadAction {
    /// dup2 each fd given (-1: none) onto 0, 1, 2: pipes in place of swrun's terminal.
    case replaceStandardFDs(UnsafeBufferPointer<Int32>)
    /// attach: prctl(PR_SET_DUMPABLE, 0), then setns(pidfd, flags) into the running container.
    case enterNamespaces(pidfd: Int32, flags: Int32)
    /// attach: clone(CLONE_PARENT) into the container's pid namespace; the forking process
    /// reports the child's pid on the status channel and exits, the child goes on.
    case spawnInPidNamespace
    /// setsid(): out of the caller's session, away from its controlling terminal.
    case newSession
    /// Writes "0" into each given tasks (v1) or cgroup.procs (v2) fd, opened before setns: the process joins
    /// the container's cgroup itself, and only it (attach).
    case joinCgroups(UnsafeRawBufferPointer)
    /// Unblocks every signal, resets every handler to its default, and sets umask 022
    /// (init builds /dev with umask 0 so that device modes are exact).
    case resetInheritedState
    /// dup2 the console to 0, 1, 2; as the controlling terminal (setsid, TIOCSCTTY) for a
    /// command, but not for a booted init, which hands the console on to its own children
    /// as a kernel-started init does.
    case attachConsole(controlling: Bool)
    /// prctl(PR_CAPBSET_DROP) for each capability in the mask.
    case dropBoundingSet(mask: UInt64)
    /// setgroups(0, NULL): no supplementary groups.
    case clearGroups
    /// setgroups(2) with these groups (OCI process.user.additionalGids).
    case setGroups(UnsafeBufferPointer<gid_t>)
    /// PR_SET_KEEPCAPS: the permitted set survives the switch to a user other than root.
    case keepCapabilities
    /// capset(2) with each set, then each ambient capability raised (OCI process.capabilities).
    case setCapabilities(CapabilitySets)
    /// ioprio_set(IOPRIO_WHO_PROCESS, 0, value): OCI process.ioPriority.
    case setIOPriority(Int32)
    /// sched_setattr(0, attributes, 0): OCI process.scheduler.
    case setScheduler(SchedulerSettings)
    /// sched_setaffinity(0, mask): OCI process.execCPUAffinity, for exec.
    case setCPUAffinity(UnsafeRawBufferPointer)
    /// setrlimit(2).
    case setResourceLimit(resource: Int32, soft: UInt64, hard: UInt64)
    /// umask(2), for OCI process.user.umask.
    /// Writes "exec PROFILE" to the thread's AppArmor exec attribute (`path`, else `fallback`).
    case changeProfileOnExec(path: UnsafeMutablePointer<CChar>, fallback: UnsafeMutablePointer<CChar>, request: UnsafeRawBufferPointer)
    case setUmask(mode_t)
    case setGID(gid_t)
    case setUID(uid_t)
    /// capset(2) with these effective and permitted sets, an empty inheritable set,
    /// and the ambient set cleared.
    case limitCapabilities(keep: UInt64)
    case setNoNewPrivileges
    /// prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER) with a BPF program of `count` instructions.
    case loadSeccomp(program: UnsafeRawBufferPointer, count: UInt16)
    /// seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER): the filter, and its
    /// notify fd sent to the runtime on the sync socket (SyncMessage.seccompListener) and closed.
    case loadSeccompWithListener(program: UnsafeRawBufferPointer, count: UInt16)
    case changeDirectory(UnsafeMutablePointer<CChar>)
    /// lxc.hook.start: /bin/sh of the container with `argv` and `environment`, waited for.
    case runHook(path: UnsafeMutablePointer<CChar>, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, environment: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, readsState: Bool, timeout: Int32)
    /// personality(2): lxc.arch's execution domain (PER_LINUX32 for a 32-bit container).
    case setPersonality(UInt)
    /// close_range(3, ~0, CLOSE_RANGE_CLOEXEC): no fd but stdio survives the exec.
    case closeInheritedDescriptors(from: UInt32)
    /// execve of each candidate in turn (the PATH search), with argv and envp.
    case exec(candidates: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, envp: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>)
}

struct PayloadStep {
    let action: PayloadAction
    let summary: String
    let explanation: UnsafeRawBufferPointer
}
