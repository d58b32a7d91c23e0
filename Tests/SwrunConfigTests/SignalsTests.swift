import Glibc
@testable import SwrunConfig
import Testing

@Suite struct SignalsTests {
    @Test(arguments: [
        ("SIGTERM", SIGTERM), ("TERM", SIGTERM), ("sigterm", SIGTERM), ("SIGUSR1", SIGUSR1), ("USR1", SIGUSR1),
        ("SIGPWR", SIGPWR), ("SIGKILL", SIGKILL), ("15", 15), ("SIGRTMIN+3", 37), ("SIGRTMAX-1", 63),
        ("sigrtmin+0", 34), ("64", 64),
    ] as [(String, Int32)])
    func known(name: String, number: Int32) {
        #expect(SignalNames.parse(name) == number)
    }

    @Test(arguments: ["", "SIG", "SIGFOO", "0", "65", "SIGRTMIN", "SIGRTMIN+31", "SIGRTMAX-x", "-9", "9x"])
    func unknown(name: String) {
        #expect(SignalNames.parse(name) == nil)
    }
}
