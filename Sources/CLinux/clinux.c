#define _GNU_SOURCE
#include "clinux.h"

#include <errno.h>
#include <string.h>
#include <sched.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>
#include <linux/capability.h>
#include <termios.h>
#include <spawn.h>
#include <sys/vfs.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <linux/filter.h>
#include <linux/bpf.h>
#include <linux/seccomp.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

const unsigned long swrun_TIOCGPTPEER = TIOCGPTPEER;
const unsigned long swrun_TIOCSPTLCK = TIOCSPTLCK;
const unsigned long swrun_TIOCSCTTY = TIOCSCTTY;
const unsigned long swrun_TIOCGWINSZ = TIOCGWINSZ;
const unsigned long swrun_TIOCSWINSZ = TIOCSWINSZ;

struct swrun_clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

pid_t swrun_clone3(uint64_t flags, int exit_signal, int cgroup_fd) {
    struct swrun_clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = flags;
    args.exit_signal = (uint64_t)exit_signal;
    if (cgroup_fd >= 0) {
        args.flags |= SWRUN_CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)cgroup_fd;
    }
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0 && errno == ENOSYS && cgroup_fd < 0) {
        pid = syscall(SYS_clone, (unsigned long)flags | (unsigned long)exit_signal, 0, 0, 0, 0);
    }
    return (pid_t)pid;
}

pid_t swrun_raw_fork(void) {
    return (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, 0, 0, 0, 0);
}

pid_t swrun_raw_fork_sibling(void) {
    // clone3 refuses an exit signal with CLONE_PARENT; clone(2) takes the parent's own.
    return (pid_t)syscall(SYS_clone, (unsigned long)(0x00008000 /* CLONE_PARENT */ | SIGCHLD), 0, 0, 0, 0);
}

int swrun_open_pty_peer(int master) {
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) != 0) return -1;
    return ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
}

int swrun_unshare(int flags) { return unshare(flags); }

int swrun_dup_cloexec(int old_fd, int new_fd) { return dup3(old_fd, new_fd, O_CLOEXEC); }
int swrun_setresuid(uid_t uid) { return setresuid(uid, uid, uid); }
int swrun_setresgid(gid_t gid) { return setresgid(gid, gid, gid); }

int swrun_accept_cloexec(int fd) { return accept4(fd, NULL, NULL, SOCK_CLOEXEC); }

int swrun_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int swrun_pivot_root(const char *new_root, const char *put_old) {
    return (int)syscall(SYS_pivot_root, new_root, put_old);
}

int swrun_rename_exchange(const char *from, const char *to) {
    return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 2 /* RENAME_EXCHANGE */);
}

struct swrun_open_how { uint64_t flags, mode, resolve; };

int swrun_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct swrun_open_how how = { flags, mode, resolve };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int swrun_close_range(unsigned int first, unsigned int last, unsigned int flags) {
    return (int)syscall(SYS_close_range, first, last, flags);
}

int swrun_prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5) {
    return prctl(option, arg2, arg3, arg4, arg5);
}

int swrun_ioctl_int(int fd, unsigned long request, int value) { return ioctl(fd, request, value); }
int swrun_ioctl_ptr(int fd, unsigned long request, void *arg) { return ioctl(fd, request, arg); }

int swrun_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2] = {
        { (uint32_t)effective, (uint32_t)permitted, (uint32_t)inheritable },
        { (uint32_t)(effective >> 32), (uint32_t)(permitted >> 32), (uint32_t)(inheritable >> 32) },
    };
    return (int)syscall(SYS_capset, &header, data);
}

int swrun_capget(uint64_t *effective, uint64_t *permitted, uint64_t *inheritable) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capget, &header, data) != 0) return -1;
    *effective = (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
    *permitted = (uint64_t)data[0].permitted | ((uint64_t)data[1].permitted << 32);
    *inheritable = (uint64_t)data[0].inheritable | ((uint64_t)data[1].inheritable << 32);
    return 0;
}

dev_t swrun_makedev(unsigned int major, unsigned int minor) { return makedev(major, minor); }

