import CLinux
import Foundation
import Glibc
import Testing

/// Image fixtures built by rootfs-fixtures/ scripts into a scratch directory, and the servers
/// that serve them on 127.0.0.1, stopped (by pid) and removed when the test ends.
final class ImageFixtures {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("rootfs-fixtures").path
    let path: String
    private var servers: [Process] = []
    private var registryDirectories: [String] = []

    init() throws {
        var template = Array("/tmp/swrun-fx-XXXXXX".utf8CString)  // short: gpg-agent puts its socket inside
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        path = String(cString: made)
    }

    deinit {
        for server in servers where server.isRunning { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        for directory in registryDirectories { _ = try? shell("bash '\(Self.scripts)/registry.sh' stop '\(directory)'") }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Runs a fixture script; throws with its output when it fails. Spawned with no fd but
    /// stdio: a server it leaves running must not hold Foundation's exit-watching socket open
    /// (Process would then wait for the server too).
    @discardableResult
    func shell(_ command: String) throws -> String {
        let log = path + "/shell.log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        swrun_spawn_close_from(&actions, 3)
        var pid: pid_t = 0
        let words: [String] = ["sh", "-c", command]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        guard posix_spawn(&pid, "/bin/sh", &actions, nil, argv, environ) == 0 else { throw POSIXError(.EIO) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        guard swrun_wifexited(status) != 0 && swrun_wexitstatus(status) == 0 else { throw FixtureError(command: command, output: output) }
        return output
    }

    /// serve.py on `root`, over TLS with the fixture CA's server certificate when `tls`; returns the base URL.
    /// `log`, when given, gets one line per request; `options` go to serve.py as they are.
    func serve(_ root: String, tls: Bool = false, log: String? = nil, options: [String] = []) throws -> String {
        let port = try startPython("serve.py", ["--root", root] + (tls ? ["--tls", path + "/ca/server.pem", path + "/ca/server.key"] : []) + options,
                                   log: log)
        return (tls ? "https://localhost:" : "http://127.0.0.1:") + String(port)
    }

    /// Starts rootfs-fixtures/proxy.py, its requests logged to `log`; returns its port.
    func startProxy(log: String) throws -> Int {
        try startPython("proxy.py", [], log: log)
    }

    /// Starts the fixture server `script` (it prints its port first), stopped with the fixtures;
    /// its stderr (a line per request) goes to `log`, a file of ours, or nowhere.
    private func startPython(_ script: String, _ arguments: [String], log: String?) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [Self.scripts + "/" + script] + arguments
        let output = Pipe()
        process.standardOutput = output
        // Never createFile on /dev/null: Foundation writes a new file and renames it over the path.
        if let log { FileManager.default.createFile(atPath: log, contents: nil) }
        process.standardError = log.flatMap { FileHandle(forWritingAtPath: $0) } ?? FileHandle.nullDevice
        try process.run()
        servers.append(process)
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { throw FixtureError(command: script, output: "ended before printing its port") }
            line += chunk
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).split(separator: "\n")[0]) else {
            throw FixtureError(command: script, output: String(decoding: line, as: UTF8.self))
        }
        return port
    }

    /// How a fixture registry wants its users to log in (user fixture, password fixture-pass):
    /// not at all, HTTP Basic, or Docker's token auth (a token service of its own, whose
    /// requests are logged to NAME/token.log); registry.sh's modes.
    enum RegistryLogin: String {
        case none = "start", basic = "start-auth", token = "start-token"
    }

    /// Starts a registry holding the OCI layout fixture (over HTTPS with the fixture CA when
    /// `tls`); returns its host:port.
    func startRegistry(_ name: String = "registry", tls: Bool = false, login: RegistryLogin = .none) throws -> String {
        if !FileManager.default.fileExists(atPath: path + "/oci") { try shell("bash '\(Self.scripts)/make-oci-layout.sh' '\(path)/oci'") }
        if tls { try shell("bash '\(Self.scripts)/make-ca.sh' '\(path)/ca'") }
        registryDirectories.append(path + "/" + name)
        try shell((tls ? "FIXTURE_TLS_DIR='\(path)/ca' " : "") + "bash '\(Self.scripts)/registry.sh' \(login.rawValue) '\(path)/\(name)' '\(path)/oci'")
        return try String(contentsOfFile: path + "/\(name)/url", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "http://", with: "").replacingOccurrences(of: "https://", with: "")
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var command: String
    var output: String
    var description: String { "fixture command failed: \(command)\n\(output)" }
}

@Suite(.serialized) struct ImageTests {
    let sandbox: Sandbox
    let fixtures: ImageFixtures
    let caches: [String: String]

    init() throws {
        sandbox = try Sandbox()
        fixtures = try ImageFixtures()
        // Logins go to the fixtures' own file, never to root's ~/.docker/config.json.
        caches = ["LXC_CACHE_PATH": fixtures.path + "/lxc-cache", "SWRUN_CACHE_PATH": fixtures.path + "/swrun-cache",
                  "REGISTRY_AUTH_FILE": fixtures.path + "/auth.json", "SWRUN_REGISTRIES_CONF": fixtures.path + "/registries.conf"]
    }

    func swrun(_ arguments: [String], timeout: TimeInterval = 120, input: String? = nil, cache: String? = nil) throws -> Swrun.Result {
        try Swrun.run(arguments, input: input, timeout: timeout, environment: caches.merging(cache.map { ["SWRUN_CACHE_PATH": $0] } ?? [:]) { $1 })
    }

    func create(_ name: String, _ options: [String]) throws -> Swrun.Result {
        try swrun(["create", "-n", name, "-t", "download", "-P", sandbox.path, "-f", sandbox.emptyConfig, "--"] + options)
    }

    /// The keys swrun ships (KEYS/HOST.gpg, SWRUN_KEYS_DIR here) check a server's signatures
    /// with no --keyring; a key vouches only for its own host's images.
    @Test func theKeyShippedForTheServersHostChecksItsSignatures() throws {
        try fixtures.shell("bash '\(ImageFixtures.scripts)/make-image-server.sh' '\(fixtures.path)/srv'")
        let http = try fixtures.serve(fixtures.path + "/srv")
        let keys = fixtures.path + "/shipped-keys"
        try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixtures.path + "/srv/keys/fixture.gpg", toPath: keys + "/127.0.0.1.gpg")
        let image = ["-d", "swrunfix", "-r", "1.0", "-a", "amd64", "--flush-cache"]
        func create(_ name: String, _ server: String) throws -> Swrun.Result {
            try Swrun.run(["create", "-n", name, "-t", "download", "-P", sandbox.path, "-f", sandbox.emptyConfig, "--", "--server", server] + image,
                          timeout: 120, environment: caches.merging(["SWRUN_KEYS_DIR": keys]) { $1 })
        }
        let made = try create(sandbox.name("shipped"), http)
        #expect(made.status == 0, "\(made.stderr)")
        let foreign = try create(sandbox.name("shippedbad"), http + "/badsig")
        #expect(foreign.status != 0 && foreign.stderr.contains("not in the keyrings") && foreign.stderr.contains("127.0.0.1.gpg"), "\(foreign.stderr)")
        // The same server by another name has no shipped key: plain HTTP is then refused.
        let unkeyed = try create(sandbox.name("unkeyed"), http.replacingOccurrences(of: "127.0.0.1", with: "localhost"))
        #expect(unkeyed.status != 0 && unkeyed.stderr.contains("no signing key and no HTTPS"), "\(unkeyed.stderr)")
    }

    /// An architecture the host cannot run is refused before the server is even asked: the
    /// server named here does not exist, and the error is the architecture's.
    @Test func anImageOfAnArchitectureTheHostCannotRunIsNotDownloaded() throws {
        let refused = try swrun(["create", "-n", sandbox.name("arm"), "-t", "download", "-P", sandbox.path, "--",
                                 "--server", "http://127.0.0.1:9/", "-d", "debian", "-r", "bookworm", "-a", "arm64"])
        #expect(refused.status == 1 && refused.stderr.contains("cannot run arm64 images (-a arm64)"), "\(refused.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.path).filter { !$0.hasSuffix(".conf") }.isEmpty)
    }

