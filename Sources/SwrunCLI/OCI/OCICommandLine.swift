import CLinux
import Glibc
import SwrunConfig
import SwrunJSON
import SwrunRuntime
import SwrunSystem

/// runc's command line, as container engines call it: `swrun-oci [GLOBAL] COMMAND [OPTIONS] ID`.
/// The binary answers to it under the name swrun-oci (a link `make install` makes), or as
/// `swrun oci ...`; `swrun create` and `swrun start` stay LXC's.
public enum OCICommandLine {
    public static let defaultRoot = "/run/swrun-oci"

    /// Global options, before the command (Go's flag syntax: -x or --x, a value after a space or '=').
    struct Globals {
        var root = OCICommandLine.defaultRoot
        var logPath: String?
        var logJSON = false
    }

    public static func main(_ words: [String]) -> Int32 {
        Subprocess.setProcessName("swrun-oci")
        var globals = Globals()
        var arguments = OCIArguments(words)
        let log = OCILog()
        do throws(SwrunError) {
            while let option = arguments.nextOption() {
                switch option {
                case "root": globals.root = FileSystem.absolutePath(try arguments.value(for: option))
                case "log": globals.logPath = try arguments.value(for: option)
                case "log-format": globals.logJSON = try arguments.value(for: option) == "json"
                case "debug": break
                case "criu": _ = try arguments.value(for: option)
                case "systemd-cgroup":
                    throw SwrunError(.invalidArgument, "--systemd-cgroup is not supported: swrun manages cgroups through cgroupfs",
                                     hint: "set the engine's cgroup manager to cgroupfs (podman --cgroup-manager=cgroupfs; containerd: SystemdCgroup = false)")
                case "rootless":
                    let value = try arguments.value(for: option)
                    if value == "true" { throw SwrunError(.invalidArgument, "--rootless=true is not supported", hint: "run swrun-oci as root") }
                case "help", "h": print(usage, terminator: ""); return 0
                case "version", "v": print("swrun-oci version \(SwrunCLI.version)\nspec: \(OCIContainer.specVersion)"); return 0
                default: throw SwrunError(.invalidArgument, "flag provided but not defined: -\(option)", hint: "see `swrun-oci --help`")
                }
            }
            log.open(path: globals.logPath, json: globals.logJSON)
            guard let command = arguments.next() else { print(usage, terminator: ""); return 0 }
            let runtime = OCIRuntime(root: globals.root, warn: { log.write("warning", $0) })
            let code = try run(command, &arguments, runtime: runtime)
            fflush(nil)
            return code
        } catch {
            log.open(path: globals.logPath, json: globals.logJSON)
            log.write("error", error.description)
            fflush(nil)
            switch error.code {
            case .commandNotFound: return 127
            case .commandNotExecutable: return 126
            default: return 1
            }
        }
    }

    static let usage = """
        usage: swrun-oci [--root DIR] [--log FILE] [--log-format text|json] COMMAND [OPTIONS] ID
        An OCI runtime with runc's command line, over swrun's container core.

        commands:
          create   --bundle DIR [--pid-file F] [--console-socket S] [--preserve-fds N] ID
          start    ID                      run the created container's process
          run      --bundle DIR [--detach] [--pid-file F] [--console-socket S] ID
          state    ID                      the container's state, as JSON
          kill     ID [SIGNAL] [--all]     SIGTERM unless given
          delete   [--force] ID
          exec     [--process FILE | ID COMMAND...] [--detach] [--tty] [--pid-file F] [--console-socket S] ID
          ps       [--format table|json] ID
          pause    ID                      freeze every process of the container
          resume   ID
          update   --resources FILE|- ID   new linux.resources limits
                   [--memory N] [--memory-swap N] [--memory-reservation N] [--cpu-shares N]
                   [--cpu-quota N] [--cpu-period N] [--cpuset-cpus L] [--cpuset-mems L]
                   [--pids-limit N] [--blkio-weight N] [--cpu-rt-period N] [--cpu-rt-runtime N]
                   [--l3-cache-schema S] [--mem-bw-schema S] ID   (the last two: its resctrl group's)
          events   [--stats] [--interval 5s] ID   cgroup stats and OOM kills, as JSON lines
          list     [--format table|json] [--quiet]
          features                         what this runtime supports, as JSON
          spec     [--bundle DIR]          write a config.json to start from

        """

