/* Runs a command under ptrace and follows every process it forks from the moment it exists,
 * as container root holding CAP_SYS_PTRACE could trace a process that appears in its pid
 * namespace. For each new process born in the pid namespace given (a /proc/PID/ns/pid link
 * text such as "pid:[4026532]"), it writes the process's credentials at that first moment
 * ("CapBnd CapEff Seccomp NoNewPrivs Uid" lines of /proc/PID/status) to OUT.
 *   birth-tracer OUT NAMESPACE COMMAND [ARGS...]      exits with the command's status */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

static FILE *out;
static const char *namespace;

static void report(pid_t pid) {
    char path[64], link[64] = "";
    snprintf(path, sizeof path, "/proc/%d/ns/pid", pid);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n <= 0 || strncmp(link, namespace, (size_t)n) != 0 || namespace[n] != 0) return;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *status = fopen(path, "r");
    if (!status) return;
    char line[256];
    fprintf(out, "born");
    while (fgets(line, sizeof line, status)) {
        const char *keys[] = {"CapBnd:", "CapEff:", "Seccomp:", "NoNewPrivs:", "Uid:"};
        for (unsigned i = 0; i < sizeof keys / sizeof *keys; i++) {
            if (strncmp(line, keys[i], strlen(keys[i])) == 0) {
                line[strcspn(line, "\n")] = 0;
                fprintf(out, " | %s", line);
            }
        }
    }
    fprintf(out, "\n");
    fflush(out);
    fclose(status);
}

int main(int argc, char **argv) {
    if (argc < 4) return 2;
    out = fopen(argv[1], "w");
    namespace = argv[2];
    if (!out) return 2;
    pid_t child = fork();
    if (child == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        raise(SIGSTOP);
        execvp(argv[3], argv + 3);
        _exit(127);
    }
    int status, code = 1;
    waitpid(child, &status, 0);
    ptrace(PTRACE_SETOPTIONS, child, 0, PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
    ptrace(PTRACE_CONT, child, 0, 0);
    for (;;) {
        pid_t pid = waitpid(-1, &status, __WALL);
        if (pid < 0) break;  /* ECHILD: every traced process is gone */
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            if (pid == child) code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            continue;
        }
        if (!WIFSTOPPED(status)) continue;
        int signal = WSTOPSIG(status);
        if (status >> 16) {
            signal = 0;  /* a fork, clone or exec event: the new process stops on its own */
        } else if (signal == SIGSTOP) {
            /* A new process's first stop (it has run nothing yet), or a real SIGSTOP: report
             * the first, and pass neither on (a traced child's SIGSTOP is ours). */
            report(pid);
            signal = 0;
        }
        ptrace(PTRACE_CONT, pid, 0, signal);
    }
    fclose(out);
    return code;
}
