import Foundation
import Glibc
import Testing

/// `swrun build` against Dockerfiles in a context of the test's own, on a base image the test
/// makes itself (a busybox container committed, with a user `app`), in a cache of its own.
/// RUN steps have no network (--network none).
@Suite(.serialized) struct BuildTests {
    let sandbox: Sandbox
    let cache: String
    let context: String
    let base: String

    init() throws {
        sandbox = try Sandbox()
        cache = sandbox.path + "/cache"
        context = sandbox.path + "/context"
        try FileManager.default.createDirectory(atPath: context + "/site/css", withIntermediateDirectories: true)
        base = "localhost/swrun-test/base:" + UUID().uuidString.prefix(8).lowercased()
        let name = sandbox.name("base")
        try sandbox.create(name)
        let rootfs = "\(sandbox.path)/\(name)/rootfs"
        try append("app:x:1000:1000:app:/home/app:/bin/sh\n", to: rootfs + "/etc/passwd")
        try append("app:x:1000:\nstaff:x:50:app\n", to: rootfs + "/etc/group")
        let committed = try swrun(["commit", "-P", sandbox.path, name, base])
        #expect(committed.status == 0, "\(committed)")
    }

    func append(_ text: String, to path: String) throws {
        let old = try String(contentsOfFile: path, encoding: .utf8)
        try (old + text).write(toFile: path, atomically: false, encoding: .utf8)
    }

    func swrun(_ arguments: [String], input: String? = nil, timeout: TimeInterval = 120) throws -> Swrun.Result {
        try Swrun.run(arguments, input: input, timeout: timeout, environment: ["SWRUN_CACHE_PATH": cache])
    }

