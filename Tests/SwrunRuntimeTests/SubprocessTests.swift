import Foundation
import Glibc
import SwrunSystem
import Testing

private let busybox = "/bin/busybox"

/// Helper programs run on the host, and a program given as an open file (as `start -d`
/// spawns its monitor from a protected view of swrun's binary, which no path names).
@Suite struct SubprocessTests {
    @Test func capturesStdoutAndStatus() throws {
        let echo = try Subprocess.run([busybox, "echo", "hello"])
        #expect(echo.status == 0)
        #expect(echo.output == Array("hello\n".utf8))
        let failing = try Subprocess.run([busybox, "sh", "-c", "exit 3"])
        #expect(failing.status == 3)
        let killed = try Subprocess.run([busybox, "sh", "-c", "kill -9 $$"])
        #expect(killed.status == 128 + 9)
    }

    @Test func stdinIsEmpty() throws {
        let result = try Subprocess.run([busybox, "wc", "-c"])
        #expect(String(decoding: result.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    @Test func missingProgramIsCommandNotFound() {
        do throws(SwrunError) {
            _ = try Subprocess.run(["/nonexistent/program"])
            Issue.record("ran a missing program")
        } catch {
            #expect(error.code == .commandNotFound)
        }
    }

    /// Runs `sh -c script` from an fd of /bin/sh, with a pipe as its fd 3; returns what it printed.
    private func runShellFromFD(_ script: String) throws -> String {
        let shell = open("/bin/sh", O_RDONLY | O_CLOEXEC)
        try #require(shell >= 0)
        defer { close(shell) }
        let (output, outputEnd) = try FileSystem.makePipe()
        let (passed, passedEnd) = try FileSystem.makePipe()
        defer { close(passed); close(passedEnd) }
        let pid = try Subprocess.spawn(["sh", "-c", script], executable: "/nonexistent", executableFD: shell,
                                       stdout: .fd(outputEnd), passing: passedEnd)
        close(outputEnd)
        let printed = try FileSystem.readAll(output)
        close(output)
        #expect(try waitForProcess(pid).shellExitCode == 0)
        return String(decoding: printed, as: UTF8.self)
    }

    @Test func theProgramOnAnFDRunsWithOnlyStdioAndFD3() throws {
        // The fd the program came from closed at its exec, like every other fd of ours.
        let fds = try runShellFromFD("ls /proc/$$/fd")  // the shell's, listed by its child
        #expect(fds == "0\n1\n2\n3\n")
    }

    @Test func theProgramOnAnFDIsThatFile() throws {
        let resolved = try #require(realpath("/bin/sh", nil))
        defer { free(resolved) }
        #expect(try runShellFromFD("readlink /proc/$$/exe") == String(cString: resolved) + "\n")
    }
}