    private static func run(_ command: String, _ arguments: inout OCIArguments, runtime: OCIRuntime) throws(SwrunError) -> Int32 {
        // These run swrun's code in the container: from a sealed view of the binary, as `swrun start` does.
        if swrun_command_enters_containers(command, 1) != 0 { try SealedExecutable.reexecIfNeeded() }
        switch command {
        case "create", "run":
            var options = OCIRuntime.CreateOptions(bundle: ".")
            var detach = false
            while let option = arguments.nextOption() {
                switch option {
                case "bundle", "b": options.bundle = try arguments.value(for: option)
                case "pid-file": options.pidFile = try arguments.value(for: option)
                case "console-socket": options.consoleSocket = try arguments.value(for: option)
                case "preserve-fds": options.preservedFDs = try arguments.count(for: option)
                case "detach", "d" where command == "run": detach = true
                case "no-pivot", "no-new-keyring", "keep", "no-subreaper": break
                default: throw arguments.unknown(option, command)
                }
            }
            let id = try arguments.id(command)
            if command == "create" {
                try runtime.create(id: id, options)
                return 0
            }
            return try runtime.run(id: id, options, detach: detach)
        case "start":
            try runtime.start(id: try arguments.id(command))
            return 0
        case "state":
            print(try runtime.state(id: try arguments.id(command)).serialized)
            return 0
        case "kill":
            var all = false
            while let option = arguments.nextOption() {
                guard option == "all" || option == "a" else { throw arguments.unknown(option, command) }
                all = true
            }
            let id = try arguments.id(command)
            let name = arguments.next() ?? "SIGTERM"
            guard let signal = SignalNames.parse(name) ?? Int32(name) else {
                throw SwrunError(.invalidArgument, "unknown signal \"\(name)\"", hint: "for example SIGTERM, KILL or 9")
            }
            try runtime.kill(id: id, signal: signal, all: all)
            return 0
        case "delete":
            var force = false
            while let option = arguments.nextOption() {
                guard option == "force" || option == "f" else { throw arguments.unknown(option, command) }
                force = true
            }
            try runtime.delete(id: try arguments.id(command), force: force)
            return 0
        case "list":
            var json = false, quiet = false
            while let option = arguments.nextOption() {
                switch option {
                case "format", "f": json = try arguments.value(for: option) == "json"
                case "quiet", "q": quiet = true
                default: throw arguments.unknown(option, command)
                }
            }
            let containers = runtime.list()
            if json {
                print(JSONValue.array(containers.map { $0.stateDocument() }).serialized)
            } else if quiet {
                for container in containers { print(container.id) }
            } else {
                print(table(["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"], containers.map { container in
                    let status = container.status
                    return [container.id, String(status == .stopped ? 0 : container.initProcess?.pid ?? 0), status.rawValue,
                            container.bundle, container.created, "root"]
                }), terminator: "")
            }
            return 0
        case "ps":
            var json = false
            while let option = arguments.nextOption() {
                guard option == "format" || option == "f" else { throw arguments.unknown(option, command) }
                json = try arguments.value(for: option) == "json"
            }
            let id = try arguments.id(command)
            let pids = try runtime.processes(id: id)
            if json {
                print(JSONValue.array(pids.map { .number(String($0)) }).serialized)
                return 0
            }
            return try printProcessTable(pids, psArguments: arguments.rest())
        case "pause", "resume":
            try runtime.setPaused(id: try arguments.id(command), command == "pause")
            return 0
        case "update":
            // As runc: --resources wins; the single flags stand for the fields they name.
            var resources: String?
            var flags = OCIUpdateFlags()
            while let option = arguments.nextOption() {
                if option == "resources" || option == "r" {
                    resources = try arguments.value(for: option)
                } else if OCIUpdateFlags.knows(option) {
                    try flags.set(option, try arguments.value(for: option))
                } else {
                    throw arguments.unknown(option, command)
                }
            }
            let id = try arguments.id(command)
            if let resources {
                let bytes = try FileSystem.readBytes(resources == "-" ? "/dev/stdin" : resources)
                try runtime.update(id: id, resources: bytes, source: resources == "-" ? "stdin" : resources)
            } else {
                guard !flags.isEmpty else {
                    throw SwrunError(.invalidArgument, "update needs --resources FILE or a limit flag", hint: "for example --memory 512m, or --resources FILE (- reads stdin)")
                }
                if flags.setsResources { try runtime.update(id: id, resources: try flags.resources(), source: "update's flags") }
            }
            if flags.setsSchemata { try runtime.updateSchemata(id: id, l3CacheSchema: flags.l3CacheSchema, memBwSchema: flags.memBwSchema) }
            return 0
        case "events":
            var statsOnce = false
            var interval = 5.0
            while let option = arguments.nextOption() {
                switch option {
                case "stats": statsOnce = true
                case "interval":
                    let text = try arguments.value(for: option)
                    guard let seconds = OCIArguments.duration(text), seconds > 0 else {
                        throw SwrunError(.invalidArgument, "invalid value \"\(text)\" for flag -interval", hint: "a duration, e.g. 5s, 500ms or 1m")
                    }
                    interval = seconds
                default: throw arguments.unknown(option, command)
                }
            }
            try runtime.events(id: try arguments.id(command), statsOnce: statsOnce, interval: interval) { line in
                print(line)
                fflush(nil)
            }
            return 0
        case "exec":
            return try exec(&arguments, runtime: runtime)
        case "features":
            print(OCIFeatures.document.serialized)
            return 0
        case "spec":
            var bundle = "."
            while let option = arguments.nextOption() {
                switch option {
                case "bundle", "b": bundle = try arguments.value(for: option)
                case "rootless": break
                default: throw arguments.unknown(option, command)
                }
            }
            let path = FileSystem.join(FileSystem.absolutePath(bundle), "config.json")
            guard !FileSystem.exists(path) else {
                throw SwrunError(.alreadyExists, "File \(path) exists. Remove it first", hint: "or write the new one elsewhere with --bundle")
            }
            try FileSystem.writeAtomically(path, OCIFeatures.defaultSpec.serialized + "\n", mode: 0o644)
            return 0
        default:
            throw SwrunError(.invalidArgument, "no such command: \(command)", hint: "see `swrun-oci --help`")
        }
    }

