import Glibc
import SwrunCLI

// A reader that goes away (a detached console, `| head`) must cost a write an EPIPE, not
// swrun its life: the terminal would stay raw and a monitor would leave its container.
// Commands get every signal back to its default before execve.
signal(SIGPIPE, SIG_IGN)
// Called as swrun-oci (the link `make install` makes), it is an OCI runtime with runc's command line.
let name = CommandLine.arguments.first.map { $0.split(separator: "/").last.map(String.init) ?? $0 } ?? "swrun"
exit(name == "swrun-oci" ? OCICommandLine.main(Array(CommandLine.arguments.dropFirst()))
                         : SwrunCLI.main(Array(CommandLine.arguments.dropFirst())))
