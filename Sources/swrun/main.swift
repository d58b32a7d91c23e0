import Glibc
import SwrunCLI

exit(SwrunCLI.main(Array(CommandLine.arguments.dropFirst())))
