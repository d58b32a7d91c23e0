import CLinux
import Foundation
import Glibc
import Testing

/// Runs the built swrun binary as a separate process, as a user would.
enum Swrun {
    /// .build/<triple>/debug/swrun, beside this test bundle; SWRUN_BIN overrides.
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["SWRUN_BIN"] { return path }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("swrun").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return ".build/debug/swrun"
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs swrun with `arguments`, `input` on stdin (else /dev/null), and a time limit.
    @discardableResult
    static func run(_ arguments: [String], input: String? = nil, timeout: TimeInterval = 60,
                    environment: [String: String] = [:]) throws -> Result {
        let process = process(arguments)
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        return try runProcess(process, input: input, timeout: timeout)
    }

    static func runProcess(_ process: Process, input: String? = nil, stdin: FileHandle? = nil, timeout: TimeInterval = 60,
                           whileRunning: (Process) throws -> Void = { _ in }) throws -> Result {
        let running = try Running(process, input: input, stdin: stdin)
        try whileRunning(process)
        return try running.finish(timeout: timeout)
    }

    /// A started process whose output goes to files (no pipe to fill up and block it).
    final class Running {
        let process: Process
        private let scratch: URL
        private let out: FileHandle, err: FileHandle
        private let done = DispatchSemaphore(value: 0)

        /// `stdin`, when given, is the process's stdin as it is (a terminal, say); else `input`, else /dev/null.
        init(_ process: Process, input: String? = nil, stdin: FileHandle? = nil) throws {
            self.process = process
            scratch = FileManager.default.temporaryDirectory.appendingPathComponent("swrun-out-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: scratch.appendingPathComponent("out").path, contents: nil)
            FileManager.default.createFile(atPath: scratch.appendingPathComponent("err").path, contents: nil)
            out = try FileHandle(forWritingTo: scratch.appendingPathComponent("out"))
            err = try FileHandle(forWritingTo: scratch.appendingPathComponent("err"))
            process.standardOutput = out
            process.standardError = err
            let inputPipe = Pipe()
            process.standardInput = stdin ?? (input == nil ? FileHandle(forReadingAtPath: "/dev/null") : inputPipe)
            let done = self.done
            process.terminationHandler = { _ in done.signal() }
            try process.run()
            if let input {
                inputPipe.fileHandleForWriting.write(Data(input.utf8))
                try inputPipe.fileHandleForWriting.close()
            }
        }

        func finish(timeout: TimeInterval = 60) throws -> Result {
            defer { try? FileManager.default.removeItem(at: scratch) }
            if done.wait(timeout: .now() + timeout) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                done.wait()
                Issue.record("\(process.arguments ?? []) did not finish within \(timeout) s")
            }
            try out.close()
            try err.close()
            return Result(status: process.terminationStatus,
                          stdout: try String(contentsOf: scratch.appendingPathComponent("out"), encoding: .utf8),
                          stderr: try String(contentsOf: scratch.appendingPathComponent("err"), encoding: .utf8))
        }
    }

    /// A swrun process set up but not started.
    static func process(_ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        return process
    }
}

/// A private LXCPATH for one test, removed afterwards with everything in it.
final class Sandbox {
    let path: String
    let emptyConfig: String