int swrun_wifexited(int status) { return WIFEXITED(status); }
int swrun_wexitstatus(int status) { return WEXITSTATUS(status); }
int swrun_wifsignaled(int status) { return WIFSIGNALED(status); }
int swrun_wtermsig(int status) { return WTERMSIG(status); }

ssize_t swrun_send_with_fd(int socket, const void *data, size_t len, int fd) {
    struct iovec iov = { (void *)data, len };
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (fd >= 0) {
        memset(&control, 0, sizeof control);
        msg.msg_control = control.buf;
        msg.msg_controllen = sizeof control.buf;
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    }
    ssize_t sent;
    do { sent = sendmsg(socket, &msg, MSG_NOSIGNAL); } while (sent < 0 && errno == EINTR);
    return sent;
}

ssize_t swrun_recv_with_fd(int socket, void *data, size_t len, int *received_fd) {
    struct iovec iov = { data, len };
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    *received_fd = -1;
    ssize_t got;
    do { got = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC); } while (got < 0 && errno == EINTR);
    if (got < 0) return got;
    for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
            memcpy(received_fd, CMSG_DATA(cmsg), sizeof(int));
        }
    }
    return got;
}

int swrun_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

// A page's pagemap entry: bit 63 present, bit 61 a file's page (or shared memory), clear for
// a private copy this process wrote.
#define PAGEMAP_PRESENT (1ULL << 63)
#define PAGEMAP_FILE (1ULL << 61)

int swrun_drop_file_pages(int pagemap, uintptr_t start, uintptr_t end) {
    const uintptr_t page = 4096;
    uint64_t entries[512];
    uintptr_t run = 0, at = start;
    int dropped = 0;
    while (at < end) {
        size_t wanted = (end - at) / page < 512 ? (end - at) / page : 512;
        ssize_t got = pread(pagemap, entries, wanted * sizeof entries[0], (off_t)(at / page * sizeof entries[0]));
        if (got < (ssize_t)sizeof entries[0]) break;
        size_t count = (size_t)got / sizeof entries[0];
        for (size_t i = 0; i < count; i++, at += page) {
            int clean = (entries[i] & (PAGEMAP_PRESENT | PAGEMAP_FILE)) == (PAGEMAP_PRESENT | PAGEMAP_FILE);
            if (clean && !run) run = at;
            if (!clean && run) {
                if (madvise((void *)run, at - run, MADV_DONTNEED) == 0) dropped += (int)((at - run) / page);
                run = 0;
            }
        }
    }
    if (run && madvise((void *)run, at - run, MADV_DONTNEED) == 0) dropped += (int)((at - run) / page);
    return dropped;
}

int swrun_pidfd_send_signal(int pidfd, int signal) { return (int)syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0); }
int swrun_setns(int fd, int nstype) { return setns(fd, nstype); }
int swrun_personality(unsigned long persona) { return personality(persona); }

int swrun_spawn_close_from(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int swrun_spawn_chdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

const short swrun_POSIX_SPAWN_SETSID = POSIX_SPAWN_SETSID;

int swrun_load_seccomp_filter(const void *instructions, unsigned short count) {
    struct sock_fprog program = { count, (struct sock_filter *)instructions };
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0);
}

int swrun_load_seccomp_listener(const void *instructions, unsigned short count) {
    struct sock_fprog program = { count, (struct sock_filter *)instructions };
    return (int)syscall(SYS_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, 8 /* SECCOMP_FILTER_FLAG_NEW_LISTENER */, &program);
}

