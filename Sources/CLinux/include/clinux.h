// The few Linux interfaces that Swift cannot call through Glibc: raw syscalls,
// variadic prctl/ioctl, the W* status macros and SCM_RIGHTS ancillary data.
// Every function here is a thin wrapper: no allocation, safe in a forked child.
#ifndef SWRUN_CLINUX_H
#define SWRUN_CLINUX_H

#include <stdint.h>
#include <sys/types.h>
#include <signal.h>
#include <spawn.h>
#include <sys/signalfd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/xattr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netpacket/packet.h>

// Namespace and clone flags (values from linux/sched.h, spelled out so that
// they do not depend on _GNU_SOURCE reaching the system headers).
#define SWRUN_CLONE_NEWNS     0x00020000ULL
#define SWRUN_CLONE_NEWCGROUP 0x02000000ULL
#define SWRUN_CLONE_NEWUTS    0x04000000ULL
#define SWRUN_CLONE_NEWIPC    0x08000000ULL
#define SWRUN_CLONE_NEWUSER   0x10000000ULL
#define SWRUN_CLONE_PARENT    0x00008000ULL
#define SWRUN_CLONE_NEWPID    0x20000000ULL
#define SWRUN_CLONE_NEWNET    0x40000000ULL
#define SWRUN_CLONE_INTO_CGROUP 0x200000000ULL
// clone3 and unshare only (in clone(2) it is CSIGNAL's bit); Linux 5.6.
#define SWRUN_CLONE_NEWTIME   0x00000080ULL

// Flags that glibc hides behind _GNU_SOURCE.
#define SWRUN_O_PATH 010000000
#define SWRUN_AT_EMPTY_PATH 0x1000
#define SWRUN_MNT_DETACH 2
#define SWRUN_CLOSE_RANGE_CLOEXEC 4U

// openat2(2) resolve flags (linux/openat2.h).
#define SWRUN_RESOLVE_NO_XDEV       0x01ULL
#define SWRUN_RESOLVE_NO_MAGICLINKS 0x02ULL
#define SWRUN_RESOLVE_NO_SYMLINKS   0x04ULL
#define SWRUN_RESOLVE_BENEATH       0x08ULL
#define SWRUN_RESOLVE_IN_ROOT       0x10ULL

// Terminal ioctls whose _IO* macros do not import into Swift.
extern const unsigned long swrun_TIOCGPTPEER;
extern const unsigned long swrun_TIOCSPTLCK;
extern const unsigned long swrun_TIOCSCTTY;
extern const unsigned long swrun_TIOCGWINSZ;
extern const unsigned long swrun_TIOCSWINSZ;

/// clone3(2) with the given flags; the child continues on the caller's stack,
/// like fork(). Falls back to clone(2) where the kernel lacks clone3 (before 5.3)
/// and no cgroup fd was asked for. Returns the child's pid, 0 in the child, -1 with errno.
pid_t swrun_clone3(uint64_t flags, int exit_signal, int cgroup_fd);

/// fork() as a bare syscall: no atfork handlers, no allocation.
pid_t swrun_raw_fork(void);

/// swrun_raw_fork, but the child is a child of the caller's parent (CLONE_PARENT): a
/// sibling, which the parent waits for. Returns the child's pid, 0 in the child, -1 with errno.
pid_t swrun_raw_fork_sibling(void);

/// Unlocks the pty whose master is `master` and opens its other end (O_RDWR|O_NOCTTY|O_CLOEXEC).
/// Returns the peer fd, or -1 with errno.
int swrun_open_pty_peer(int master);

/// unshare(2).
int swrun_unshare(int flags);

/// dup3(old, new, O_CLOEXEC).
int swrun_dup_cloexec(int old_fd, int new_fd);
/// setresuid(uid, uid, uid) and setresgid(gid, gid, gid): real, effective and saved ids at once.
int swrun_setresuid(uid_t uid);
int swrun_setresgid(gid_t gid);

