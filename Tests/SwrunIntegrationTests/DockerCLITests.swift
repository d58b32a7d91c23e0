import Foundation
import Glibc
import Testing

/// `swrun run` and the everyday verbs as a Docker user types them, on busybox containers
/// with no network but their loopback (the empty config), in a sandbox LXCPATH and cache.
@Suite struct DockerCLITests {
    let sandbox: Sandbox
    let cache: String

    init() throws {
        sandbox = try Sandbox()
        cache = sandbox.path + "/cache"
    }

    /// swrun with the sandbox's cache (named volumes, images) and LXCPATH.
    func swrun(_ arguments: [String], input: String? = nil, timeout: TimeInterval = 60) throws -> Swrun.Result {
        try Swrun.run(arguments, input: input, timeout: timeout, environment: ["SWRUN_CACHE_PATH": cache])
    }

    /// `swrun VERB -P LXCPATH ...`
    func verb(_ verb: String, _ arguments: [String]) throws -> Swrun.Result {
        try swrun([verb, "-P", sandbox.path] + arguments)
    }

    /// `swrun run -P LXCPATH -f EMPTY OPTIONS... busybox COMMAND...`
    func run(_ options: [String], _ command: [String] = [], image: String = "busybox") throws -> Swrun.Result {
        try swrun(["run", "-P", sandbox.path, "-f", sandbox.emptyConfig, "-q"] + options + [image] + command)
    }

    func config(_ name: String) throws -> String { try String(contentsOfFile: "\(sandbox.path)/\(name)/config", encoding: .utf8) }

