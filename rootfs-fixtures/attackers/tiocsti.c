/* Run inside a container: tries to type "echo INJECTED" into every terminal among its
 * standard fds with TIOCSTI, as a hostile process would type into the shell of whoever
 * started it. Prints what it managed. Built static, so that it runs in a busybox rootfs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(void) {
    const char *line = "echo INJECTED\n";
    for (int fd = 0; fd < 3; fd++) {
        if (!isatty(fd)) {
            printf("fd %d: no terminal\n", fd);
            continue;
        }
        const char *c = line;
        while (*c && ioctl(fd, TIOCSTI, c) == 0) c++;
        printf("fd %d: %s\n", fd, *c ? strerror(errno) : "typed");
    }
    return 0;
}
