import CLinux
import Glibc
import SwrunSystem
import Testing

@Suite struct ProcessIdentityTests {
    /// Field 22 of /proc/self/stat, read the plain way.
    private func startTimeFromStat() throws -> UInt64 {
        let text = try FileSystem.readText("/proc/self/stat")
        let afterName = try #require(text.lastIndex(of: ")"))
        let words = text[text.index(after: afterName)...].split(separator: " ")
        return try #require(UInt64(words[19]))
    }

    @Test func theStartTimeIsField22OfStat() throws {
        let identity = try #require(ProcessIdentity.current)
        #expect(identity.pid == getpid())
        #expect(identity.startTime == (try startTimeFromStat()))
        #expect(identity.isAlive)
    }

    @Test func aRecycledPidIsNotTheSameProcess() throws {
        let identity = try #require(ProcessIdentity.current)
        #expect(ProcessIdentity(pid: identity.pid, startTime: identity.startTime + 1).isAlive == false)
        #expect(ProcessIdentity.of(-1) == nil)
    }

    @Test func aZombieIsNotAlive() throws {
        let pid = swrun_raw_fork()
        if pid == 0 { _exit(0) }
        #expect(pid > 0)
        defer { var status: Int32 = 0; waitpid(pid, &status, 0) }
        let identity = try #require(ProcessIdentity.of(pid))
        // Until it is reaped, the child stays as a zombie with its start time.
        var tries = 0
        while identity.isAlive && tries < 1000 {
            usleep(1000)
            tries += 1
        }
        #expect(identity.isAlive == false)
        #expect(ProcessIdentity.of(pid) == identity)
    }
}