    private static func exec(_ arguments: inout OCIArguments, runtime: OCIRuntime) throws(SwrunError) -> Int32 {
        var processFile: String?
        var detach = false, terminal = false, noNewPrivileges = false
        var pidFile: String?, consoleSocket: String?, cwd: String?
        var environment: [String] = [], capabilities: [String] = [], groups: [gid_t] = []
        var user: (uid_t, gid_t)?
        var preserved = 0
        while let option = arguments.nextOption() {
            switch option {
            case "process", "p": processFile = try arguments.value(for: option)
            case "detach", "d": detach = true
            case "tty", "t": terminal = true
            case "pid-file": pidFile = try arguments.value(for: option)
            case "console-socket": consoleSocket = try arguments.value(for: option)
            case "cwd": cwd = try arguments.value(for: option)
            case "env", "e": environment.append(try arguments.value(for: option))
            case "cap", "c": capabilities.append(try arguments.value(for: option))
            case "no-new-privs": noNewPrivileges = true
            case "preserve-fds": preserved = try arguments.count(for: option)
            case "additional-gids", "g":
                guard let group = gid_t(try arguments.value(for: option)) else { throw SwrunError(.invalidArgument, "--additional-gids takes a number") }
                groups.append(group)
            case "user", "u":
                let text = try arguments.value(for: option)
                let parts = text.split(separator: ":", maxSplits: 1)
                guard let uid = uid_t(parts[0]), let gid = parts.count > 1 ? gid_t(parts[1]) : 0 else {
                    throw SwrunError(.invalidArgument, "--user \(text) is not UID[:GID]", hint: "for example --user 1000:1000")
                }
                user = (uid, gid)
            case "process-label", "apparmor":
                if !(try arguments.value(for: option)).isEmpty {
                    throw SwrunError(.invalidArgument, "--\(option) is not supported: swrun applies no LSM labels", hint: "drop it")
                }
            default: throw arguments.unknown(option, "exec")
            }
        }
        let id = try arguments.id("exec")
        let source: OCIExec.Source = if let processFile { .processFile(processFile) } else {
            .inline(args: arguments.rest(), cwd: cwd, environment: environment, user: user, additionalGroups: groups,
                    addedCapabilities: capabilities, noNewPrivileges: noNewPrivileges, terminal: terminal)
        }
        var exec = OCIExec(source: source)
        exec.detach = detach
        exec.pidFile = pidFile
        exec.consoleSocket = consoleSocket
        exec.preservedFDs = preserved
        return try exec.run(in: runtime, id: id)
    }