    @Test func lxcImageServerBothFormatsVerified() throws {
        try fixtures.shell("bash '\(ImageFixtures.scripts)/make-image-server.sh' '\(fixtures.path)/srv' && bash '\(ImageFixtures.scripts)/make-ca.sh' '\(fixtures.path)/ca'")
        let http = try fixtures.serve(fixtures.path + "/srv")
        let keyring = fixtures.path + "/srv/keys/fixture.gpg"
        let image = ["-d", "swrunfix", "-r", "1.0", "-a", "amd64"]

        // Without -d and -r: the list of what the server has.
        let list = try swrun(["create", "-n", "unused", "-t", "download", "--", "--server", http])
        #expect(list.status == 0 && list.stdout.contains("swrunfix") && list.stdout.contains("2.0"))
        let json = try swrun(["images", "--remote", "--server", http, "--format", "json"])
        #expect(json.status == 0 && json.stdout.hasPrefix("[{") && json.stdout.contains(#""dist":"swrunfix""#), "\(json)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.path + "/unused"))

        // The legacy index over HTTP, signatures checked with the fixture's key.
        let legacy = sandbox.name("legacy")
        let made = try create(legacy, ["--server", http, "--keyring", keyring] + image)
        #expect(made.status == 0, "\(made.stderr)")
        let rootfs = sandbox.path + "/" + legacy + "/rootfs"
        #expect(try String(contentsOfFile: rootfs + "/etc/fixture-release", encoding: .utf8).contains("20261129_00:00"))
        let config = try String(contentsOfFile: sandbox.path + "/" + legacy + "/config", encoding: .utf8)
        #expect(config.contains("lxc.mount.auto = cgroup:mixed proc:mixed sys:mixed") && !config.contains("LXC_TEMPLATE_CONFIG"))
        let ran = try sandbox.execute(legacy, ["cat", "/etc/fixture-release", "/etc/hostname"])
        #expect(ran.status == 0 && ran.stdout == "20261129_00:00\n\(legacy)\n", "the templates file's LXC_NAME becomes the name: \(ran.stdout)")
        #expect(FileManager.default.fileExists(atPath: fixtures.path + "/lxc-cache/download/swrunfix/1.0/amd64/default/build_id"))

        // A corrupt rootfs and a signature by another key are refused; no container is left.
        let corrupt = try create(sandbox.name("corrupt"), ["--server", http + "/bad", "--keyring", keyring, "--flush-cache"] + image)
        #expect(corrupt.status != 0 && corrupt.stderr.contains("does not verify"))
        let cache = fixtures.path + "/lxc-cache/download/swrunfix/1.0/amd64/default"
        let cached = try FileManager.default.contentsOfDirectory(atPath: cache).filter { !$0.hasPrefix(".lock") }
        #expect(cached.isEmpty, "a refused download left \(cached) in the cache")
        let foreign = try create(sandbox.name("foreign"), ["--server", http + "/badsig", "--keyring", keyring, "--flush-cache"] + image)
        #expect(foreign.status != 0 && foreign.stderr.contains("not in the keyrings"))
        // Simplestreams over HTTPS (a server without the legacy index), sha256 from the index.
        try FileManager.default.removeItem(atPath: fixtures.path + "/srv/meta")
        try FileManager.default.removeItem(atPath: fixtures.path + "/srv/bad/meta")
        let https = try fixtures.serve(fixtures.path + "/srv", tls: true)
        let streams = try create(sandbox.name("streams"), ["--server", https, "--ca-file", fixtures.path + "/ca/ca.pem", "--flush-cache"] + image)
        #expect(streams.status == 0, "\(streams.stderr)")
        let untrusted = try create(sandbox.name("untrusted"), ["--server", https, "--flush-cache"] + image)
        #expect(untrusted.status != 0 && untrusted.stderr.contains("--ca-file"))

        // The checksum simplestreams gives is checked too.
        let streamsCorrupt = try create(sandbox.name("sums"), ["--server", https + "/bad", "--ca-file", fixtures.path + "/ca/ca.pem", "--flush-cache"] + image)
        #expect(streamsCorrupt.status != 0 && streamsCorrupt.stderr.contains("rootfs.tar.xz"), "\(streamsCorrupt.stderr)")
        // Over plain HTTP those checksums come over the same open connection: without a key, refused.
        let streamsPlain = try create(sandbox.name("plain"), ["--server", http, "--flush-cache"] + image)
        #expect(streamsPlain.status != 0 && streamsPlain.stderr.contains("no signing key and no HTTPS"), "\(streamsPlain.stderr)")
        // --no-validate passes with a warning.
        let unchecked = try create(sandbox.name("unchecked"), ["--server", http + "/badsig", "--no-validate", "--flush-cache"] + image)
        #expect(unchecked.status == 0 && unchecked.stderr.contains("not verifying"))
        let unknown = try create(sandbox.name("unknown"), ["--server", http, "--keyring", keyring, "-d", "nosuch", "-r", "1"])
        #expect(unknown.status != 0 && unknown.stderr.contains("has no image nosuch"))
        let names = try FileManager.default.contentsOfDirectory(atPath: sandbox.path).filter { !$0.hasSuffix(".conf") }.sorted()
        #expect(names.count == 3 && names.allSatisfy { $0.hasPrefix("legacy") || $0.hasPrefix("streams") || $0.hasPrefix("unchecked") })
    }

    /// A --no-validate download filled the cache, and a later verified create of the same
    /// build took it from there unchecked.
    @Test func anUnverifiedDownloadNeverFillsTheCache() throws {
        try fixtures.shell("bash '\(ImageFixtures.scripts)/make-image-server.sh' '\(fixtures.path)/srv'")
        let http = try fixtures.serve(fixtures.path + "/srv")
        let keyring = ["--keyring", fixtures.path + "/srv/keys/fixture.gpg"]
        let image = ["-d", "swrunfix", "-r", "1.0", "-a", "amd64"]
        let cache = fixtures.path + "/lxc-cache/download/swrunfix/1.0/amd64/default"
        let unchecked = try create(sandbox.name("unchecked"), ["--server", http + "/badsig", "--no-validate"] + image)
        #expect(unchecked.status == 0 && unchecked.stderr.contains("not verifying"), "\(unchecked.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0 != ".lock" } == [], "nothing of it stays in the cache")
        let checked = try create(sandbox.name("checked"), ["--server", http + "/badsig"] + keyring + image)
        #expect(checked.status != 0 && checked.stderr.contains("not in the keyrings"), "\(checked.stderr)")

        // A verified download fills the cache, which an unverified create may then use.
        #expect(try create(sandbox.name("good"), ["--server", http] + keyring + image).status == 0)
        let cached = try create(sandbox.name("cached"), ["--server", http + "/badsig", "--no-validate"] + image)
        #expect(cached.status == 0 && cached.stderr.contains("using the cached image"), "\(cached.stderr)")
    }

