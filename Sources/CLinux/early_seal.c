#define _GNU_SOURCE
#include "clinux.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

// The commands that run swrun's code inside containers must run from a view of the binary
// that cannot be written (SealedExecutable.swift says why). Swift does that re-exec once a
// command is parsed; done here instead, in a constructor that runs before the Swift runtime
// starts (priority 101 sorts ahead of the runtime's own), the re-exec costs one exec of a
// process that has done nothing yet. Best effort: where this cannot protect the binary (not
// root, no open_tree), it leaves the process as it is and Swift's check decides.

// swrun's commands whose spec says entersContainers (a unit test keeps the two lists equal).
static const char *const swrun_entering_commands[] = {
    "attach", "build", "exec", "execute", "monitor", "run", NULL,
};
// The OCI runtime's (runc's command line, or `swrun oci ...`).
static const char *const swrun_oci_entering_commands[] = { "create", "exec", "run", NULL };

static int listed(const char *const *list, const char *word) {
    for (; *list; list++) {
        if (strcmp(*list, word) == 0) return 1;
    }
    return 0;
}

int swrun_command_enters_containers(const char *command, int oci) {
    return listed(oci ? swrun_oci_entering_commands : swrun_entering_commands, command);
}

// Whether a command line will enter a container. The OCI runtime's global options come before
// its command (`--root DIR --log FILE create ...`): any word that names such a command counts,
// since a wrong guess costs only an early re-exec that Swift would have skipped.
static int enters_containers(int argc, char **argv) {
    if (argc < 2) return 0;
    const char *program = strrchr(argv[0], '/');
    program = program ? program + 1 : argv[0];
    int oci = strcmp(program, "swrun-oci") == 0;
    if (!oci && strcmp(argv[1], "oci") != 0) return swrun_command_enters_containers(argv[1], 0);
    for (int i = 1; i < argc; i++) {
        if (swrun_command_enters_containers(argv[i], 1)) return 1;
    }
    return 0;
}

static int on_read_only_mount(int fd) {
    struct statvfs info;
    return fstatvfs(fd, &info) == 0 && (info.f_flag & ST_RDONLY) != 0;
}

__attribute__((constructor(101)))
static void swrun_seal_before_swift(int argc, char **argv, char **envp) {
    if (geteuid() != 0 || !enters_containers(argc, argv)) return;
    int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (self < 0) return;
    int protected = on_read_only_mount(self) || swrun_is_write_sealed(self) == 1;
    close(self);
    if (protected) return;
    int view = swrun_open_tree_clone("/proc/self/exe");
    if (view < 0) return;
    if (swrun_mount_set_readonly(view) == 0 && on_read_only_mount(view)) {
        syscall(SYS_execveat, view, "", argv, envp, AT_EMPTY_PATH);
    }
    close(view);
}