/// accept4(fd, NULL, NULL, SOCK_CLOEXEC).
int swrun_accept_cloexec(int fd);

/// pipe2(fds, O_CLOEXEC).
int swrun_pipe_cloexec(int fds[2]);

int swrun_pivot_root(const char *new_root, const char *put_old);

/// renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE): swaps two existing names atomically.
int swrun_rename_exchange(const char *from, const char *to);

/// openat2(2): returns an fd or -1 with errno.
int swrun_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);

int swrun_close_range(unsigned int first, unsigned int last, unsigned int flags);

int swrun_prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5);

int swrun_ioctl_int(int fd, unsigned long request, int value);
int swrun_ioctl_ptr(int fd, unsigned long request, void *arg);

/// capset(2) for the calling thread with 64-bit effective, permitted and inheritable sets.
int swrun_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable);
/// capget(2) for the calling thread.
int swrun_capget(uint64_t *effective, uint64_t *permitted, uint64_t *inheritable);

dev_t swrun_makedev(unsigned int major, unsigned int minor);

int swrun_wifexited(int status);
int swrun_wexitstatus(int status);
int swrun_wifsignaled(int status);
int swrun_wtermsig(int status);

/// Sends `len` bytes and, when fd >= 0, that fd as SCM_RIGHTS. Returns bytes sent or -1.
ssize_t swrun_send_with_fd(int socket, const void *data, size_t len, int fd);
/// Receives up to `len` bytes; *received_fd is the passed fd (close-on-exec) or -1.
ssize_t swrun_recv_with_fd(int socket, void *data, size_t len, int *received_fd);

/// Unmaps the pages of [start, end) that are still the file's (read from `pagemap`, an fd of
/// /proc/self/pagemap), so that they leave this process's resident set but stay in the page
/// cache (MADV_DONTNEED); pages it wrote (private copies) stay. Touches no memory but its
/// stack between reading an entry and acting on it, so no page turns private meanwhile.
/// Returns the number of pages unmapped.
int swrun_drop_file_pages(int pagemap, uintptr_t start, uintptr_t end);

/// pidfd_open(2), pidfd_send_signal(2), and setns(2) on such a pidfd (several namespaces at once).
int swrun_pidfd_open(pid_t pid);
int swrun_pidfd_send_signal(int pidfd, int signal);
int swrun_setns(int fd, int nstype);

/// bpf(BPF_PROG_LOAD) of a BPF_PROG_TYPE_CGROUP_DEVICE program of `count` instructions
/// (license "GPL"); the verifier's log goes to `log`. Returns the program's fd, or -1.
int swrun_bpf_load_device_program(const void *instructions, uint32_t count, char *log, uint32_t log_size);
/// bpf(BPF_PROG_ATTACH) of that program to the cgroup v2 directory `cgroup`, BPF_F_ALLOW_MULTI.
int swrun_bpf_attach_device_program(int program, int cgroup);

/// personality(2): sets the execution domain (PER_LINUX32 = 0x0008 makes uname(2) report the
/// 32-bit machine); 0xffffffff only reads it. Returns the previous personality, or -1.
int swrun_personality(unsigned long persona);

/// posix_spawn_file_actions_addclosefrom_np: the child closes every fd from `from` up.
int swrun_spawn_close_from(posix_spawn_file_actions_t *actions, int from);

/// posix_spawn_file_actions_addchdir_np: the child changes directory first.
int swrun_spawn_chdir(posix_spawn_file_actions_t *actions, const char *path);

/// posix_spawnattr flag POSIX_SPAWN_SETSID (glibc hides it behind _GNU_SOURCE).
extern const short swrun_POSIX_SPAWN_SETSID;

/// prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER) with a classic BPF program of `count`
/// struct sock_filter (8 bytes each). Needs CAP_SYS_ADMIN or no_new_privs.
int swrun_load_seccomp_filter(const void *instructions, unsigned short count);

/// seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER) with the same program:
/// the notify fd (close-on-exec), or -1 with errno (Linux 5.0).
int swrun_load_seccomp_listener(const void *instructions, unsigned short count);

/// eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC): a counter the kernel can signal, or -1 with errno.
int swrun_eventfd_nonblocking(void);

/// open_tree(2) with OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC: a detached bind mount of the file
/// or directory at `path`, as an O_PATH fd; -1 with errno (ENOSYS before Linux 5.2).
int swrun_open_tree_clone(const char *path);

/// mount_setattr(2) MOUNT_ATTR_RDONLY on the detached mount behind `mount_fd`; -1 with errno.
int swrun_mount_set_readonly(int mount_fd);

/// mount_setattr(2) with AT_EMPTY_PATH | AT_RECURSIVE on the mount at `fd` and every mount
/// below it: MOUNT_ATTR_* bits `set` raised, `clear` cleared; -1 with errno (ENOSYS before 5.12).
int swrun_mount_setattr_recursive(int fd, uint64_t set, uint64_t clear);

/// mount_setattr(2) MOUNT_ATTR_IDMAP on the detached mount behind `mount_fd`: its files seen
/// through the id maps of the user namespace `userns_fd`; -1 with errno (Linux 5.12).
int swrun_mount_set_idmap(int mount_fd, int userns_fd);

/// move_mount(2) of the detached mount behind `mount_fd` onto `target`; -1 with errno.
int swrun_move_mount(int mount_fd, const char *target);

/// open_tree(2) with OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC, and AT_RECURSIVE when `recursive`
/// (an rbind: the mounts below come along); -1 with errno.
int swrun_open_tree_clone_flags(const char *path, int recursive);

/// swrun_mount_set_idmap, on the mounts below too when `recursive` (OCI's ridmap); -1 with errno.
int swrun_mount_set_idmap_flags(int mount_fd, int userns_fd, int recursive);

/// move_mount(2) of the detached mount behind `mount_fd` onto the directory or file open at
/// `target_fd` (MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH); -1 with errno.
int swrun_move_mount_onto(int mount_fd, int target_fd);

/// ioprio_set(IOPRIO_WHO_PROCESS, 0, ioprio): the calling process's I/O class and level.
int swrun_ioprio_set_self(int ioprio);

/// sched_setattr(0, attr, 0) with a struct sched_attr (SCHED_ATTR_SIZE_VER0) of these fields.
int swrun_sched_setattr_self(uint32_t policy, uint64_t flags, int32_t nice, uint32_t priority,
                             uint64_t runtime, uint64_t deadline, uint64_t period);

/// sched_setaffinity(0, size, mask) as a raw syscall; `mask` is a CPU bitmask of `size` bytes.
int swrun_sched_setaffinity_self(const void *mask, size_t size);

/// memfd_create(2) with MFD_CLOEXEC | MFD_ALLOW_SEALING (| MFD_EXEC where known).
int swrun_memfd_create_sealable(const char *name);

/// Seals a memfd against every change (F_SEAL_SEAL, SHRINK, GROW, WRITE).
int swrun_memfd_seal_all(int fd);

/// True (1) when the file behind `fd` is a memfd sealed against writes.
int swrun_is_write_sealed(int fd);

/// Whether `command` is one that runs swrun's code in a container: of swrun's own commands, or
/// (oci != 0) the OCI runtime's. The list the constructor in early_seal.c re-execs for.
int swrun_command_enters_containers(const char *command, int oci);

/// execveat(2) of the file behind `fd` itself (AT_EMPTY_PATH); returns only on failure.
int swrun_execveat_fd(int fd, char *const argv[], char *const envp[]);

/// statfs(2)'s f_type (the filesystem's magic number) for `path`, or -1 with errno.
long swrun_filesystem_type(const char *path);

/// sigwaitinfo(2), retried when interrupted.
int swrun_sigwait_all(const sigset_t *set, siginfo_t *info);

#endif