    /// Signatures vouch for a file, not for the build it belongs to: an older build's signed
    /// files served under a newer build's path passed, and so did an index that named another
    /// release's directory.
    @Test func theSignedFilesMustBeOfTheBuildTheSignedIndexNames() throws {
        try fixtures.shell("bash '\(ImageFixtures.scripts)/make-image-server.sh' '\(fixtures.path)/srv'")
        let srv = fixtures.path + "/srv"
        // forged/: the index says release 1.0 lives in 2.0's directory; its signature is the real one's.
        try FileManager.default.createDirectory(atPath: srv + "/forged/meta/1.0", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: srv + "/forged/images", withDestinationPath: "../images")
        let index = try String(contentsOfFile: srv + "/meta/1.0/index-system", encoding: .utf8)
        try index.replacingOccurrences(of: "/swrunfix/1.0/", with: "/swrunfix/2.0/").write(toFile: srv + "/forged/meta/1.0/index-system", atomically: false, encoding: .utf8)
        try FileManager.default.copyItem(atPath: srv + "/meta/1.0/index-system.asc", toPath: srv + "/forged/meta/1.0/index-system.asc")
        let http = try fixtures.serve(srv)
        let options = ["--keyring", srv + "/keys/fixture.gpg", "-d", "swrunfix", "-r", "1.0", "-a", "amd64", "--flush-cache"]

        let replayed = try create(sandbox.name("replayed"), ["--server", http + "/replay"] + options)
        #expect(replayed.status != 0 && replayed.stderr.contains("2026-11-01 00:00 UTC, before build 20261129_00:00")
                && replayed.stderr.contains("older build's file"), "\(replayed.stderr)")
        let forged = try create(sandbox.name("forged"), ["--server", http + "/forged"] + options)
        #expect(forged.status != 0 && forged.stderr.contains("index-system is not signed by a trusted key"), "\(forged.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.path).filter { !$0.hasSuffix(".conf") }.isEmpty)
        let honest = try create(sandbox.name("honest"), ["--server", http] + options)
        #expect(honest.status == 0, "\(honest.stderr)")
    }

    /// An image's config was copied whole into the container's: a pre-start hook that runs
    /// on the host, a bind mount of the host's /etc, an empty lxc.cap.drop that keeps every
    /// capability. Only what an image may set is taken.
    @Test func anImagesConfigGivesOnlyWhatAnImageMaySet() throws {
        try fixtures.shell("bash '\(ImageFixtures.scripts)/make-image-server.sh' '\(fixtures.path)/srv'")
        let http = try fixtures.serve(fixtures.path + "/srv")
        let marker = "/tmp/swrun-fixture-hook-ran"
        unlink(marker)
        defer { unlink(marker) }
        let name = sandbox.name("hooks")
        let made = try create(name, ["--server", http, "--keyring", fixtures.path + "/srv/keys/fixture.gpg", "-d", "swrunfix", "-r", "hooks", "-a", "amd64"])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stderr.contains("the image's config sets lxc.hook.pre-start, lxc.mount.entry, lxc.cap.drop, left out"), "\(made.stderr)")
        let config = try String(contentsOfFile: sandbox.path + "/" + name + "/config", encoding: .utf8)
        #expect(!config.contains("lxc.hook") && !config.contains("host-etc") && !config.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces) == "lxc.cap.drop =" }, "\(config)")
        #expect(config.contains("lxc.signal.halt = SIGRTMIN+3") && config.contains("lxc.arch = x86_64"), "\(config)")
        let ran = try sandbox.execute(name, ["true"])
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(!FileManager.default.fileExists(atPath: marker), "the image's hook ran on the host")
    }

    /// A device node in an image opens a host device from the container: images get none.
    @Test func imagesGetNoDeviceNodes() throws {
        let tarball = fixtures.path + "/nodes.tar"
        try fixtures.shell("""
            python3 -c 'import io, sys, tarfile
            with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as tar:
                for name, major, minor in (("x/kmsg", 1, 11), ("x/mem", 1, 1)):
                    node = tarfile.TarInfo(name); node.type = tarfile.CHRTYPE; node.devmajor, node.devminor = major, minor
                    tar.addfile(node)
                plain = tarfile.TarInfo("x/file"); plain.size = 3
                tar.addfile(plain, io.BytesIO(b"yes"))' '\(tarball)'
            """)
        let name = sandbox.name("nodes")
        let made = try swrun(["create", "-n", name, "-t", tarball, "-P", sandbox.path, "-f", sandbox.emptyConfig])
        #expect(made.status == 0 && made.stderr.contains("skipped 2 device nodes"), "\(made.stderr)")
        let rootfs = sandbox.path + "/" + name + "/rootfs"
        #expect(FileManager.default.fileExists(atPath: rootfs + "/x/file"))
        #expect(!FileManager.default.fileExists(atPath: rootfs + "/x/kmsg") && !FileManager.default.fileExists(atPath: rootfs + "/x/mem"))
    }

    @Test func anUnreachableServerIsNamedWithAWayOut() throws {
        let result = try create(sandbox.name("offline"), ["--server", "https://127.0.0.1:1", "-d", "debian", "-r", "bookworm"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("127.0.0.1:1") && result.stderr.contains("--server") && result.stderr.contains("swrun import"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.path).filter { !$0.hasSuffix(".conf") }.isEmpty)
    }

    @Test func anUnprivilegedContainerFromAnImageServer() throws {
        try fixtures.shell("bash '\(ImageFixtures.scripts)/make-image-server.sh' '\(fixtures.path)/srv'")
        let http = try fixtures.serve(fixtures.path + "/srv")
        chmod(sandbox.path, 0o755)  // the mapped root walks through it to its rootfs
        let name = sandbox.name("userns")
        let maps = sandbox.write("maps.conf", "lxc.idmap = u 0 300000 65536\nlxc.idmap = g 0 300000 65536\n")
        let made = try swrun(["create", "-n", name, "-t", "download", "--unprivileged", "-P", sandbox.path, "-f", maps, "--",
                              "--server", http, "--keyring", fixtures.path + "/srv/keys/fixture.gpg", "-d", "swrunfix", "-r", "1.0", "-a", "amd64"])
        #expect(made.status == 0, "\(made.stderr)")
        var st = stat()
        lstat(sandbox.path + "/" + name + "/rootfs/bin/busybox", &st)
        #expect(st.st_uid == 300000 && st.st_gid == 300000)
        let ran = try sandbox.execute(name, ["sh", "-c", "id -u; cat /etc/fixture-release"])
        #expect(ran.status == 0 && ran.stdout == "0\n20261129_00:00\n", "\(ran.stderr)")
    }

    @Test func anInterruptedDownloadResumes() throws {
        try fixtures.shell("bash '\(ImageFixtures.scripts)/make-image-server.sh' '\(fixtures.path)/srv'")
        // Every file's first request breaks off halfway through; the next one asks for the rest.
        let log = fixtures.path + "/requests.log"
        let http = try fixtures.serve(fixtures.path + "/srv", log: log)
        let made = try create(sandbox.name("resumed"), ["--server", http + "/drop-once", "--keyring", fixtures.path + "/srv/keys/fixture.gpg",
                                                       "-d", "swrunfix", "-r", "1.0", "-a", "amd64"])
        #expect(made.status == 0, "\(made.stderr)")
        let requests = try String(contentsOfFile: log, encoding: .utf8)
        #expect(requests.contains("rootfs.tar.xz range=bytes="), "\(requests)")
    }

    @Test func twoCreatesAtOnceShareOneDownload() throws {
        try fixtures.shell("bash '\(ImageFixtures.scripts)/make-image-server.sh' '\(fixtures.path)/srv'")
        let http = try fixtures.serve(fixtures.path + "/srv")
        let processes = (0..<2).map { index in
            let process = Swrun.process(["create", "-n", "both-\(index)", "-t", "download", "-P", sandbox.path, "-f", sandbox.emptyConfig, "--",
                                         "--server", http, "--keyring", fixtures.path + "/srv/keys/fixture.gpg", "-d", "swrunfix", "-r", "2.0", "-a", "amd64"])
            process.environment = ProcessInfo.processInfo.environment.merging(caches) { $1 }
            return process
        }
        let running = try processes.map { try Swrun.Running($0) }
        for result in try running.map({ try $0.finish(timeout: 120) }) { #expect(result.status == 0, "\(result.stderr)") }
        for index in 0..<2 {
            #expect(FileManager.default.fileExists(atPath: "\(sandbox.path)/both-\(index)/rootfs/etc/fixture-release"))
        }
    }

    @Test func ociRegistryPullAndRun() throws {
        let registry = try fixtures.startRegistry()
        let pulled = try swrun(["pull", registry + "/fixture/busybox:multi"])
        #expect(pulled.status == 0, "\(pulled.stderr)")
        let images = try swrun(["images", "--format", "json"])
        #expect(images.stdout.contains("fixture/busybox:multi"))

        // The image's argv (sh -c "echo hello from oci"), env and working directory.
        let hello = try swrun(["run", "--rm", "-P", sandbox.path, "-f", sandbox.emptyConfig, registry + "/fixture/busybox:multi"])
        #expect(hello.status == 0 && hello.stdout == "hello from oci\n", "\(hello.stderr)")
        // Whiteouts and the opaque directory applied; a Docker schema 2 copy pulled by run itself.
        let layers = try swrun(["run", "--rm", "-P", sandbox.path, "-f", sandbox.emptyConfig, registry + "/fixture/busybox:v2s2",
                                "--", "ls /data /opaque /usr/share; cat /etc/layer2 /etc/layer3 >/dev/null && pwd && echo $FIXTURE"])
        #expect(layers.status == 0, "\(layers.stderr)")
        #expect(layers.stdout.contains("keep") && !layers.stdout.contains("drop"))
        #expect(layers.stdout.contains("new") && !layers.stdout.contains("old-a") && !layers.stdout.contains("old-b"))
        #expect(!layers.stdout.contains("doc") && !layers.stdout.contains(".wh."))
        #expect(layers.stdout.hasSuffix("/data\noci\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.path).filter { !$0.hasSuffix(".conf") }.isEmpty)

        // create -t takes an image too; execute then runs the image's own argv from swrun.json.
        let named = sandbox.name("oci")
        let created = try swrun(["create", "-n", named, "-t", registry + "/fixture/busybox:multi", "-P", sandbox.path, "-f", sandbox.emptyConfig])
        #expect(created.status == 0, "\(created.stderr)")
        let config = try String(contentsOfFile: sandbox.path + "/" + named + "/config", encoding: .utf8)
        #expect(config.contains("lxc.environment = FIXTURE=oci") && config.contains("lxc.init.cwd = /data"))
        let executed = try sandbox.execute(named, [])
        #expect(executed.status == 0 && executed.stdout == "hello from oci\n", "\(executed.stderr)")

        let missing = try swrun(["pull", registry + "/fixture/busybox:nosuch"])
        #expect(missing.status != 0 && missing.stderr.contains("nosuch"))

        // A registry that wants a login is named as such.
        try fixtures.shell("bash '\(ImageFixtures.scripts)/registry.sh' start-auth '\(fixtures.path)/registry' '\(fixtures.path)/oci'")
        let locked = try String(contentsOfFile: fixtures.path + "/registry/url", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "http://", with: "")
        let refused = try swrun(["pull", locked + "/fixture/busybox:single"])
        #expect(refused.status != 0 && refused.stderr.contains("wants a login"), "\(refused.stderr)")

        // A registry on this machine that speaks TLS: its certificate must verify (--ca-file).
        let secure = try fixtures.startRegistry("registry-tls", tls: true)
        let unverified = try swrun(["pull", secure + "/fixture/busybox:single"])
        #expect(unverified.status != 0 && unverified.stderr.contains("did not verify") && unverified.stderr.contains("--ca-file"), "\(unverified.stderr)")
        let verified = try swrun(["pull", "--ca-file", fixtures.path + "/ca/ca.pem", secure + "/fixture/busybox:single"])
        #expect(verified.status == 0, "\(verified.stderr)")
        let ran = try swrun(["run", "--rm", "--ca-file", fixtures.path + "/ca/ca.pem", "-P", sandbox.path, "-f", sandbox.emptyConfig,
                             secure + "/fixture/busybox:multi"])
        #expect(ran.status == 0 && ran.stdout == "hello from oci\n", "run pulls through the same CA: \(ran.stderr)")

        let removed = try swrun(["image", "rm", registry + "/fixture/busybox:multi"])
        #expect(removed.status == 0)
        #expect(!(try swrun(["images"])).stdout.contains(registry + "/fixture/busybox:multi"))
    }

    /// The hints for a damaged download name --flush-cache: pull has it, and it downloads anew.
    @Test func pullFlushCacheDownloadsTheImageAgain() throws {
        let registry = try fixtures.startRegistry()
        let image = registry + "/fixture/busybox:v2s2"
        let cache = fixtures.path + "/flush-cache"
        #expect(try swrun(["pull", "-q", image], cache: cache).status == 0)
        let blobs = cache + "/oci/blobs/sha256"
        // When each blob was written (an inode number may be reused by the next file).
        func written() throws -> [String: Date] {
            var result: [String: Date] = [:]
            for blob in try FileManager.default.contentsOfDirectory(atPath: blobs) {
                result[blob] = try FileManager.default.attributesOfItem(atPath: blobs + "/" + blob)[.modificationDate] as? Date
            }
            return result
        }
        let before = try written()
        let again = try swrun(["pull", "-q", "--flush-cache", image], cache: cache)
        #expect(again.status == 0 && again.stderr.isEmpty, "\(again)")
        let after = try written()
        #expect(Set(after.keys) == Set(before.keys) && after.allSatisfy { ($0.value ?? .distantPast) > (before[$0.key] ?? nil ?? .distantFuture) },
                "every blob was written anew: \(before) \(after)")
    }

    /// Containers from an image are overlays of its layers, unpacked once in the cache and
    /// shared; each container's changes live in its own upper directory, in LXC's layout, and
    /// the host never sees the mount. Layers stay while a container names them.
    @Test func containersFromAnImageShareItsLayersOnOverlay() throws {
        let registry = try fixtures.startRegistry()
        let image = registry + "/fixture/busybox:v2s2"
        let first = sandbox.name("layered"), second = sandbox.name("layered")
        for name in [first, second] {
            let made = try swrun(["create", "-n", name, "-t", image, "-P", sandbox.path, "-f", sandbox.emptyConfig])
            #expect(made.status == 0, "\(made.stderr)")
        }
        let layerStore = caches["SWRUN_CACHE_PATH"]! + "/oci/layers/sha256/"
        func rootfsPath(_ name: String) throws -> String {
            let config = try String(contentsOfFile: "\(sandbox.path)/\(name)/config", encoding: .utf8)
            return config.split(separator: "\n").first { $0.hasPrefix("lxc.rootfs.path = ") }.map { String($0.dropFirst("lxc.rootfs.path = ".count)) } ?? ""
        }
        let value = try rootfsPath(first)
        let parts = value.split(separator: ":").map(String.init)
        #expect(parts.first == "overlay" && parts.last == "\(sandbox.path)/\(first)/overlay/delta", "\(value)")
        let lowers = Array(parts.dropFirst().dropLast())
        #expect(lowers.count == 3 && lowers.allSatisfy { $0.hasPrefix(layerStore) }, "\(lowers)")
        #expect(try rootfsPath(second) == "overlay:" + (lowers + ["\(sandbox.path)/\(second)/overlay/delta"]).joined(separator: ":"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: layerStore).filter { !$0.hasPrefix(".") }.count == 3)

        // The image as its layers make it, whiteouts and the opaque directory included.
        let ran = try sandbox.execute(first, ["sh", "-c", "ls /data /opaque /usr/share; echo changed > /etc/layer2; rm /etc/layer3; cat /etc/layer2"])
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(ran.stdout.contains("keep") && !ran.stdout.contains("drop") && ran.stdout.contains("new"), "\(ran.stdout)")
        #expect(!ran.stdout.contains("old-a") && !ran.stdout.contains("doc") && !ran.stdout.contains(".wh."), "\(ran.stdout)")
        #expect(ran.stdout.hasSuffix("changed\n"))
        // The changes are the first container's own: in its upper directory, not in the shared layers.
        let delta = "\(sandbox.path)/\(first)/overlay/delta"
        #expect((try? String(contentsOfFile: delta + "/etc/layer2", encoding: .utf8)) == "changed\n")
        var removed = stat()
        #expect(lstat(delta + "/etc/layer3", &removed) == 0 && removed.st_mode & S_IFMT == S_IFCHR && removed.st_rdev == 0, "a whiteout hides it")
        let other = try sandbox.execute(second, ["cat", "/etc/layer2", "/etc/layer3"])
        #expect(other.stdout == "layer2\nlayer3\n", "\(other.stderr)")
        // The mount was the start's own: the host sees an empty mount point.
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(sandbox.path)/\(first)/rootfs").isEmpty)

        // A tag is a second name for the same image: it outlives the first.
        #expect(try swrun(["tag", image, "localhost/tagged/busybox:v1"]).status == 0)
        #expect(try swrun(["images"]).stdout.contains("localhost/tagged/busybox:v1"))
        let badTag = try swrun(["tag", registry + "/fixture/busybox:nosuch", "localhost/x:y"])
        #expect(badTag.status != 0 && badTag.stderr.contains("no cached OCI image"), "\(badTag.stderr)")

        // Layers stay while a container names them, even once the image is gone.
        #expect(try swrun(["image", "rm", image]).status == 0)
        let tagged = try swrun(["run", "--rm", "-P", sandbox.path, "-f", sandbox.emptyConfig, "localhost/tagged/busybox:v1", "--", "cat /etc/layer3"])
        #expect(tagged.status == 0 && tagged.stdout == "layer3\n", "\(tagged.stderr)")
        #expect(try swrun(["image", "rm", "localhost/tagged/busybox:v1"]).status == 0)
        #expect(try swrun(["destroy", "-n", first, "-P", sandbox.path]).status == 0)
        #expect(try swrun(["image", "prune"]).status == 0)
        #expect(lowers.allSatisfy { FileManager.default.fileExists(atPath: $0 + "/bin") || FileManager.default.fileExists(atPath: $0) })
        let still = try sandbox.execute(second, ["cat", "/etc/layer3"])
        #expect(still.status == 0 && still.stdout == "layer3\n", "\(still.stderr)")
        #expect(try swrun(["destroy", "-n", second, "-P", sandbox.path]).status == 0)
        #expect(try swrun(["image", "prune"]).status == 0)
        #expect(lowers.allSatisfy { !FileManager.default.fileExists(atPath: $0) }, "the last user is gone")

        // -B dir copies the image instead, as before.
        let copied = sandbox.name("copied")
        let made = try swrun(["create", "-n", copied, "-t", image, "-B", "dir", "-P", sandbox.path, "-f", sandbox.emptyConfig])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(try rootfsPath(copied) == "dir:\(sandbox.path)/\(copied)/rootfs")
        #expect(FileManager.default.fileExists(atPath: "\(sandbox.path)/\(copied)/rootfs/etc/layer3"))
        let refused = try swrun(["create", "-n", sandbox.name("bad"), "-t", "busybox", "-B", "overlay", "-P", sandbox.path, "-f", sandbox.emptyConfig])
        #expect(refused.status != 0 && refused.stderr.contains("needs an OCI image"), "\(refused.stderr)")
    }

    /// docker save / docker load: archives skopeo writes in both formats load; what swrun
    /// saves, skopeo reads as a docker archive and as an OCI archive, and swrun loads back.
    @Test func imagesGoThroughSaveAndLoadInBothFormats() throws {
        _ = try fixtures.startRegistry()  // makes the fixture's OCI layout
        let layout = fixtures.path + "/oci", work = fixtures.path + "/archives"
        try fixtures.shell("""
            set -e; rm -rf '\(work)'; mkdir '\(work)'; cd '\(work)'
            skopeo copy -q --dest-compress-format gzip oci:'\(layout)':single oci:gz:single
            skopeo copy -q oci:gz:single docker-archive:docker.tar:fixture/busybox:single
            skopeo copy -q oci:'\(layout)':single oci-archive:oci.tar:localhost/fixture/busybox:ocitag
            """)
        let fromDocker = try swrun(["load", "-i", work + "/docker.tar"])
        #expect(fromDocker.status == 0 && fromDocker.stdout == "Loaded image docker.io/fixture/busybox:single\n", "\(fromDocker.stderr)")
        let fromOCI = try swrun(["load", "-i", work + "/oci.tar"])
        #expect(fromOCI.status == 0 && fromOCI.stdout == "Loaded image localhost/fixture/busybox:ocitag\n", "\(fromOCI.stderr)")
        for image in ["fixture/busybox:single", "localhost/fixture/busybox:ocitag"] {
            let ran = try swrun(["run", "--rm", "-P", sandbox.path, "-f", sandbox.emptyConfig, image, "--", "cat /etc/layer3"])
            #expect(ran.status == 0 && ran.stdout == "layer3\n", "\(image): \(ran.stderr)")
        }

        let saved = work + "/saved.tar"
        let wrote = try swrun(["save", "fixture/busybox:single", "localhost/fixture/busybox:ocitag", "-o", saved])
        #expect(wrote.status == 0, "\(wrote.stderr)")
        let seen = try fixtures.shell("""
            skopeo inspect --raw docker-archive:'\(saved)':fixture/busybox:single | sha256sum | cut -c1-8
            skopeo inspect oci-archive:'\(saved)':ocitag | grep -c '"Digest": "sha256:95c3ae23766948589ac64f12d6f7ce2dcd14f5202aabe8f807a8303d652757a7"'
            """)
        #expect(seen.hasSuffix("\n1\n"), "skopeo reads both: \(seen)")
        #expect(try swrun(["image", "rm", "fixture/busybox:single", "localhost/fixture/busybox:ocitag"]).status == 0)
        let back = try swrun(["load", "-i", saved])
        #expect(back.stdout == "Loaded image docker.io/fixture/busybox:single\nLoaded image localhost/fixture/busybox:ocitag\n", "\(back.stderr)")

        // A damaged blob is refused (into a cache without it), and names nothing; a docker
        // archive is no rootfs to import.
        #expect(try swrun(["image", "rm", "fixture/busybox:single", "localhost/fixture/busybox:ocitag"]).status == 0)
        try fixtures.shell("""
            set -e; cd '\(work)'; rm -rf bad; mkdir bad; tar -xf oci.tar -C bad
            layer=$(ls -S bad/blobs/sha256 | head -1); printf 'X' | dd of=bad/blobs/sha256/$layer bs=1 seek=100 conv=notrunc 2>/dev/null
            sed -i 's/ocitag/badtag/' bad/index.json; tar -C bad -cf bad.tar .
            """)
        let refused = try swrun(["load", "-i", work + "/bad.tar"])
        #expect(refused.status != 0 && refused.stderr.contains("holds sha256:"), "\(refused.stderr)")
        #expect(!(try swrun(["images"])).stdout.contains("badtag"))
        let imported = try swrun(["import", work + "/docker.tar", "notarootfs"])
        #expect(imported.status != 0 && imported.stderr.contains("swrun load -i"), "\(imported.stderr)")
    }

    /// docker commit: an overlay container's changes as one layer over its image (whiteouts
    /// and opaque directories as OCI writes them), the config changed as asked; a directory
    /// container as an image of one layer.
    @Test func commitMakesAnImageOfAContainersChanges() throws {
        let registry = try fixtures.startRegistry()
        let image = registry + "/fixture/busybox:v2s2", name = sandbox.name("commit")
        #expect(try swrun(["create", "-n", name, "-t", image, "-P", sandbox.path, "-f", sandbox.emptyConfig]).status == 0)
        let changed = try sandbox.execute(name, ["sh", "-c", "echo new > /newfile; chown 1234:5678 /newfile; rm /etc/layer2; rm -rf /opaque; mkdir /opaque; echo fresh > /opaque/only"])
        #expect(changed.status == 0, "\(changed.stderr)")
        let made = try swrun(["commit", "-P", sandbox.path, "-c", "ENTRYPOINT []", "-c", "CMD [\"cat\", \"/newfile\"]", "-c", "ENV GREETING=hello",
                              "-c", "LABEL stage=test", "-c", "EXPOSE 8080", "-c", "WORKDIR /data", "-m", "my change", "-a", "tester",
                              name, "localhost/committed/busybox:v1"])
        #expect(made.status == 0 && made.stdout.hasPrefix("sha256:"), "\(made.stderr)")
        let ran = try swrun(["run", "--rm", "-P", sandbox.path, "-f", sandbox.emptyConfig, "localhost/committed/busybox:v1"])
        #expect(ran.status == 0 && ran.stdout == "new\n", "\(ran.stderr)")
        let inside = try swrun(["run", "--rm", "-P", sandbox.path, "-f", sandbox.emptyConfig, "localhost/committed/busybox:v1", "--", "sh", "-c",
                                "ls /opaque; test -e /etc/layer2 || echo gone; cat /etc/layer3; echo $GREETING; pwd; stat -c %u:%g /newfile"])
        #expect(inside.stdout == "only\ngone\nlayer3\nhello\n/data\n1234:5678\n", "\(inside.stdout) \(inside.stderr)")

        // The config and the new layer, read back from the cache.
        let cache = caches["SWRUN_CACHE_PATH"]! + "/oci"
        func blob(_ digest: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: cache + "/blobs/sha256/" + digest.dropFirst(7))) }
        let digest = try String(contentsOfFile: cache + "/refs/localhost/committed/busybox/v1", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let manifest = try #require(try JSONSerialization.jsonObject(with: blob(digest)) as? [String: Any])
        let layers = try #require(manifest["layers"] as? [[String: Any]])
        let configDigest = try #require((manifest["config"] as? [String: Any])?["digest"] as? String)
        let config = try #require(try JSONSerialization.jsonObject(with: blob(configDigest)) as? [String: Any])
        let run = try #require(config["config"] as? [String: Any])
        #expect(layers.count == 4 && (layers.last?["mediaType"] as? String) == "application/vnd.oci.image.layer.v1.tar")
        #expect((run["Cmd"] as? [String]) == ["cat", "/newfile"] && (run["Entrypoint"] as? [String]) == [])
        #expect((run["Env"] as? [String])?.contains("GREETING=hello") == true && (run["Labels"] as? [String: String]) == ["stage": "test"])
        #expect((run["ExposedPorts"] as? [String: Any])?.keys.sorted() == ["8080/tcp"] && (run["WorkingDir"] as? String) == "/data")
        let history = try #require(config["history"] as? [[String: Any]])
        #expect((history.last?["comment"] as? String) == "my change" && (history.last?["author"] as? String) == "tester")
        #expect(((config["rootfs"] as? [String: Any])?["diff_ids"] as? [String])?.last == layers.last?["digest"] as? String)
        let listing = try fixtures.shell("tar -tvf '\(cache)/blobs/sha256/\(((layers.last?["digest"] as? String) ?? "").dropFirst(7))'")
        #expect(listing.contains("etc/.wh.layer2") && listing.contains("opaque/.wh..wh..opq") && listing.contains("1234/5678"), "\(listing)")

        // A directory container: one layer, its whole rootfs, with the image's argv.
        let flat = sandbox.name("flat")
        #expect(try swrun(["create", "-n", flat, "-t", image, "-B", "dir", "-P", sandbox.path, "-f", sandbox.emptyConfig]).status == 0)
        #expect(try sandbox.execute(flat, ["sh", "-c", "echo flat > /flatfile"]).status == 0)
        #expect(try swrun(["commit", "-P", sandbox.path, flat, "localhost/committed/flat:v1"]).status == 0)
        let flatRun = try swrun(["run", "--rm", "-P", sandbox.path, "-f", sandbox.emptyConfig, "localhost/committed/flat:v1", "--", "cat /flatfile /etc/layer3"])
        #expect(flatRun.stdout == "flat\nlayer3\n", "\(flatRun.stderr)")
        let bad = try swrun(["commit", "-P", sandbox.path, "-c", "RUN true", flat, "localhost/committed/bad:v1"])
        #expect(bad.status != 0 && bad.stderr.contains("swrun commit takes CMD"), "\(bad.stderr)")
        #expect(try swrun(["image", "rm", "localhost/committed/busybox:v1", "localhost/committed/flat:v1"]).status == 0)
    }

    /// docker push and login: blobs uploaded (in chunks), skipped where the registry has them,
    /// linked from another repository; pulled back by digest; a registry that wants a login
    /// takes the one `swrun login` stored where Docker reads it, and refuses after logout.
    @Test func pushUploadsMountsAndLogsIn() throws {
        let source = try fixtures.startRegistry()
        #expect(try swrun(["pull", source + "/fixture/busybox:single"]).status == 0)
        let registry = try fixtures.startRegistry("empty")
        let target = registry + "/pushed/busybox:v1"
        #expect(try swrun(["tag", source + "/fixture/busybox:single", target]).status == 0)
        let pushed = try swrun(["push", "--chunk-size", "65536", target])
        #expect(pushed.status == 0 && pushed.stderr.contains("uploading") && pushed.stderr.contains("pushed \(target)"), "\(pushed.stderr)")
        let again = try swrun(["push", target])
        #expect(again.status == 0 && again.stderr.components(separatedBy: "already there").count == 5, "config and three layers: \(again.stderr)")
        let other = registry + "/elsewhere/busybox:v2"
        #expect(try swrun(["tag", target, other]).status == 0)
        let mounted = try swrun(["push", other])
        #expect(mounted.status == 0 && mounted.stderr.contains("mounted from"), "\(mounted.stderr)")
        let digest = try #require(pushed.stderr.split(separator: "(").last?.split(separator: ")").first.map(String.init))
        let back = try swrun(["pull", registry + "/elsewhere/busybox@" + digest], cache: fixtures.path + "/other-cache")
        #expect(back.status == 0, "pulled back by digest into another cache: \(back.stderr)")

        let locked = try fixtures.startRegistry("private", login: .basic)
        let privateImage = locked + "/mine/busybox:v1"
        #expect(try swrun(["tag", target, privateImage]).status == 0)
        let refused = try swrun(["push", privateImage])
        #expect(refused.status != 0 && refused.stderr.contains("swrun login \(locked)"), "\(refused.stderr)")
        let wrong = try swrun(["login", "-u", "fixture", "--password-stdin", locked], input: "nope\n")
        #expect(wrong.status != 0 && wrong.stderr.contains("refused the login"), "\(wrong.stderr)")
        let login = try swrun(["login", "-u", "fixture", "--password-stdin", locked], input: "fixture-pass\n")
        #expect(login.status == 0, "\(login.stderr)")
        let stored = try String(contentsOfFile: fixtures.path + "/auth.json", encoding: .utf8)
        #expect(stored.contains(locked) && stored.contains(Data("fixture:fixture-pass".utf8).base64EncodedString()), "\(stored)")
        #expect(try swrun(["push", privateImage]).status == 0)
        #expect(try swrun(["pull", privateImage], cache: fixtures.path + "/private-cache").status == 0)
        #expect(try swrun(["logout", locked]).status == 0)
        let afterLogout = try swrun(["pull", privateImage], cache: fixtures.path + "/third-cache")
        #expect(afterLogout.status != 0 && afterLogout.stderr.contains("wants a login"), "\(afterLogout.stderr)")
    }

    /// An unprivileged container from an image is an overlay too: the shared layers stay root's
    /// on disk and are seen through idmapped mounts as the container's root's; its changes are
    /// stored under its host ids.
    @Test func anUnprivilegedContainerSeesTheSharedLayersIdmapped() throws {
        let registry = try fixtures.startRegistry()
        let name = sandbox.name("idmapped")
        chmod(sandbox.path, 0o711)  // the container's root passes through it to the rootfs
        let maps = sandbox.write("maps.conf", "lxc.net.0.type = empty\nlxc.idmap = u 0 310000 65536\nlxc.idmap = g 0 310000 65536\n")
        let made = try swrun(["create", "-n", name, "-t", registry + "/fixture/busybox:v2s2", "--unprivileged", "-P", sandbox.path, "-f", maps])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(try String(contentsOfFile: "\(sandbox.path)/\(name)/config", encoding: .utf8).contains("lxc.rootfs.path = overlay:"))
        let ran = try sandbox.execute(name, ["sh", "-c", "stat -c %u:%g /etc/layer2 /bin/busybox; echo changed > /etc/layer2; touch /made; stat -c %u /made"])
        #expect(ran.status == 0 && ran.stdout == "0:0\n0:0\n0\n", "\(ran.stdout) \(ran.stderr)")
        let delta = "\(sandbox.path)/\(name)/overlay/delta"
        for path in [delta + "/made", delta + "/etc/layer2"] {
            let owner = try FileManager.default.attributesOfItem(atPath: path)[.ownerAccountID] as? Int
            #expect(owner == 310000, "\(path) is the container root's on the host")
        }
        let layers = caches["SWRUN_CACHE_PATH"]! + "/oci/layers/sha256"
        let shared = try FileManager.default.contentsOfDirectory(atPath: layers).compactMap { layer -> Int? in
            try? FileManager.default.attributesOfItem(atPath: layers + "/" + layer + "/bin/busybox")[.ownerAccountID] as? Int
        }
        #expect(shared == [0], "the shared layer stays root's")
        #expect(!(try hostMountInfo()).contains(sandbox.path))
        #expect(try swrun(["destroy", "-n", name, "-P", sandbox.path]).status == 0)
    }

    /// export and commit of an unprivileged overlay container write the owners it sees
    /// (its host ids shifted back through lxc.idmap), not the host's: the committed image
    /// runs privileged with the same owners, and the export lists them.
    @Test func exportAndCommitOfAnUnprivilegedContainerShowItsOwnIDs() throws {
        let registry = try fixtures.startRegistry()
        let name = sandbox.name("unpriv")
        chmod(sandbox.path, 0o711)
        let maps = sandbox.write("maps.conf", "lxc.net.0.type = empty\nlxc.idmap = u 0 320000 65536\nlxc.idmap = g 0 320000 65536\n")
        #expect(try swrun(["create", "-n", name, "-t", registry + "/fixture/busybox:v2s2", "--unprivileged", "-P", sandbox.path, "-f", maps]).status == 0)
        let ran = try sandbox.execute(name, ["sh", "-c", "touch /made; echo x > /owned; chown 1234:5678 /owned; echo changed > /etc/layer2"])
        #expect(ran.status == 0, "\(ran.stderr)")
        let owner = try FileManager.default.attributesOfItem(atPath: "\(sandbox.path)/\(name)/overlay/delta/owned")[.ownerAccountID] as? Int
        #expect(owner == 321234, "on the host, the file is the shifted id's")

        let exported = sandbox.path + "/unpriv.tar"
        #expect(try swrun(["export", "-n", name, "-P", sandbox.path, "-o", exported]).status == 0)
        let listing = try fixtures.shell("tar --numeric-owner -tvf '\(exported)'")
        func owners(_ path: String) -> String? {
            listing.split(separator: "\n").first { $0.hasSuffix(" " + path) }.map { String($0.split(separator: " ", omittingEmptySubsequences: true)[1]) }
        }
        #expect(owners("./made") == "0/0" && owners("./owned") == "1234/5678" && owners("./bin/busybox") == "0/0" && owners("./") == "0/0", "\(listing)")
        let hostOwned = listing.split(separator: "\n").filter { $0.split(separator: " ", omittingEmptySubsequences: true)[1].hasPrefix("32") }
        #expect(hostOwned.isEmpty, "no host id is left: \(hostOwned)")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)/.export-owners"))

        let committed = try swrun(["commit", "-P", sandbox.path, name, "localhost/committed/unpriv:v1"])
        #expect(committed.status == 0, "\(committed.stderr)")
        let inside = try swrun(["run", "--rm", "-P", sandbox.path, "-f", sandbox.emptyConfig, "localhost/committed/unpriv:v1", "--",
                                "stat -c %u:%g /made /owned /etc/layer2; cat /etc/layer2"])
        #expect(inside.stdout == "0:0\n1234:5678\n0:0\nchanged\n", "\(inside.stdout) \(inside.stderr)")
        #expect(try swrun(["image", "rm", "localhost/committed/unpriv:v1"]).status == 0)
        #expect(try swrun(["destroy", "-n", name, "-P", sandbox.path]).status == 0)
    }

    /// Where the layer store's filesystem refuses idmapped mounts (ext2, whose driver has no
    /// idmap support on this kernel, while it keeps the trusted.* attributes overlayfs needs: a
    /// loop image mounted in the test's own mount namespace holds the cache), an unprivileged container's
    /// first start copies the layers it needs into its own directory, shifted to its ids, says
    /// so once, and later starts use the copies; the shared layers stay root's.
    @Test func layersOnAFilesystemWithoutIdmapsAreCopiedShifted() throws {
        let registry = try fixtures.startRegistry()
        let name = sandbox.name("shifted")
        chmod(sandbox.path, 0o711)
        let maps = sandbox.write("maps.conf", "lxc.net.0.type = empty\nlxc.idmap = u 0 330000 65536\nlxc.idmap = g 0 330000 65536\n")
        let cache = fixtures.path + "/ext2-cache"
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["-m", "--propagation", "private", "sh", "-c", """
            truncate -s 64M "$1.img" && mkfs.ext2 -q "$1.img" && mount -o loop "$1.img" "$1" && S="$2" && P="$3" && N="$4"
            "$S" create -n "$N" -t "$5" --unprivileged -P "$P" -f "$6" >/dev/null 2>&1 || exit 9
            "$S" execute -n "$N" -P "$P" -- sh -c 'stat -c %u:%g /bin/busybox /etc/layer2; echo changed > /etc/layer2'
            echo ---
            "$S" execute -n "$N" -P "$P" -- cat /etc/layer2
            echo ---
            stat -c %u "$P/$N/overlay/shifted"/* | sort -u
            find "$1/oci/layers" -name busybox -exec stat -c %u {} +
            "$S" destroy -n "$N" -P "$P" >/dev/null
            """, "sh", cache, Swrun.binary, sandbox.path, name, registry + "/fixture/busybox:v2s2", maps]
        process.environment = ProcessInfo.processInfo.environment.merging(caches.merging(["SWRUN_CACHE_PATH": cache]) { $1 }) { $1 }
        let result = try Swrun.runProcess(process, timeout: 120)
        #expect(result.status == 0 && result.stdout == "0:0\n0:0\n---\nchanged\n---\n330000\n0\n", "\(result.stdout) \(result.stderr)")
        let told = result.stderr.components(separatedBy: "cannot be idmapped").count - 1
        #expect(told == 3 && result.stderr.contains("copying it, shifted to the container's ids"), "each of the 3 layers once, at the first start: \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.path)/\(name)"))
        try? FileManager.default.removeItem(atPath: cache + ".img")
    }

    @Test func layersDownloadInParallel() throws {
        try fixtures.shell("bash '\(ImageFixtures.scripts)/make-oci-layout.sh' '\(fixtures.path)/oci'"
            + " && bash '\(ImageFixtures.scripts)/make-static-registry.sh' '\(fixtures.path)/oci' '\(fixtures.path)/static' fixture/busybox")
        // Every blob waits a second before its body: downloads that overlap show as active=N > 1.
        let log = fixtures.path + "/blobs.log"
        let url = try fixtures.serve(fixtures.path + "/static", log: log, options: ["--hold-blobs", "1"])
        let image = url.replacingOccurrences(of: "http://", with: "") + "/fixture/busybox:multi"
        let pulled = try swrun(["pull", image])
        #expect(pulled.status == 0, "\(pulled.stderr)")
        let blobs = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").filter { $0.contains("/blobs/") }
        #expect(blobs.count == 4, "the config and three layers, each fetched once: \(blobs)")
        let active = blobs.compactMap { $0.split(separator: "active=").last.flatMap { Int($0) } }
        #expect(active.max() ?? 0 > 1 && active.max() ?? 0 <= 3, "at most three blobs at once, and more than one: \(blobs)")
        // Not a terminal: one plain line per blob, no progress bar.
        #expect(pulled.stderr.components(separatedBy: "swrun: downloaded sha256:").count == 5 && !pulled.stderr.contains("\r"), "\(pulled.stderr)")
        let ran = try swrun(["run", "--rm", "-P", sandbox.path, "-f", sandbox.emptyConfig, image])
        #expect(ran.status == 0 && ran.stdout == "hello from oci\n", "\(ran.stderr)")
    }

    /// Docker Hub's anonymous flow: a 401 names a token service; its token expires (here after
    /// two requests, there after five minutes), and each download worker whose token has
    /// expired fetches a new one rather than fail the pull.
    @Test func pullsGetATokenAndANewOneWhenItExpires() throws {
        try fixtures.shell("bash '\(ImageFixtures.scripts)/make-oci-layout.sh' '\(fixtures.path)/oci'"
            + " && bash '\(ImageFixtures.scripts)/make-static-registry.sh' '\(fixtures.path)/oci' '\(fixtures.path)/static' fixture/busybox")
        let log = fixtures.path + "/token.log"
        let image = try fixtures.serve(fixtures.path + "/static", log: log, options: ["--bearer-uses", "2"])
            .replacingOccurrences(of: "http://", with: "") + "/fixture/busybox:multi"
        let pulled = try swrun(["pull", image])
        #expect(pulled.status == 0, "\(pulled.stderr)")
        let requests = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        let tokens = requests.filter { $0.hasPrefix("GET /token") }.count
        #expect(tokens >= 2, "the first token runs out during the pull and is fetched again: \(requests)")
        let ran = try swrun(["run", "--rm", "-P", sandbox.path, "-f", sandbox.emptyConfig, image])
        #expect(ran.status == 0 && ran.stdout == "hello from oci\n", "\(ran.stderr)")
    }

    /// `image rm` prunes blobs only when no pull or unpack is using the cache: those hold
    /// its store lock shared (as this test does, standing in for a pull), rm exclusively.
    @Test func imageRmWaitsForThePullsAndUnpacksUnderWay() throws {
        try fixtures.shell("bash '\(ImageFixtures.scripts)/make-oci-layout.sh' '\(fixtures.path)/oci'"
            + " && bash '\(ImageFixtures.scripts)/make-static-registry.sh' '\(fixtures.path)/oci' '\(fixtures.path)/static' fixture/busybox")
        let image = try fixtures.serve(fixtures.path + "/static").replacingOccurrences(of: "http://", with: "") + "/fixture/busybox:single"
        #expect(try swrun(["pull", image]).status == 0)
        let blobs = caches["SWRUN_CACHE_PATH", default: ""] + "/oci/blobs/sha256"
        let count = { (try? FileManager.default.contentsOfDirectory(atPath: blobs).filter { !$0.hasSuffix(".lock") }.count) ?? 0 }
        let before = count()
        #expect(before >= 3, "manifest, config and layer")
        let lock = open(caches["SWRUN_CACHE_PATH", default: ""] + "/oci/store.lock", O_RDWR | O_CLOEXEC)
        #expect(lock >= 0 && flock(lock, LOCK_SH) == 0)
        let process = Swrun.process(["image", "rm", image])
        process.environment = ProcessInfo.processInfo.environment.merging(caches) { $1 }
        let removing = try Swrun.Running(process)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(process.isRunning && count() == before, "rm waits while the cache is in use")
        close(lock)
        let removed = try removing.finish()
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(count() == 0, "then prunes every blob no image names")
    }

    @Test func pullsGoThroughTheProxyUnlessNoProxyNamesTheRegistry() throws {
        try fixtures.shell("bash '\(ImageFixtures.scripts)/make-oci-layout.sh' '\(fixtures.path)/oci'"
            + " && bash '\(ImageFixtures.scripts)/make-static-registry.sh' '\(fixtures.path)/oci' '\(fixtures.path)/static' fixture/busybox")
        let registry = try fixtures.serve(fixtures.path + "/static").replacingOccurrences(of: "http://", with: "")
        let log = fixtures.path + "/proxy.log"
        let proxy = "http://127.0.0.1:\(try fixtures.startProxy(log: log))"
        // The variables are set for the swrun child only; its download workers inherit them.
        let proxied = try Swrun.run(["pull", registry + "/fixture/busybox:single"], timeout: 120,
                                    environment: caches.merging(["http_proxy": proxy, "https_proxy": proxy]) { $1 })
        #expect(proxied.status == 0, "\(proxied.stderr)")
        let requests = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        // The probe for TLS on a local registry goes through a tunnel; plain HTTP in absolute form.
        #expect(requests.contains("CONNECT \(registry)"), "\(requests)")
        #expect(requests.contains("GET http://\(registry)/v2/fixture/busybox/manifests/single"), "\(requests)")
        #expect(requests.filter { $0.hasPrefix("GET http://\(registry)/v2/fixture/busybox/blobs/sha256:") }.count == 4, "\(requests)")

        // no_proxy naming the registry: a pull into an empty cache goes around the proxy.
        let direct = try Swrun.run(["pull", registry + "/fixture/busybox:single"], timeout: 120,
                                   environment: ["SWRUN_CACHE_PATH": fixtures.path + "/direct-cache", "http_proxy": proxy,
                                                 "https_proxy": proxy, "no_proxy": "example.org, 127.0.0.1"])
        #expect(direct.status == 0, "\(direct.stderr)")
        #expect(try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").count == requests.count)
    }

    /// Plain HTTP only for a registry on this machine by its exact name, or one listed in
    /// registries.conf (podman's file; the fixture's here) or SWRUN_INSECURE_REGISTRIES: a name that merely starts with `localhost` (here made to
    /// reach 127.0.0.1 by an /etc/hosts of a private mount namespace) is HTTPS only.
    @Test func plainHTTPOnlyForThisMachineOrListedRegistries() throws {
        try fixtures.shell("bash '\(ImageFixtures.scripts)/make-oci-layout.sh' '\(fixtures.path)/oci'"
            + " && bash '\(ImageFixtures.scripts)/make-static-registry.sh' '\(fixtures.path)/oci' '\(fixtures.path)/static' fixture/busybox")
        let port = try fixtures.serve(fixtures.path + "/static").split(separator: ":").last.map(String.init) ?? ""
        let hosts = fixtures.path + "/hosts"
        try "127.0.0.1 localhost localhost.example.org\n".write(toFile: hosts, atomically: false, encoding: .utf8)
        func pull(_ image: String, insecure: String? = nil) throws -> Swrun.Result {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
            process.arguments = ["-m", "sh", "-c", "mount --bind \"$1\" /etc/hosts && exec \"$2\" pull \"$3\"", "sh", hosts, Swrun.binary, image]
            var environment = ProcessInfo.processInfo.environment.merging(caches) { $1 }
            environment["SWRUN_INSECURE_REGISTRIES"] = insecure
            process.environment = environment
            return try Swrun.runProcess(process, timeout: 120)
        }
        let lookalike = "localhost.example.org:\(port)/fixture/busybox:single"
        let refused = try pull(lookalike)
        #expect(refused.status != 0 && refused.stderr.contains("SWRUN_INSECURE_REGISTRIES")
                && refused.stderr.contains("list it as insecure in \(fixtures.path)/registries.conf"), "\(refused.stderr)")
        #expect(!(try swrun(["images"])).stdout.contains("localhost.example.org"))
        let listed = try pull(lookalike, insecure: "localhost.example.org:\(port)")
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(try swrun(["image", "rm", lookalike]).status == 0)
        try "[[registry]]\nlocation = \"localhost.example.org:\(port)\"\ninsecure = true\n"
            .write(toFile: fixtures.path + "/registries.conf", atomically: false, encoding: .utf8)
        let fromFile = try pull(lookalike)
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        try? FileManager.default.removeItem(atPath: fixtures.path + "/registries.conf")
        let local = try pull("localhost:\(port)/fixture/busybox:single")
        #expect(local.status == 0, "\(local.stderr)")
    }

    @Test func aLayerThatDoesNotMatchItsDiffIDLeavesNoContainer() throws {
        try fixtures.shell("bash '\(ImageFixtures.scripts)/make-oci-layout.sh' '\(fixtures.path)/oci'"
            + " && bash '\(ImageFixtures.scripts)/make-static-registry.sh' '\(fixtures.path)/oci' '\(fixtures.path)/static' fixture/busybox")
        let url = try fixtures.serve(fixtures.path + "/static")
        let image = url.replacingOccurrences(of: "http://", with: "") + "/fixture/busybox:tampered"
        // Every blob matches its digest, so the pull succeeds; the unpack finds the lie.
        let ran = try swrun(["run", "--rm", "-P", sandbox.path, "-f", sandbox.emptyConfig, image, "true"])
        #expect(ran.status == 125 && ran.stderr.contains("layer 2/3") && ran.stderr.contains("diff_id"), "\(ran.stderr)")
        let created = try swrun(["create", "-n", sandbox.name("tampered"), "-t", image, "-P", sandbox.path, "-f", sandbox.emptyConfig])
        #expect(created.status != 0 && created.stderr.contains("layer 2/3"), "\(created.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.path).filter { !$0.hasSuffix(".conf") }.isEmpty)
    }

    @Test func hostileArchivesWriteNothingOutside() throws {
        try fixtures.shell("python3 '\(ImageFixtures.scripts)/make-hostile-archives.py' '\(fixtures.path)/archives'")
        let decoy = "/tmp/swrun-escape-hardlink-target"
        try "decoy\n".write(toFile: decoy, atomically: false, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: "/tmp/swrun-escape-target", withIntermediateDirectories: true)
        defer {
            for path in [decoy, "/tmp/swrun-escape-target", "/tmp/swrun-escape-absolute", "/tmp/swrun-escaped-relative"] {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
        for archive in ["dotdot", "absolute", "symlink-dir", "symlink-relative", "hardlink", "hardlink-dotdot"] {
            let name = sandbox.name(archive)
            let imported = try swrun(["import", fixtures.path + "/archives/\(archive).tar", name])
            // A `..` anywhere is refused outright; the other escapes are resolved inside the rootfs.
            if archive.contains("dotdot") { #expect(imported.status != 0 && imported.stderr.contains("'..'")) }
            _ = try swrun(["image", "rm", name])
        }
        #expect(try String(contentsOfFile: decoy, encoding: .utf8) == "decoy\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "/tmp/swrun-escape-target").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/swrun-escape-absolute"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/swrun-escaped-relative"))
        #expect(!FileManager.default.fileExists(atPath: fixtures.path + "/escaped-dotdot"))

        // The same kinds of members, in an honest archive, import in every compression.
        for suffix in ["tar.gz", "tar.xz", "tar.zst", "tar.bz2"] {
            let name = sandbox.name("good")
            let imported = try swrun(["import", fixtures.path + "/archives/good.\(suffix)", name])
            #expect(imported.status == 0, "\(suffix): \(imported.stderr)")
            _ = try swrun(["image", "rm", name])
        }
    }
}
