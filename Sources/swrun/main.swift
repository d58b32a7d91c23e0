import Glibc
import SwrunCLI

// A reader that goes away (a detached console, `| head`) must cost a write an EPIPE, not
// swrun its life: the terminal would stay raw and a monitor would leave its container.
// Commands get every signal back to its default before execve.
signal(SIGPIPE, SIG_IGN)
exit(SwrunCLI.main(Array(CommandLine.arguments.dropFirst())))