    /// runc's table: `ps` run on the host (with the arguments after the id, -ef by default),
    /// keeping the header and the lines of the container's processes.
    private static func printProcessTable(_ pids: [pid_t], psArguments: [String]) throws(SwrunError) -> Int32 {
        let (status, output) = try Subprocess.run(["ps"] + (psArguments.isEmpty ? ["-ef"] : psArguments))
        guard status == 0 else { throw SwrunError(.system, "ps failed (exit \(status))", hint: "check the ps arguments after the id") }
        let lines = String(decoding: output, as: UTF8.self).split(separator: "\n")
        guard let header = lines.first else { return 0 }
        guard let column = header.split(separator: " ").firstIndex(of: "PID") else {
            throw SwrunError(.invalidArgument, "ps printed no PID column", hint: "keep the PID column in the ps format")
        }
        print(header)
        for line in lines.dropFirst() {
            let fields = line.split(separator: " ")
            if column < fields.count, let pid = pid_t(fields[column]), pids.contains(pid) { print(line) }
        }
        return 0
    }
}

/// The words of runc's command line, with Go's flag syntax: -x and --x alike, a value after
/// a space or '=', options until the first word that is not one (or `--`).
struct OCIArguments {
    private var words: [String]
    private var pendingValue: String?

    init(_ words: [String]) { self.words = words }

    /// The next option's name, or nil when the next word is not an option.
    mutating func nextOption() -> String? {
        guard let word = words.first, word.hasPrefix("-"), word != "-" else { return nil }
        words.removeFirst()
        if word == "--" { return nil }
        let name = word.drop { $0 == "-" }
        if let equals = name.firstIndex(of: "=") {
            pendingValue = String(name[name.index(after: equals)...])
            return String(name[..<equals])
        }
        pendingValue = nil
        return String(name)
    }

    mutating func value(for option: String) throws(SwrunError) -> String {
        if let pendingValue {
            self.pendingValue = nil
            return pendingValue
        }
        guard !words.isEmpty else { throw SwrunError(.invalidArgument, "flag needs an argument: -\(option)", hint: "give it a value") }
        return words.removeFirst()
    }

    mutating func count(for option: String) throws(SwrunError) -> Int {
        let text = try value(for: option)
        guard let number = Int(text), number >= 0 else { throw SwrunError(.invalidArgument, "-\(option): '\(text)' is not a count", hint: "give a number, e.g. 1") }
        return number
    }

    /// A Go duration as runc's flags take it ("5s", "500ms", "1m30s", "1h"), in seconds.
    static func duration(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("us", 0.000_001), ("µs", 0.000_001), ("ns", 0.000_000_001), ("h", 3600), ("m", 60), ("s", 1)]
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isNumber || $0 == "." }
            guard let number = Double(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            guard let (unit, scale) = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.count)
            total += number * scale
        }
        return total
    }

    mutating func next() -> String? { words.isEmpty ? nil : words.removeFirst() }

    mutating func id(_ command: String) throws(SwrunError) -> String {
        guard let id = next() else {
            throw SwrunError(.invalidArgument, "\"\(command)\" requires a container id", hint: "swrun-oci \(command) [OPTIONS] ID")
        }
        return id
    }

    /// Everything left, after an optional `--`.
    mutating func rest() -> [String] {
        if words.first == "--" { words.removeFirst() }
        defer { words = [] }
        return words
    }

    func unknown(_ option: String, _ command: String) -> SwrunError {
        SwrunError(.invalidArgument, "flag provided but not defined: -\(option)", hint: "see `swrun-oci --help` for \(command)'s options")
    }
}

/// Where swrun-oci's messages go: stderr, and the --log file (as JSON lines with
/// --log-format json, which containerd's shim and conmon read back for the error).
final class OCILog {
    private var fd: Int32 = -1
    private var json = false

    func open(path: String?, json: Bool) {
        guard fd < 0, let path else { return }
        fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        self.json = json
    }

    func write(_ level: String, _ message: String) {
        printError("swrun-oci: \(level): \(message)")
        guard fd >= 0 else { return }
        let line = json
            ? JSONValue.object(["level": .string(level), "msg": .string(message), "time": .string(OCIContainer.now())]).serialized
            : "\(OCIContainer.now()) \(level): \(message)"
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    deinit { if fd >= 0 { close(fd) } }
}