    init() throws {
        var template = Array("/tmp/swrun-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        path = String(cString: made)
        emptyConfig = path + "/empty.conf"
        FileManager.default.createFile(atPath: emptyConfig, contents: Data())
    }

    deinit {
        removeLeftoverCgroups()
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The cgroups of this LXCPATH's containers below this process's own, in every hierarchy
    /// (swrun names them swrun-NAME-HASH, HASH from the LXCPATH).
    func containerCgroups() -> [String] {
        var hash: UInt32 = 2_166_136_261  // FNV-1a, as ContainerCgroup.leafName
        for byte in path.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let hex = String(hash, radix: 16)
        let suffix = "-" + String(repeating: "0", count: 8 - hex.count) + hex
        return ownCgroupDirectories().flatMap { base in
            ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [])
                .filter { $0.hasPrefix("swrun-") && $0.hasSuffix(suffix) }.map { base + "/" + $0 }
        }
    }

    /// The cgroups a failed test left, emptied and removed, deepest first.
    private func removeLeftoverCgroups() {
        for leftover in containerCgroups() {
            let procs = (try? String(contentsOfFile: leftover + "/cgroup.procs", encoding: .utf8)) ?? ""
            for pid in procs.split(separator: "\n").compactMap({ pid_t($0) }) where pid > 0 { kill(pid, SIGKILL) }
            _ = try? shell("find '\(leftover)' -depth -type d -exec rmdir {} + 2>/dev/null")
        }
    }

    /// A unique container name for this test.
    func name(_ base: String = "c") -> String { "\(base)-\(UUID().uuidString.prefix(8).lowercased())" }

    /// Creates a busybox container with no default config, so the host's default.conf cannot leak in.
    @discardableResult
    func create(_ name: String, config: String? = nil) throws -> Swrun.Result {
        let result = try Swrun.run(["create", "-n", name, "-t", "busybox", "-P", path, "-f", config ?? emptyConfig])
        #expect(result.status == 0, "create failed: \(result.stderr)")
        return result
    }

    /// `swrun execute -n NAME -P PATH [extra] -- command...`
    func execute(_ name: String, _ command: [String], options: [String] = [], input: String? = nil) throws -> Swrun.Result {
        try Swrun.run(["execute", "-n", name, "-P", path] + options + ["--"] + command, input: input)
    }

    func write(_ relativePath: String, _ text: String) -> String {
        let full = path + "/" + relativePath
        FileManager.default.createFile(atPath: full, contents: Data(text.utf8))
        return full
    }
}

/// Mount points of this (the host's) mount namespace.
func hostMountInfo() throws -> String {
    try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
}

/// A swrun command (`console`, say) on a pty of the test's own, typed into and read as a
/// user at a terminal would.
final class ConsoleSession {
    private let master: Int32
    private let slave: Int32
    let process: Process
    private(set) var output = ""

    init(_ arguments: [String]) throws {
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        try #require(master >= 0)
        var unlock: Int32 = 0
        _ = swrun_ioctl_ptr(master, swrun_TIOCSPTLCK, &unlock)
        slave = swrun_ioctl_int(master, swrun_TIOCGPTPEER, O_RDWR | O_NOCTTY)
        try #require(slave >= 0)
        let terminal = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
        process = Swrun.process(arguments)
        process.standardInput = terminal
        process.standardOutput = terminal
        process.standardError = terminal
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        close(master)
        close(slave)
    }

    func type(_ text: String) { _ = text.withCString { write(master, $0, strlen($0)) } }

    /// Reads what the terminal shows until `marker` appears; false after `seconds`.
    @discardableResult
    func read(until marker: String, seconds: Double = 15) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(seconds)
        while !output.contains(marker) && Date() < deadline {
            var entry = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            if poll(&entry, 1, 200) > 0 {
                let count = Glibc.read(master, &buffer, buffer.count)
                if count > 0 { output += String(decoding: buffer[0..<count], as: UTF8.self) }
            }
        }
        return output.contains(marker)
    }

    /// Ctrl+a q, as `swrun console` is left; returns its exit status.
    func detach() -> Int32 {
        type("\u{01}q")
        read(until: "Detached")
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// This process's own cgroup directory in every hierarchy under /sys/fs/cgroup.
func ownCgroupDirectories() -> [String] {
    let text = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? ""
    var result: [String] = []
    for line in text.split(separator: "\n") {
        let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 3 else { continue }
        let mount = fields[1].isEmpty ? "unified" : fields[1].hasPrefix("name=") ? String(fields[1].dropFirst(5)) : fields[1]
        let directory = "/sys/fs/cgroup/\(mount)" + (fields[2] == "/" ? "" : fields[2])
        if FileManager.default.fileExists(atPath: directory) { result.append(directory) }
    }
    return result
}

/// Removes the cgroup `relative` (and its parents up to the first component) below this
/// process's own in every hierarchy: what an lxc.cgroup.dir left, as LXC leaves parents.
func removeCgroupPath(_ relative: String) {
    let components = relative.split(separator: "/").map(String.init)
    for base in ownCgroupDirectories() {
        for depth in stride(from: components.count, to: 0, by: -1) {
            rmdir(base + "/" + components.prefix(depth).joined(separator: "/"))
        }
    }
}