    func waitFor(_ what: String, seconds: Double = 10, _ check: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try check() { return }
            usleep(100_000)
        }
        Issue.record("timed out waiting for \(what)")
    }

    @Test func runReadsItsCommandLineAsDockersDoes() throws {
        // -h is the hostname, and the command's status is run's.
        let named = try run(["--rm", "-h", "myhost"], ["sh", "-c", "hostname; exit 9"])
        #expect(named.status == 9 && named.stdout == "myhost\n", "\(named)")
        // Everything after the image is the command, options or not.
        let echoed = try run(["--rm"], ["echo", "--name", "x", "--verbose"])
        #expect(echoed.status == 0 && echoed.stdout == "--name x --verbose\n", "\(echoed)")
        let missing = try run(["--rm"], ["--verbose"])
        #expect(missing.status == 127 && missing.stderr.contains("command not found") && !missing.stderr.contains("Usage"), "\(missing)")
        #expect(missing.stderr.contains("was removed (--rm)"), "the hint does not send the user to the removed container: \(missing.stderr)")
        // Help beside work to do is an error, never a silent 0.
        let help = try run(["--rm", "--help"], ["true"])
        #expect(help.status == 125 && help.stderr.contains("--help") && help.stdout.isEmpty, "\(help)")
        #expect(try swrun(["rn"]).stderr.contains("did you mean 'run'"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.path).filter { !$0.hasSuffix(".conf") && $0 != "cache" }.isEmpty,
                "--rm left containers")
    }

    @Test func anExistingNameIsAnErrorUnlessReplaced() throws {
        let name = sandbox.name("named")
        #expect(try run(["--name", name], ["touch", "/first"]).status == 0)
        let again = try run(["--name", name], ["true"])
        #expect(again.status == 125 && again.stderr.contains("a container named '\(name)' exists") && again.stderr.contains("--replace"), "\(again)")
        let replaced = try run(["--name", name, "--replace"], ["sh", "-c", "test ! -e /first"])
        #expect(replaced.status == 0, "the container was made anew: \(replaced)")
        #expect(try verb("rm", [name]).status == 0)
    }

    @Test func aBadValueStopsTheRunBeforeAnythingIsMade() throws {
        for options in [["--memory", "10X"], ["--ulimit", "nofile=9:1"], ["-v", "/nonexistent-swrun:/x"], ["--cap-add", "BOGUS"]] {
            let refused = try run(["--rm"] + options, ["true"])
            #expect(refused.status == 125 && !refused.stderr.contains("building"), "\(options): \(refused)")
        }
        let never = try run(["--rm", "--pull", "never"], ["true"], image: "localhost/nosuch/image:1")
        #expect(never.status == 125 && never.stderr.contains("--pull never"), "\(never)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.path).filter { !$0.hasSuffix(".conf") && $0 != "cache" }.isEmpty)
    }

    /// A bare word that is no template, cached image or file: the error says all that was
    /// tried. The registry is reached through a proxy on loopback that is not there, so
    /// nothing leaves the host.
    @Test func anUnknownTemplateSaysWhatWasTried() throws {
        let result = try Swrun.run(["create", "-P", sandbox.path, "-n", sandbox.name("none"), "-t", "nosuchtemplate", "-f", sandbox.emptyConfig],
                                   environment: ["SWRUN_CACHE_PATH": cache, "https_proxy": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
                                                 "http_proxy": "http://127.0.0.1:9", "LXC_CACHE_PATH": cache + "/lxc"])
        #expect(result.status == 1 && result.stderr.contains("no template, image or tarball is named 'nosuchtemplate'")
                && result.stderr.contains("busybox, download"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.path).filter { !$0.hasSuffix(".conf") && $0 != "cache" }.isEmpty)
    }

    /// `swrun images` lists what SWRUN_CACHE_PATH holds, LXC's downloads included.
    @Test func imagesListTheCacheTheVariableNames() throws {
        let build = cache + "/lxc/download/fixture/1.0/amd64/default"
        try FileManager.default.createDirectory(atPath: build, withIntermediateDirectories: true)
        try "20261204_00:00\n".write(toFile: build + "/build_id", atomically: false, encoding: .utf8)
        let listed = try swrun(["images"])
        #expect(listed.status == 0 && listed.stdout.contains("fixture/1.0/amd64/default"), "\(listed)")
    }

    @Test func flagsShapeTheContainerThroughLXCKeys() throws {
        let name = sandbox.name("flags")
        let host = sandbox.path + "/shared"
        try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
        try "from the host\n".write(toFile: host + "/note", atomically: false, encoding: .utf8)
        let envFile = sandbox.write("env.list", "# a comment\nFROM_FILE=yes\n")
        let script = """
            echo "$A $FROM_FILE $HOSTNAME"; pwd; id -u; id -g; ulimit -n; ulimit -Hn
            cat /mnt/shared/note; touch /mnt/shared/x 2>/dev/null && echo wrote-host || echo host-ro
            touch /tmp/x 2>/dev/null && echo wrote-root || echo root-ro
            touch /scratch/x && echo scratch-ok; grep db /etc/hosts; grep nameserver /etc/resolv.conf
            grep CapBnd /proc/self/status; grep -q ' /data ' /proc/mounts && echo volume-ok
            """
        let ran = try run(["--name", name, "-e", "A=1", "--env-file", envFile, "-w", "/work/deep", "-u", "1000:1000",
                           "--ulimit", "nofile=100:200", "--read-only", "-v", "\(host):/mnt/shared:ro", "-v", "vol1:/data",
                           "--tmpfs", "/scratch", "--add-host", "db:10.1.2.3", "--dns", "10.9.9.9", "--cap-drop", "ALL",
                           "--hostname", "flagged", "--label", "tier=web"], ["sh", "-c", script])
        let lines = ran.stdout.split(separator: "\n").map(String.init)
        #expect(ran.status == 0, "\(ran)")
        #expect(lines.first == "1 yes flagged" && lines.dropFirst().first == "/work/deep", "\(lines)")
        #expect(Array(lines.dropFirst(2).prefix(4)) == ["1000", "1000", "100", "200"], "\(lines)")
        #expect(lines.contains("from the host") && lines.contains("host-ro") && lines.contains("root-ro") && lines.contains("scratch-ok"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("10.1.2.3") && $0.hasSuffix("db # written by swrun") } && lines.contains("nameserver 10.9.9.9"), "\(lines)")
        #expect(lines.contains("CapBnd:\t0000000000000000") && lines.contains("volume-ok"), "\(lines)")
        #expect(!FileManager.default.fileExists(atPath: host + "/x"))
        #expect(FileManager.default.fileExists(atPath: cache + "/volumes/vol1"), "the named volume lives in the cache")
        let text = try config(name)
        for line in ["lxc.prlimit.nofile = 100:200", "lxc.rootfs.options = ro", "lxc.cap.keep = none", "lxc.uts.name = flagged",
                     "lxc.init.cwd = /work/deep", "lxc.environment = A=1"] {
            #expect(text.contains(line), "\(line) missing from\n\(text)")
        }
        let inspect = try verb("inspect", [name])
        #expect(inspect.status == 0 && inspect.stdout.contains(#""Labels":{"tier":"web"}"#) && inspect.stdout.contains(#""ReadonlyRootfs":true"#), "\(inspect)")
        #expect(try verb("rm", [name]).status == 0)
    }

    @Test func detachedContainersStopOnSIGTERMAndKeepTheirOutput() throws {
        let name = sandbox.name("detached")
        let started = try run(["-d", "--name", name], ["sh", "-c", "echo hello; trap 'echo bye; exit 3' TERM; while true; do sleep 1; done"])
        #expect(started.status == 0 && started.stdout == name + "\n", "\(started)")
        try waitFor("hello in the logs") { try verb("logs", [name]).stdout == "hello\n" }
        let stamped = try verb("logs", ["-t", name]).stdout
        #expect(stamped.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z hello\n$"#, options: .regularExpression) != nil, "\(stamped)")
        let ps = try verb("ps", [])
        #expect(ps.stdout.contains(name) && ps.stdout.contains("Up"), "\(ps)")
        let exec = try verb("exec", ["-e", "X=1", "-w", "/tmp", "-u", "1000", name, "sh", "-c", "echo $X $(pwd) $(id -u)"])
        #expect(exec.status == 0 && exec.stdout == "1 /tmp 1000\n", "\(exec)")
        let stop = try verb("stop", [name])
        #expect(stop.status == 0 && !stop.stderr.contains("killed"), "SIGTERM, not SIGPWR then SIGKILL: \(stop)")
        let all = try verb("ps", ["-a", "--format", "json"])
        #expect(all.stdout.contains(#""exit_code":3"#) && all.stdout.contains("Exited (3)"), "\(all)")
        #expect(try verb("logs", ["--tail", "1", name]).stdout == "bye\n")
        #expect(try verb("ps", []).stdout.contains(name) == false)
        #expect(try verb("rm", [name]).status == 0)
    }

    @Test func theMonitorRestartsAsTheRestartPolicySays() throws {
        let name = sandbox.name("restarts")
        let started = try run(["-d", "--name", name, "--restart", "on-failure:2"], ["sh", "-c", "echo try; exit 4"])
        #expect(started.status == 0, "\(started)")
        try waitFor("two restarts and a stop", seconds: 20) { try verb("ps", ["-a"]).stdout.contains("Exited (4)") }
        #expect(try verb("logs", [name]).stdout == "try\ntry\ntry\n")
        // A stop asked for is not restarted, whatever the policy.
        let always = sandbox.name("always")
        #expect(try run(["-d", "--name", always, "--restart", "always"], ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]).status == 0)
        #expect(try verb("stop", [always]).status == 0)
        usleep(800_000)
        #expect(try verb("ps", ["-q"]).stdout.contains(always) == false)
        #expect(try verb("rm", ["-f", name, always]).status == 0)
    }

    @Test func signalsPauseAndRestartReachInit() throws {
        let name = sandbox.name("signals")
        #expect(try run(["-d", "--name", name], ["sh", "-c", "trap 'exit 5' HUP; while true; do sleep 1; done"]).status == 0)
        #expect(try verb("pause", [name]).status == 0)
        #expect(try verb("ps", []).stdout.contains("Paused"))
        #expect(try verb("unpause", [name]).status == 0)
        #expect(try verb("restart", ["-t", "1", name]).status == 0)
        #expect(try verb("ps", []).stdout.contains(name))
        #expect(try verb("kill", ["-s", "HUP", name]).status == 0)
        try waitFor("init to end on SIGHUP") { try verb("ps", ["-a"]).stdout.contains("Exited (5)") }
        let stats = try verb("stats", ["--no-stream"])
        #expect(stats.status == 0 && stats.stdout.hasPrefix("NAME"), "\(stats)")
        let df = try swrun(["system", "-P", sandbox.path, "df", "--format", "json"])
        #expect(df.status == 0 && df.stdout.contains(#""type":"Containers","total":1"#), "\(df)")
        let prune = try swrun(["container", "-P", sandbox.path, "prune", "-f"])
        #expect(prune.status == 0 && prune.stdout == name + "\n", "\(prune)")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)"))
    }

    @Test func entrypointPrivilegedAndHostNetwork() throws {
        let replaced = try run(["--rm", "--entrypoint", "/bin/echo"], ["from", "entrypoint"])
        #expect(replaced.status == 0 && replaced.stdout == "from entrypoint\n", "\(replaced)")
        let privileged = try run(["--rm", "--privileged"], ["sh", "-c", "grep CapBnd /proc/self/status; grep ' /sys ' /proc/mounts"])
        #expect(privileged.status == 0, "\(privileged)")
        let capabilities = privileged.stdout.split(separator: "\n").first.map { String($0.split(separator: "\t").last ?? "") } ?? ""
        #expect(UInt64(capabilities, radix: 16).map { $0 & (1 << 21) != 0 } == true, "CAP_SYS_ADMIN is kept: \(privileged.stdout)")
        #expect(privileged.stdout.contains(" rw,"), "/sys is writable: \(privileged.stdout)")
        // The host's network namespace: its links are there (nothing is sent).
        let host = try run(["--rm", "--network", "host"], ["sh", "-c", "readlink /proc/self/ns/net"])
        let own = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")
        #expect(host.status == 0 && host.stdout == own + "\n", "\(host)")
    }

    /// --network BRIDGE: a veth on it with a leased address, in a network namespace of the test's own.
    @Test func aNamedBridgeGivesTheContainerALeasedAddress() throws {
        let script = """
            ip link add br0 type bridge && ip addr add 10.97.0.1/24 dev br0 && ip link set br0 up && ip link set lo up
            '\(Swrun.binary)' run -P '\(sandbox.path)' -f '\(sandbox.emptyConfig)' -q --rm --network br0 busybox sh -c 'ip -4 -o addr show eth0; ping -c 1 -W 2 10.97.0.1 >/dev/null && echo reached'
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["-n", "sh", "-c", script]
        process.environment = ProcessInfo.processInfo.environment.merging(["SWRUN_CACHE_PATH": cache]) { $1 }
        let ran = try Swrun.runProcess(process, timeout: 60)
        #expect(ran.status == 0 && ran.stdout.contains("inet 10.97.0.") && ran.stdout.contains("reached"), "\(ran)")
    }

    @Test func topQuitsOnQ() throws {
        let name = sandbox.name("top")
        #expect(try run(["-d", "--name", name], ["sleep", "100"]).status == 0)
        let top = try ConsoleSession(["top", "-P", sandbox.path, "-d", "1"])
        #expect(top.read(until: name), "\(top.output)")
        top.type("q")
        let deadline = Date().addingTimeInterval(5)
        while top.process.isRunning && Date() < deadline { usleep(50_000) }
        #expect(!top.process.isRunning && top.process.terminationStatus == 0, "top ends on q")
        #expect(try verb("rm", ["-f", name]).status == 0)
    }

    /// cp resolves the container's paths in its root: a link it planted cannot send a copy
    /// to the host's files, in either direction.
    @Test func cpStaysInsideTheContainer() throws {
        let name = sandbox.name("cp")
        #expect(try run(["-d", "--name", name], ["sh", "-c", "ln -s / /escape; ln -s /etc/hostname /hostlink; sleep 100"]).status == 0)
        try waitFor("the links") { try verb("exec", [name, "test", "-L", "/hostlink"]).status == 0 }
        let marker = "swrun-cp-\(UUID().uuidString.prefix(8))"
        let file = sandbox.write("in.txt", "copied in\n")
        #expect(try verb("cp", [file, "\(name):/escape/tmp/\(marker)"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(marker)"), "the copy went to the host's /tmp")
        #expect(try verb("exec", [name, "cat", "/tmp/\(marker)"]).stdout == "copied in\n")
        let out = sandbox.path + "/out"
        #expect(try verb("cp", ["\(name):/escape/etc/hostname", out]).status == 0)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == name + "\n", "the container's /etc/hostname, not the host's")
        let link = sandbox.path + "/link"
        #expect(try verb("cp", ["\(name):/hostlink", link]).status == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "/etc/hostname", "a link is copied as a link")
        #expect(try verb("rm", ["-f", name]).status == 0)
        // A stopped container's files are reached as well.
        let stopped = sandbox.name("cpstopped")
        #expect(try run(["--name", stopped], ["sh", "-c", "echo kept > /kept"]).status == 0)
        #expect(try verb("cp", ["\(stopped):/kept", out]).status == 0)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "kept\n")
        #expect(try verb("rm", [stopped]).status == 0)
    }

    /// An image's config as Docker applies it: its user's home and groups, HOSTNAME, a
    /// WorkingDir that is made, and its stop signal; the image made here with commit.
    @Test func anImagesConfigIsAppliedAsDockerAppliesIt() throws {
        let base = sandbox.name("base")
        try sandbox.create(base)
        let rootfs = "\(sandbox.path)/\(base)/rootfs"
        let passwd = try String(contentsOfFile: rootfs + "/etc/passwd", encoding: .utf8)
        try (passwd + "app:x:1000:1000:app:/home/app:/bin/sh\n").write(toFile: rootfs + "/etc/passwd", atomically: false, encoding: .utf8)
        let group = try String(contentsOfFile: rootfs + "/etc/group", encoding: .utf8)
        try (group + "app:x:1000:\nstaff:x:50:app\n").write(toFile: rootfs + "/etc/group", atomically: false, encoding: .utf8)
        let image = "localhost/swrun-test/fidelity:\(UUID().uuidString.prefix(8).lowercased())"
        let committed = try swrun(["commit", "-P", sandbox.path, "-c", "USER app", "-c", "WORKDIR /srv/work", "-c", "STOPSIGNAL SIGQUIT",
                                   base, image])
        #expect(committed.status == 0, "\(committed)")
        let name = sandbox.name("fidelity")
        let ran = try run(["--name", name], ["sh", "-c", "id; pwd; echo $HOME $HOSTNAME"], image: image)
        #expect(ran.status == 0, "\(ran)")
        #expect(ran.stdout == "uid=1000(app) gid=1000(app) groups=50(staff)\n/srv/work\n/home/app \(name)\n", "\(ran.stdout)")
        #expect(try config(name).contains("lxc.signal.halt = SIGQUIT"))
        #expect(try verb("rm", [name]).status == 0)
        #expect(try swrun(["image", "rm", image]).status == 0)
    }
}

/// The README's session for Docker users, run as written: every documented command must work.
@Suite struct DockerTourTests {
    static func tourCommands() throws -> [String] {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent()  // Tests/SwrunIntegrationTests
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        guard let start = text.range(of: "<!-- docker-tour -->"), let end = text.range(of: "<!-- /docker-tour -->") else { return [] }
        return text[start.upperBound..<end.lowerBound].split(separator: "\n").map(String.init)
            .filter { $0.hasPrefix("swrun ") }
    }

    @Test func theReadmesDockerSessionRunsAsWritten() throws {
        let commands = try Self.tourCommands()
        #expect(commands.count >= 8, "the README's docker-tour block: \(commands)")
        let sandbox = try Sandbox()
        // In a network namespace of its own, swrun makes the default bridge there; -P goes
        // right after each verb (options come before a command's arguments).
        var script = "set -e; cd '\(sandbox.path)'; export SWRUN_CACHE_PATH='\(sandbox.path)/cache'\n"
        script += "swrun() { verb=$1; shift; '\(Swrun.binary)' \"$verb\" -P '\(sandbox.path)' \"$@\"; }\n"
        for command in commands { script += "echo '>>> \(command.replacingOccurrences(of: "'", with: ""))'\n\(command)\n" }
        script += "echo '>>> done'\n"
        // The bridge the session made on demand, with its NAT state under /run/swrun, goes too.
        script += "'\(Swrun.binary)' net down >/dev/null\n"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["-n", "bash", "-c", script]
        let ran = try Swrun.runProcess(process, timeout: 120)
        #expect(ran.status == 0 && ran.stdout.hasSuffix(">>> done\n"), "\(ran.stdout)\n\(ran.stderr)")
        #expect(ran.stdout.contains("hello"), "logs shows the greeting")
        #expect(ran.stdout.contains("0.0.0.0:8080->80/tcp"), "ps shows the port")
        #expect(ran.stdout.contains("Exited ("), "ps -a shows how it ended")
        #expect(try String(contentsOfFile: sandbox.path + "/hostname", encoding: .utf8) == "web\n")
        #expect(!FileManager.default.fileExists(atPath: sandbox.path + "/web"), "rm removed it")
        #expect(sandbox.containerCgroups().isEmpty)
    }
}