int swrun_eventfd_nonblocking(void) {
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

long swrun_filesystem_type(const char *path) {
    struct statfs info;
    if (statfs(path, &info) != 0) return -1;
    return (long)info.f_type;
}

int swrun_sigwait_all(const sigset_t *set, siginfo_t *info) {
    int sig;
    do { sig = sigwaitinfo(set, info); } while (sig < 0 && errno == EINTR);
    return sig;
}

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

int swrun_open_tree_clone(const char *path) {
    return (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
}

// linux/mount.h's struct mount_attr (that header clashes with glibc 2.36's sys/mount.h).
struct swrun_mount_attr { uint64_t attr_set, attr_clr, propagation, userns_fd; };

int swrun_mount_set_readonly(int mount_fd) {
    struct swrun_mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
    return (int)syscall(SYS_mount_setattr, mount_fd, "", AT_EMPTY_PATH, &attr, sizeof attr);
}

int swrun_mount_setattr_recursive(int fd, uint64_t set, uint64_t clear) {
    struct swrun_mount_attr attr = { .attr_set = set, .attr_clr = clear };
    return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr);
}

int swrun_mount_set_idmap(int mount_fd, int userns_fd) {
    struct swrun_mount_attr attr = { .attr_set = 0x00100000 /* MOUNT_ATTR_IDMAP */, .userns_fd = (uint64_t)userns_fd };
    return (int)syscall(SYS_mount_setattr, mount_fd, "", AT_EMPTY_PATH, &attr, sizeof attr);
}

int swrun_move_mount(int mount_fd, const char *target) {
    return (int)syscall(SYS_move_mount, mount_fd, "", AT_FDCWD, target, 0x00000004 /* MOVE_MOUNT_F_EMPTY_PATH */);
}

int swrun_open_tree_clone_flags(const char *path, int recursive) {
    return (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
}

int swrun_mount_set_idmap_flags(int mount_fd, int userns_fd, int recursive) {
    struct swrun_mount_attr attr = { .attr_set = 0x00100000 /* MOUNT_ATTR_IDMAP */, .userns_fd = (uint64_t)userns_fd };
    return (int)syscall(SYS_mount_setattr, mount_fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr);
}

int swrun_move_mount_onto(int mount_fd, int target_fd) {
    return (int)syscall(SYS_move_mount, mount_fd, "", target_fd, "",
                        0x00000004 /* MOVE_MOUNT_F_EMPTY_PATH */ | 0x00000040 /* MOVE_MOUNT_T_EMPTY_PATH */);
}

int swrun_ioprio_set_self(int ioprio) {
    return (int)syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, ioprio);
}

// linux/sched/types.h's struct sched_attr, as far as SCHED_ATTR_SIZE_VER0 (48 bytes).
struct swrun_sched_attr {
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
};

int swrun_sched_setattr_self(uint32_t policy, uint64_t flags, int32_t nice, uint32_t priority,
                             uint64_t runtime, uint64_t deadline, uint64_t period) {
    struct swrun_sched_attr attr = {
        .size = sizeof attr, .sched_policy = policy, .sched_flags = flags, .sched_nice = nice,
        .sched_priority = priority, .sched_runtime = runtime, .sched_deadline = deadline, .sched_period = period,
    };
    return (int)syscall(SYS_sched_setattr, 0, &attr, 0);
}

int swrun_sched_setaffinity_self(const void *mask, size_t size) {
    return (int)syscall(SYS_sched_setaffinity, 0, size, mask);
}

int swrun_memfd_create_sealable(const char *name) {
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL) fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);  // before 6.3
    return fd;
}

int swrun_memfd_seal_all(int fd) {
    return fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
}

int swrun_is_write_sealed(int fd) {
    int seals = fcntl(fd, F_GET_SEALS);
    return seals >= 0 && (seals & F_SEAL_WRITE) != 0;
}

int swrun_execveat_fd(int fd, char *const argv[], char *const envp[]) {
    return (int)syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
}

int swrun_bpf_load_device_program(const void *instructions, uint32_t count, char *log, uint32_t log_size) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insn_cnt = count;
    attr.insns = (uint64_t)(uintptr_t)instructions;
    attr.license = (uint64_t)(uintptr_t)"GPL";
    attr.log_buf = (uint64_t)(uintptr_t)log;
    attr.log_size = log_size;
    attr.log_level = log ? 1 : 0;
    attr.expected_attach_type = BPF_CGROUP_DEVICE;
    int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
    if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
}

int swrun_bpf_attach_device_program(int program, int cgroup) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = (uint32_t)cgroup;
    attr.attach_bpf_fd = (uint32_t)program;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    return (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr));
}