    func write(_ path: String, _ text: String, mode: Int = 0o644) throws {
        try FileManager.default.createDirectory(atPath: (context + "/" + path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: context + "/" + path, atomically: false, encoding: .utf8)
        chmod(context + "/" + path, mode_t(mode))
    }

    func build(_ dockerfile: String, _ options: [String] = []) throws -> Swrun.Result {
        try write("Dockerfile", dockerfile)
        return try swrun(["build", "--network", "none", "--build-arg", "BASE=" + base] + options + [context])
    }

    /// `swrun run --rm` of an image, with no network.
    func run(_ image: String, _ command: [String] = [], options: [String] = []) throws -> Swrun.Result {
        try swrun(["run", "--rm", "-q", "-P", sandbox.path, "-f", sandbox.emptyConfig] + options + [image] + command)
    }

    /// The image config's "config" object and history of a cached image.
    func config(_ image: String) throws -> (config: [String: Any], history: [[String: Any]]) {
        let parts = image.split(separator: ":")
        let ref = cache + "/oci/refs/" + parts[0] + "/" + (parts.count > 1 ? parts[1] : "latest")
        let digest = try String(contentsOfFile: ref, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(7)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cache + "/oci/blobs/sha256/" + digest))) as? [String: Any]
        let configDigest = ((manifest?["config"] as? [String: Any])?["digest"] as? String ?? "").dropFirst(7)
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cache + "/oci/blobs/sha256/" + configDigest))) as? [String: Any]
        return (document?["config"] as? [String: Any] ?? [:], document?["history"] as? [[String: Any]] ?? [])
    }

    /// A shell command's stdout; its failure fails the test.
    @discardableResult
    func sh(_ command: String) throws -> String {
        let result = try shell(command)
        #expect(result.status == 0, "\(command): \(result.stderr)")
        return result.stdout
    }

    func refs() -> Set<String> {
        Set((FileManager.default.enumerator(atPath: cache + "/oci/refs")?.allObjects as? [String]) ?? [])
    }

    static let everyInstruction = """
        # syntax=docker/dockerfile:1
        ARG BASE
        FROM ${BASE} AS build
        ARG GREETING=hello
        RUN mkdir -p /out && echo "$GREETING from the build stage" > /out/greeting

        FROM ${BASE}
        MAINTAINER swrun tests
        ARG GREETING
        ENV APP_HOME=/srv/app \\
            MODE="fast mode"
        ENV LEGACY value with spaces
        LABEL tier=web version="1.0"
        WORKDIR $APP_HOME
        COPY site/ ./site/
        COPY --chown=app:staff --chmod=0640 notes.txt conf/*.conf ./conf/
        COPY --from=build /out/greeting /etc/greeting
        ADD bundle.tar.gz /opt/
        COPY <<EOF /etc/motd
        welcome to $APP_HOME
        EOF
        SHELL ["/bin/sh", "-e", "-c"]
        RUN echo "shell step: $MODE" > shell.txt && echo "proxy: $http_proxy" > /tmp/proxy
        RUN ["/bin/sh", "-c", "echo exec step > exec.txt"]
        RUN <<EOF
        echo heredoc step > heredoc.txt
        id -u >> heredoc.txt
        EOF
        USER app
        RUN id > /tmp/as-app
        EXPOSE 8080 53/udp
        VOLUME ["/srv/app/data"]
        STOPSIGNAL SIGQUIT
        HEALTHCHECK --interval=30s --retries=2 CMD wget -q -O- http://localhost:8080/
        ONBUILD RUN echo triggered > /tmp/onbuild
        ENTRYPOINT ["/bin/sh", "-c"]
        CMD ["cat /etc/greeting /etc/motd"]
        """

    func makeContext() throws {
        try write("site/index.html", "<h1>hi</h1>\n")
        try write("site/css/main.css", "body {}\n")
        try write("notes.txt", "notes\n", mode: 0o600)
        try write("conf/a.conf", "a=1\n")
        try write("conf/b.conf", "b=2\n")
        try write("secret.key", "never copied\n")
        try write("site/draft.tmp", "left out\n")
        try write(".dockerignore", "*.key\n**/*.tmp\n")
        let bundle = sandbox.path + "/bundle"
        try FileManager.default.createDirectory(atPath: bundle + "/tool/bin", withIntermediateDirectories: true)
        try "#!/bin/sh\necho tool\n".write(toFile: bundle + "/tool/bin/run", atomically: false, encoding: .utf8)
        chmod(bundle + "/tool/bin/run", 0o755)
        _ = try sh("tar -C '\(bundle)' -czf '\(context)/bundle.tar.gz' tool")
    }

    @Test func everyInstructionIsBuiltAsDockerBuildsIt() throws {
        try makeContext()
        let tag = "localhost/swrun-test/every:" + UUID().uuidString.prefix(8).lowercased()
        let built = try build(Self.everyInstruction, ["-t", tag, "--build-arg", "GREETING=hi", "--build-arg", "http_proxy=http://127.0.0.1:9"])
        #expect(built.status == 0, "\(built)")
        #expect(built.stderr.contains("syntax directive"), "the ignored directive is noted")
        // The files, as the image's containers see them.
        let files = try run(tag, ["""
            cat /etc/greeting /etc/motd; cd /srv/app; cat shell.txt exec.txt heredoc.txt /tmp/as-app /tmp/proxy
            ls site site/css; ls /srv/app/site/draft.tmp /srv/app/secret.key 2>&1
            stat -c '%n %a %U:%G' conf conf/notes.txt conf/a.conf conf/b.conf; /opt/tool/bin/run
            echo "$APP_HOME|$MODE|$LEGACY|$GREETING"
            """])
        let lines = files.stdout.split(separator: "\n").map(String.init)
        #expect(files.status == 0, "\(files)")
        #expect(Array(lines.prefix(2)) == ["hi from the build stage", "welcome to /srv/app"], "\(lines)")
        #expect(Array(lines.dropFirst(2).prefix(5)) == ["shell step: fast mode", "exec step", "heredoc step", "0",
                                                         "uid=1000(app) gid=1000(app) groups=50(staff)"], "\(lines)")
        #expect(lines.contains("proxy: http://127.0.0.1:9"), "a proxy argument needs no ARG: \(lines)")
        #expect(lines.contains("index.html") && lines.contains("main.css"), "\(lines)")
        #expect(lines.contains { $0.contains("draft.tmp") && $0.contains("No such file") } && lines.contains { $0.contains("secret.key") && $0.contains("No such file") })
        #expect(lines.contains("conf/notes.txt 640 app:staff") && lines.contains("conf/a.conf 640 app:staff"), "\(lines)")
        #expect(lines.contains("tool") && lines.last == "/srv/app|fast mode|value with spaces|", "ARG values stay out of the image: \(lines)")
        // The config, field by field.
        let (config, history) = try config(tag)
        #expect(config["WorkingDir"] as? String == "/srv/app" && config["User"] as? String == "app")
        #expect(config["Entrypoint"] as? [String] == ["/bin/sh", "-c"] && config["Cmd"] as? [String] == ["cat /etc/greeting /etc/motd"])
        #expect((config["Env"] as? [String])?.contains("MODE=fast mode") == true && (config["Env"] as? [String])?.contains { $0.hasPrefix("PATH=") } == true)
        #expect(config["Labels"] as? [String: String] == ["tier": "web", "version": "1.0"])
        #expect(Set((config["ExposedPorts"] as? [String: Any])?.keys ?? [:].keys) == ["8080/tcp", "53/udp"])
        #expect(Set((config["Volumes"] as? [String: Any])?.keys ?? [:].keys) == ["/srv/app/data"])
        #expect(config["StopSignal"] as? String == "SIGQUIT" && config["OnBuild"] as? [String] == ["RUN echo triggered > /tmp/onbuild"])
        let health = config["Healthcheck"] as? [String: Any]
        #expect(health?["Test"] as? [String] == ["CMD-SHELL", "wget -q -O- http://localhost:8080/"] && health?["Interval"] as? Int == 30_000_000_000
                && health?["Retries"] as? Int == 2, "\(String(describing: health))")
        let createdBy = history.compactMap { $0["created_by"] as? String }
        #expect(createdBy.contains("/bin/sh -c #(nop) USER app") && createdBy.contains { $0.contains("|1 GREETING=hi") && $0.contains("shell step") }, "\(createdBy)")
        #expect(!createdBy.contains { $0.contains("127.0.0.1:9") }, "proxy arguments stay out of the history")
        // The image runs as its config says, and its ONBUILD triggers run in an image made from it.
        let ran = try run(tag)
        #expect(ran.status == 0 && ran.stdout == "hi from the build stage\nwelcome to /srv/app\n", "\(ran)")
        let child = try build("FROM \(tag)\nRUN test -f /tmp/onbuild\n", ["-t", tag + "-child"])
        #expect(child.status == 0 && child.stdout.contains("ONBUILD RUN echo triggered"), "\(child)")
    }

    @Test func aRebuildWithNothingChangedRunsNothingAndAChangeRebuildsFromItsStep() throws {
        try write("page.html", "one\n")
        let dockerfile = "ARG BASE\nFROM $BASE\nRUN echo first-run-step\nCOPY page.html /srv/\nRUN echo second-run-step; cat /srv/page.html\n"
        let tag = "localhost/swrun-test/cached:v1"
        /// The lines the RUN steps printed (the STEP lines name the commands too).
        func ran(_ result: Swrun.Result) -> Set<String> {
            Set(result.stdout.split(separator: "\n").map(String.init).filter { $0 == "first-run-step" || $0 == "second-run-step" })
        }
        let first = try build(dockerfile, ["-t", tag])
        #expect(first.status == 0 && ran(first) == ["first-run-step", "second-run-step"], "\(first)")
        let again = try build(dockerfile, ["-t", tag])
        #expect(again.status == 0 && ran(again).isEmpty, "\(again)")
        #expect(again.stdout.split(separator: "\n").last == first.stdout.split(separator: "\n").last, "the same image, the same digest")
        try write("page.html", "two\n")
        let changed = try build(dockerfile, ["-t", tag])
        #expect(ran(changed) == ["second-run-step"] && changed.stdout.contains("\ntwo\n"), "\(changed)")
        let uncached = try build(dockerfile, ["-t", tag, "--no-cache"])
        #expect(ran(uncached) == ["first-run-step", "second-run-step"], "\(uncached)")
        // The image store's prune takes the cache along.
        #expect(try swrun(["image", "prune"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: cache + "/oci/build-cache"))
    }

    @Test func aFailingRunStopsTheBuildAndLeavesNothing() throws {
        let before = refs()
        let failed = try build("ARG BASE\nFROM $BASE\nRUN echo fine\nRUN echo about to fail; exit 7\nRUN echo never\n", ["-t", "localhost/swrun-test/failed:v1"])
        #expect(failed.status == 1 && !failed.stdout.contains("never"), "\(failed)")
        #expect(failed.stderr.contains("Dockerfile:4:1") && failed.stderr.contains("step 3/4") && failed.stderr.contains("exit 7")
                && failed.stderr.contains("status 7"), "\(failed.stderr)")
        #expect(refs() == before, "no image")
        #expect(!FileManager.default.fileExists(atPath: cache + "/build"), "no container or scratch left")
        #expect(sandbox.containerCgroups().isEmpty)
    }

    @Test(arguments: [
        ("FROM scratch\nFOO bar\n", [String](), "Dockerfile:2:1: unknown instruction FOO"),
        ("# nothing\n", [], "there is no FROM"),
        ("ARG BASE\nFROM $BASE\nCOPY ../outside /x\n", [], "Dockerfile:3:1: COPY: '../outside' is outside the build context"),
        ("ARG BASE\nFROM $BASE\nCOPY missing.txt /x\n", [], "Dockerfile:3:1: COPY: 'missing.txt' is not in the build context"),
        ("ARG BASE\nFROM $BASE\n", ["--build-arg", "=x"], "is not an ARG name"),
        ("ARG BASE\nFROM $BASE AS one\n", ["--target", "two"], "--target two: the Dockerfile has no such stage"),
        ("ARG BASE\nFROM $BASE\nEXPOSE http\n", [], "Dockerfile:3:1: EXPOSE: 'http' is not a port"),
    ])
    func badInputIsAnErrorWithItsPlaceAndLeavesNothing(dockerfile: String, options: [String], message: String) throws {
        let before = refs()
        let result = try build(dockerfile, ["-t", "localhost/swrun-test/bad:v1"] + options)
        #expect(result.status == 1 && result.stderr.contains(message), "\(result.stderr)")
        #expect(refs() == before)
        try FileManager.default.createDirectory(atPath: context + "/adir", withIntermediateDirectories: true)
        let directory = try swrun(["build", "-f", context + "/adir", context])
        #expect(directory.status == 1 && directory.stderr.contains("is not a file"), "\(directory.stderr)")
    }

    @Test func outputsAndStdinAndAURLWithItsChecksum() throws {
        let served = sandbox.path + "/served"
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        try "downloaded\n".write(toFile: served + "/file.txt", atomically: false, encoding: .utf8)
        let fixtures = try ImageFixtures()
        let url = try fixtures.serve(served) + "/file.txt"
        let checksum = "sha256:" + (try sh("sha256sum '\(served)/file.txt' | cut -d' ' -f1")).trimmingCharacters(in: .whitespacesAndNewlines)
        let dockerfile = "ARG BASE\nFROM $BASE\nADD --checksum=\(checksum) \(url) /data/\nCMD [\"cat\", \"/data/file.txt\"]\n"
        let archive = sandbox.path + "/image.tar", files = sandbox.path + "/files.tar"
        let built = try swrun(["build", "-q", "--network", "none", "--build-arg", "BASE=" + base, "-f", "-", "-t", "localhost/swrun-test/out:v1",
                               "--output", "type=oci,dest=" + archive, context], input: dockerfile)
        #expect(built.status == 0 && built.stdout.hasPrefix("sha256:") && built.stdout.split(separator: "\n").count == 1, "-q: the digest alone: \(built)")
        #expect(try run("localhost/swrun-test/out:v1").stdout == "downloaded\n")
        let listing = try sh("tar -tf '\(archive)'")
        #expect(listing.contains("index.json") && listing.contains("manifest.json") && listing.contains("oci-layout"), "\(listing)")
        let tar = try swrun(["build", "-q", "--network", "none", "--build-arg", "BASE=" + base, "-f", "-", "--output", "type=tar,dest=" + files, context],
                            input: dockerfile)
        #expect(tar.status == 0, "\(tar)")
        #expect(try sh("tar -xOf '\(files)' ./data/file.txt") == "downloaded\n")
        let wrong = try swrun(["build", "--network", "none", "--build-arg", "BASE=" + base, "-f", "-", context],
                              input: dockerfile.replacingOccurrences(of: checksum, with: "sha256:" + String(repeating: "0", count: 64)))
        #expect(wrong.status == 1 && wrong.stderr.contains("Dockerfile (stdin):3:1: ADD:"), "\(wrong.stderr)")
    }

    /// A base image from a registry (the test's own, on loopback): the build pulls it into a
    /// cache that has never seen it, and `push` takes the result back there.
    @Test func aBaseFromTheRegistryIsPulledAndTheResultPushed() throws {
        let fixtures = try ImageFixtures()
        let registry = try fixtures.startRegistry("build-registry")
        let remote = registry + "/swrun-test/base:v1"
        #expect(try swrun(["tag", base, remote]).status == 0)
        #expect(try swrun(["push", remote]).status == 0)
        let fresh = sandbox.path + "/fresh-cache"
        try write("Dockerfile", "ARG BASE\nFROM $BASE\nRUN echo pulled > /pulled\n")
        let built = try Swrun.run(["build", "-q", "--network", "none", "--build-arg", "BASE=" + remote, "-t", registry + "/swrun-test/built:v1", context],
                                  timeout: 120, environment: ["SWRUN_CACHE_PATH": fresh])
        #expect(built.status == 0, "\(built)")
        let pushed = try Swrun.run(["push", registry + "/swrun-test/built:v1"], timeout: 120, environment: ["SWRUN_CACHE_PATH": fresh])
        #expect(pushed.status == 0 && pushed.stderr.contains("pushed"), "\(pushed)")
        let ran = try Swrun.run(["run", "--rm", "-q", "-P", sandbox.path, "-f", sandbox.emptyConfig, registry + "/swrun-test/built:v1", "cat", "/pulled"],
                                timeout: 120, environment: ["SWRUN_CACHE_PATH": sandbox.path + "/third-cache"])
        #expect(ran.status == 0 && ran.stdout == "pulled\n", "pulled back from the registry: \(ran)")
    }

    /// The lab's case: an image with an SSH server and a web server, built FROM the
    /// debootstrapped Debian (committed as an image here), started as three containers by one
    /// script with their ports published, in a network namespace of the test's own.
    @Test func theLabsImageServesSSHAndHTTPFromSeveralContainers() throws {
        let debian = try DistroContainer.cachedRootfs("systemd")
        let holder = sandbox.name("debian")
        #expect(try swrun(["create", "-P", sandbox.path, "-n", holder, "-t", "busybox", "-f", sandbox.emptyConfig]).status == 0)
        try "lxc.rootfs.path = dir:\(debian)\nlxc.uts.name = \(holder)\nlxc.net.0.type = empty\n"
            .write(toFile: "\(sandbox.path)/\(holder)/config", atomically: false, encoding: .utf8)
        let debianImage = "localhost/swrun-test/debian:" + UUID().uuidString.prefix(8).lowercased()
        #expect(try swrun(["commit", "-P", sandbox.path, holder, debianImage], timeout: 300).status == 0)
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: context + "/busybox")
        try write("Dockerfile", """
            ARG BASE
            FROM ${BASE}
            COPY busybox /usr/local/bin/busybox
            RUN mkdir -p /run/sshd /srv/www && ssh-keygen -A && echo '<h1>lab</h1>' > /srv/www/index.html
            EXPOSE 22 80
            CMD ["/bin/sh", "-c", "/usr/sbin/sshd && exec /usr/local/bin/busybox httpd -f -p 80 -h /srv/www"]
            """)
        let lab = "localhost/swrun-test/lab:v1"
        let built = try swrun(["build", "-q", "--network", "none", "--build-arg", "BASE=" + debianImage, "-t", lab, context], timeout: 300)
        #expect(built.status == 0, "\(built)")
        // One script, as the lab asks: several containers from the image, each reached on its ports.
        let script = """
            set -e
            ip link set lo up
            for n in 1 2 3; do swrun_run=$('\(Swrun.binary)' run -P '\(sandbox.path)' -d -q --name lab$n -p 808$n:80 -p 222$n:22 \(lab)); done
            sleep 1
            for n in 1 2 3; do
              busybox wget -q -O- http://127.0.0.1:808$n/ | grep -q lab && echo web$n-ok
              banner=$(timeout 5 busybox nc 127.0.0.1 222$n </dev/null | head -n 1)
              case "$banner" in SSH-2.0-OpenSSH*) echo ssh$n-ok ;; *) echo "ssh$n: $banner" ;; esac
            done
            '\(Swrun.binary)' rm -P '\(sandbox.path)' -f lab1 lab2 lab3 >/dev/null
            '\(Swrun.binary)' net down >/dev/null
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["-n", "sh", "-c", script]
        process.environment = ProcessInfo.processInfo.environment.merging(["SWRUN_CACHE_PATH": cache]) { $1 }
        let ran = try Swrun.runProcess(process, timeout: 180)
        #expect(ran.status == 0, "\(ran)")
        for n in 1...3 { #expect(ran.stdout.contains("web\(n)-ok") && ran.stdout.contains("ssh\(n)-ok"), "\(ran.stdout)\n\(ran.stderr)") }
        #expect(sandbox.containerCgroups().isEmpty)
    }

    /// buildah (Debian's) builds the same Dockerfile: the same files (owner, mode, content) and
    /// the same config fields, but for what buildah adds of its own (its version label, the
    /// empty bind-mount targets it leaves in /etc).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/bin/buildah"), "buildah is not installed"))
    func buildahBuildsTheSameImage() throws {
        try write("hello.txt", "hello\n")
        try write("sub/inner", "inner\n", mode: 0o600)
        let dockerfile = """
            ARG BASE
            FROM ${BASE}
            ENV APP=/app MODE="fast mode"
            WORKDIR /app
            COPY hello.txt ./
            COPY sub /app/sub/
            RUN echo "$MODE" > out.txt && chmod 0640 out.txt && mkdir -p /var/data && chown 1000:1000 /var/data
            LABEL version="1.0" tier=web
            EXPOSE 80
            USER 1000
            CMD ["cat", "/app/out.txt"]
            """
        try write("Dockerfile", dockerfile)
        let mine = "localhost/swrun-test/mine:v1", theirs = "localhost/swrun-test/buildah:v1"
        #expect(try swrun(["build", "-q", "--network", "none", "--build-arg", "BASE=" + base, "-t", mine, context]).status == 0)
        let baseArchive = sandbox.path + "/base.tar", buildahArchive = sandbox.path + "/buildah.tar"
        #expect(try swrun(["save", base, "-o", baseArchive]).status == 0)
        let storage = "--root '\(sandbox.path)/buildah/root' --runroot '\(sandbox.path)/buildah/run' --storage-driver vfs"
        let script = "ip link set lo up && buildah \(storage) bud --isolation chroot --build-arg BASE=oci-archive:\(baseArchive) -t \(theirs) '\(context)' >/dev/null"
            + " && buildah \(storage) push \(theirs) oci-archive:\(buildahArchive):\(theirs) >/dev/null 2>&1"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["-mn", "--propagation", "private", "sh", "-c", script]
        let bud = try Swrun.runProcess(process, timeout: 120)
        #expect(bud.status == 0, "\(bud)")
        #expect(try swrun(["load", "-i", buildahArchive]).status == 0)
        func files(_ image: String) throws -> [String: String] {
            let name = sandbox.name("cmp")
            #expect(try swrun(["create", "-P", sandbox.path, "-n", name, "-t", image, "-f", sandbox.emptyConfig]).status == 0)
            let tar = "\(sandbox.path)/\(name).tar"
            #expect(try swrun(["export", "-P", sandbox.path, name, "-o", tar]).status == 0)
            let listing = try sh("python3 -c \"import tarfile,hashlib,sys\nfor m in tarfile.open(sys.argv[1]):\n h=hashlib.sha256(tarfile.open(sys.argv[1]).extractfile(m).read()).hexdigest()[:16] if m.isfile() else m.linkname\n print(m.name, oct(m.mode), m.uid, m.gid, m.type.decode(), h)\" '\(tar)'")
            var result: [String: String] = [:]
            for line in listing.split(separator: "\n") {
                let fields = line.split(separator: " ", maxSplits: 1).map(String.init)
                if fields.count == 2 { result[fields[0]] = fields[1] }
            }
            return result
        }
        let ours = try files(mine), buildah = try files(theirs)
        let mountTargets: Set<String> = ["./etc/resolv.conf", "./etc/hosts", "./etc/hostname", "./run/.containerenv"]
        let differing = Set(ours.keys).union(buildah.keys).filter { ours[$0] != buildah[$0] && !mountTargets.contains($0) }
        #expect(differing.isEmpty, "\(differing.sorted().map { "\($0): \(ours[$0] ?? "-") vs \(buildah[$0] ?? "-")" })")
        #expect(ours.count > 100 && ours["./app/out.txt"]?.hasPrefix("0o640 0 0") == true && ours["./var/data"]?.hasPrefix("0o755 1000 1000") == true)
        let (ourConfig, _) = try config(mine)
        var (buildahConfig, _) = try config(theirs)
        var labels = buildahConfig["Labels"] as? [String: String] ?? [:]
        labels["io.buildah.version"] = nil
        buildahConfig["Labels"] = labels
        func canonical(_ value: Any?) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: [value ?? NSNull()], options: .sortedKeys), as: UTF8.self)
        }
        for key in ["Env", "Cmd", "Entrypoint", "WorkingDir", "User", "Labels", "ExposedPorts", "Volumes", "StopSignal"] {
            #expect(try canonical(ourConfig[key]) == canonical(buildahConfig[key]), "\(key): \(ourConfig[key] ?? "none") vs \(buildahConfig[key] ?? "none")")
        }
    }
}
