/* A 32-bit program: its system calls reach the kernel as i386 calls (int 0x80 numbers).
   Prints the machine uname reports and what init_module (128 on i386) gets. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(void) {
    struct utsname names;
    if (uname(&names) != 0) return 2;
    long result = syscall(SYS_init_module, 0, 0, "");
    printf("%s init_module=%s\n", names.machine, result == 0 ? "loaded" : strerror(errno));
    return 0;
}
