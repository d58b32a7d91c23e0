import Foundation
import CLinux
import Glibc
import Testing

/// Exit codes, signals, pipes, terminals, and the command's environment.
@Suite struct ProcessTests {
    @Test(arguments: [("exit 42", Int32(42)), ("kill -TERM $$", Int32(143)), ("kill -KILL $$", Int32(137)), ("true", Int32(0))])
    func exitStatusPropagates(script: String, expected: Int32) throws {
        let sandbox = try Sandbox(), name = sandbox.name("exit")
        try sandbox.create(name)
        let result = try sandbox.execute(name, ["sh", "-c", script])
        #expect(result.status == expected, "\(result.stderr)")
    }

    @Test func missingCommandIs127AndNamesThePath() throws {
        let sandbox = try Sandbox(), name = sandbox.name("nocmd")
        try sandbox.create(name)
        let result = try sandbox.execute(name, ["/usr/bin/no-such-tool"])
        #expect(result.status == 127)
        #expect(result.stderr.contains("/usr/bin/no-such-tool"), "\(result.stderr)")
        #expect(result.stderr.contains("not found"))
    }

    @Test func pipesCarryDataBothWays() throws {
        let sandbox = try Sandbox(), name = sandbox.name("pipe")
        try sandbox.create(name)
        let echo = try sandbox.execute(name, ["sh", "-c", "echo hi"])
        #expect(echo.stdout == "hi\n")
        let cat = try sandbox.execute(name, ["cat"], input: "through the container\n")
        #expect(cat.stdout == "through the container\n")
        #expect(cat.status == 0)
    }

    @Test func signalToSwrunReachesTheCommand() throws {
        let sandbox = try Sandbox(), name = sandbox.name("sig")
        try sandbox.create(name)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Swrun.binary)
        process.arguments = ["execute", "-n", name, "-P", sandbox.path, "--", "sh", "-c", "trap 'exit 7' TERM; echo ready; while true; do sleep 0.1; done"]
        let result = try Swrun.runProcess(process) { process in
            Thread.sleep(forTimeInterval: 1.5)
            kill(process.processIdentifier, SIGTERM)
        }
        #expect(result.status == 7, "\(result.stderr)")
        #expect(result.stdout == "ready\n")
    }

    @Test func initUserGroupEnvironmentAndDirectoryApply() throws {
        let sandbox = try Sandbox(), name = sandbox.name("ids")
        try sandbox.create(name)
        let result = try sandbox.execute(name, ["sh", "-c", "id -u; id -g; echo $FOO; pwd; echo $container"],
                                         options: ["-s", "lxc.init.uid=1000", "-s", "lxc.init.gid=1001",
                                                   "-s", "lxc.environment=FOO=bar", "-s", "lxc.init.cwd=/tmp"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "1000\n1001\nbar\n/tmp\nlxc\n")
    }

    @Test func hostEnvironmentDoesNotLeak() throws {
        let sandbox = try Sandbox(), name = sandbox.name("env")
        try sandbox.create(name)
        let result = try sandbox.execute(name, ["env"])
        #expect(result.status == 0, "\(result.stderr)")
        let names = Set(result.stdout.split(separator: "\n").compactMap { $0.split(separator: "=").first.map(String.init) })
        #expect(names.isSubset(of: ["PATH", "container", "HOME", "PWD", "SHLVL"]), "\(names)")
    }

    @Test func ptySessionIsInteractiveAndFollowsTheWindowSize() throws {
        let sandbox = try Sandbox(), name = sandbox.name("pty")
        try sandbox.create(name)
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        try #require(master >= 0)
        defer { close(master) }
        var unlock: Int32 = 0
        _ = swrun_ioctl_ptr(master, swrun_TIOCSPTLCK, &unlock)
        var size = winsize(ws_row: 33, ws_col: 99, ws_xpixel: 0, ws_ypixel: 0)
        _ = swrun_ioctl_ptr(master, swrun_TIOCSWINSZ, &size)
        let slave = swrun_ioctl_int(master, swrun_TIOCGPTPEER, O_RDWR | O_NOCTTY)
        try #require(slave >= 0)
        defer { close(slave) }
        var before = termios()
        tcgetattr(slave, &before)
        let terminal = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Swrun.binary)
        process.arguments = ["execute", "-n", name, "-P", sandbox.path, "--", "/bin/sh"]
        process.standardInput = terminal
        process.standardOutput = terminal
        process.standardError = terminal
        try process.run()
        let script = "echo product=$((6*7)); stty size; tty; exit 3\n"
        _ = script.withCString { write(master, $0, strlen($0)) }
        var output = ""
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            var entry = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            if poll(&entry, 1, 200) > 0 {
                let count = read(master, &buffer, buffer.count)
                if count <= 0 { break }
                output += String(decoding: buffer[0..<count], as: UTF8.self)
            } else if !process.isRunning {
                break
            }
        }
        process.waitUntilExit()
        #expect(process.terminationStatus == 3, "\(output)")
        #expect(output.contains("product=42"), "\(output)")
        #expect(output.contains("33 99"), "the window size follows: \(output)")
        #expect(output.contains("/dev/pts/0"), "a pty from the container's own devpts: \(output)")
        var after = termios()
        tcgetattr(slave, &after)
        #expect(after.c_lflag == before.c_lflag && after.c_iflag == before.c_iflag && after.c_oflag == before.c_oflag,
                "swrun put the terminal back as it found it")
    }

    @Test func explainShowsTheRealCalls() throws {
        let sandbox = try Sandbox(), name = sandbox.name("explain")
        try sandbox.create(name)
        let result = try sandbox.execute(name, ["true"], options: ["--explain"])
        #expect(result.status == 0, "\(result.stderr)")
        for call in ["clone3(CLONE_NEWNS|", "pivot_root(\".\", \".\")", "mount(\"proc\", \"/proc\", \"proc\"", "sethostname(\"\(name)\"",
                     "prctl(PR_CAPBSET_DROP", "execve(", "RTM_NEWLINK"] {
            #expect(result.stderr.contains(call), "missing \(call)")
        }
    }

    /// Init (execute's reaper) is never the OOM killer's pick; the command keeps the usual
    /// score. Lowering a score takes CAP_SYS_RESOURCE, which some sandboxes deny even to root:
    /// there init keeps 0 too, and that is what is checked.
    @Test func initIsShieldedFromTheOOMKillerButNotTheCommand() throws {
        let sandbox = try Sandbox(), name = sandbox.name("oomadj")
        try sandbox.create(name)
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let effective = status.split(separator: "\n").first { $0.hasPrefix("CapEff:") }.flatMap { UInt64($0.split(separator: "\t").last ?? "", radix: 16) } ?? 0
        let canLower = effective & (1 << 24) != 0  // CAP_SYS_RESOURCE
        let result = try sandbox.execute(name, ["sh", "-c", "sleep 0.5; cat /proc/1/oom_score_adj /proc/self/oom_score_adj"])
        #expect(result.stdout == (canLower ? "-1000\n0\n" : "0\n0\n"), "\(result.stdout) \(result.stderr)")
    }
}
