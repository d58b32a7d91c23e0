import Glibc
import SwrunSystem
import Testing
@testable import SwrunRuntime

@Suite struct ShutdownSignalTests {
    /// /proc/PID/status of a systemd, which blocks the signals it waits for on a signalfd.
    static let systemdStatus = """
        Name:\tsystemd
        SigQ:\t0/95657
        SigPnd:\t0000000000000000
        ShdPnd:\t0000000000000000
        SigBlk:\t7be3c0fe28014a03
        SigIgn:\t0000000000001000
        """

    @Test func aBlockedSignalIsReadFromSigBlk() {
        #expect(ShutdownSignals.blocks(Signals.realtimeMin + 3, status: Self.systemdStatus))
        #expect(ShutdownSignals.blocks(SIGQUIT, status: Self.systemdStatus) == false)
        #expect(ShutdownSignals.blocks(SIGHUP, status: Self.systemdStatus))
        #expect(ShutdownSignals.blocks(SIGINT, status: "Name:\tsh\nSigBlk:\t0000000000000000\n") == false)
        #expect(ShutdownSignals.blocks(SIGINT, status: "no mask here") == false)
    }

    @Test func withoutAHaltSignalAnInitThatBlocksRTMinPlus3GetsIt() {
        // This test process blocks nothing of the kind: SIGPWR.
        #expect(ShutdownSignals.halt(nil, initPID: getpid()) == SIGPWR)
        #expect(ShutdownSignals.reboot(nil) == SIGINT && ShutdownSignals.stop(nil) == SIGKILL)
    }
}

@Suite struct LXCInstanceTests {
    @Test func theCommandSocketIsNamedAsLiblxcNamesIt() {
        #expect(LXCInstance.commandSocket(name: "web", lxcPath: "/var/lib/lxc") == Array("/var/lib/lxc/web/command".utf8))
        // Too long for sun_path: "lxc/" and the FNV-1a 64 hash of "LXCPATH/NAME" in 16 hex digits.
        let long = "/" + String(repeating: "d", count: 100)
        let hashed = String(decoding: LXCInstance.commandSocket(name: "web", lxcPath: long), as: UTF8.self)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(long)/web".utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let hex = String(hash, radix: 16)
        #expect(hashed == "lxc/" + String(repeating: "0", count: 16 - hex.count) + hex + "/command")
    }
}
