import Glibc
import SwrunConfig
import SwrunImages
import SwrunJSON
import SwrunSystem

/// RUN: the command runs as a container of the image so far, an overlay of its layers under a
/// fresh upper directory in the build's scratch LXCPATH, with the image's ENV, USER and
/// WORKDIR; the upper directory becomes the step's layer.
extension ImageBuilder {
    func runStep(_ instruction: Dockerfile.Instruction, in stage: inout Stage) throws(SwrunError) {
        var argv: [String]
        if let exec = instruction.execForm {
            argv = exec
        } else if let heredoc = instruction.heredocs.first, instruction.arguments.trimmingCharacters(in: " ").hasPrefix("<<") {
            argv = stage.image.shell + [heredoc.body]  // RUN <<EOF: the body is the script
        } else {
            // The shell sees heredocs where they are written, as a shell's own here-documents.
            var script = instruction.arguments
            for heredoc in instruction.heredocs { script += "\n" + heredoc.body + heredoc.name }
            argv = stage.image.shell + [script]
        }
        // Build arguments in use are in the command's environment, and in the cache key; the
        // proxy ones need no ARG, and stay out of the key and the history, as in Docker.
        var inScope = stage.arguments
        for (name, value) in options.buildArguments where Self.proxyArguments.contains(name) { inScope[name] = value }
        let arguments = inScope.sorted { $0.key < $1.key }
        let inKey = arguments.filter { !Self.proxyArguments.contains($0.key) }.map { "\($0.key)=\($0.value)" }
        let createdBy = (inKey.isEmpty ? "" : "|\(inKey.count) " + inKey.joined(separator: " ") + " ") + argv.joined(separator: " ")
        let key = Self.digest(stage.cacheKey + "\nRUN " + JSONValue.array(argv.map { .string($0) }).serialized + "\n" + inKey.joined(separator: "\n")
                              + (options.network ? "" : "\nnetwork=none"))
        defer { stage.cacheKey = key }
        if !options.noCache, let cached = store.cached(key) {
            report("  using the cache")
            stage.image = cached
            return
        }
        let containers = ContainerStore(lxcPath: FileSystem.join(scratch, "containers"))
        let name = "build-\(getpid())-\(stage.image.layers.count)-\(monotonicMilliseconds() % 100_000)"
        try FileSystem.makeDirectories(containers.directory(of: name), mode: 0o700)
        defer { try? containers.destroy(name) }
        let upper = FileSystem.join(containers.directory(of: name), "overlay/delta")
        var lowers = stage.image.lowers
        if lowers.isEmpty {
            // FROM scratch: overlayfs needs a lower layer, even an empty one.
            let empty = FileSystem.join(scratch, "empty")
            try FileSystem.makeDirectories(empty, mode: 0o755)
            lowers = [empty]
        }
        let overlay = RootOverlay(lowers: lowers, upper: upper)
        try FileSystem.makeDirectories(upper, mode: 0o755)
        try FileSystem.makeDirectories(overlay.work, mode: 0o755)
        try FileSystem.makeDirectories(FileSystem.join(containers.directory(of: name), "rootfs"), mode: 0o755)
        var config = "lxc.rootfs.path = \(overlay.configValue)\nlxc.uts.name = \(name)\n"
        config += "lxc.mount.auto = proc:mixed sys:mixed cgroup:mixed\n"
        config += options.network
            ? "lxc.net.0.type = veth\nlxc.net.0.link = \(HostBridge.defaultName)\nlxc.net.0.flags = up\n"
            : "lxc.net.0.type = empty\n"
        var environment = stage.image.environment
        for (key, value) in arguments where !environment.contains(where: { $0.hasPrefix(key + "=") }) { environment.append(key + "=" + value) }
        if !environment.contains(where: { $0.hasPrefix("PATH=") }) { environment.insert("PATH=" + StartPlan.defaultPath, at: 0) }
        for variable in environment where !variable.contains("\n") { config += "lxc.environment = \(variable)\n" }
        if let user = stage.image.user {
            let account = try ImageUser.resolve(user, passwd: stage.image.file("/etc/passwd"),
                                                group: stage.image.file("/etc/group"), image: "the stage")
            config += "lxc.init.uid = \(account.uid)\nlxc.init.gid = \(account.gid)\n"
            if !account.groups.isEmpty { config += "lxc.init.groups = \(account.groups.map(String.init).joined(separator: ","))\n" }
        }
        config += "lxc.init.cwd = \(stage.image.workingDirectory)\n"
        try FileSystem.writeAtomically(containers.configPath(of: name), config)
        var sidecar = ContainerSidecar()
        sidecar.makesWorkingDirectory = true
        try sidecar.write(to: containers.directory(of: name))

        var execution = ForegroundExecution(store: containers, name: name)
        execution.command = argv
        let log = options.quiet ? try OutputCapture(FileSystem.join(scratch, "run.log")) : nil
        let status: ProcessStatus
        do {
            defer { log?.restore() }
            status = try execution.run(warn: { report("  warning: \($0)") })
        }
        guard status == .exited(0) else {
            let output = log.map { "; its last output:\n" + $0.tail(lines: 10) } ?? ""
            throw fail(instruction, "\(self.step.text): \(argv.joined(separator: " ")) \(status)" + output,
                       hint: "the command failed in the image built so far; fix it, or the step before it, and build again (earlier steps are cached)")
        }
        Self.dropNetworkFiles(in: upper)
        try addLayer(from: upper, overlayMarks: true, to: &stage, createdBy: createdBy)
        try store.remember(stage.image, as: key)
    }

    /// /etc/hosts and /etc/resolv.conf as swrun wrote them for the step's network: not the image's.
    static func dropNetworkFiles(in upper: String) {
        for file in ["etc/hosts", "etc/resolv.conf"] {
            let path = FileSystem.join(upper, file)
            if let text = try? FileSystem.readText(path), text.contains("# written by swrun") { unlink(path) }
        }
        rmdir(FileSystem.join(upper, "etc"))  // only when nothing else of it changed
    }
}

/// build -q: stdout and stderr into a file while a RUN step runs, given back after.
final class OutputCapture {
    private let path: String
    private let savedOut: Int32
    private let savedErr: Int32

    init(_ path: String) throws(SwrunError) {
        self.path = path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SwrunError.system("cannot write \(path)", Errno.current) }
        fflush(nil)
        savedOut = fcntl(1, F_DUPFD_CLOEXEC, 3)
        savedErr = fcntl(2, F_DUPFD_CLOEXEC, 3)
        dup2(fd, 1)
        dup2(fd, 2)
        close(fd)
    }

    func restore() {
        fflush(nil)
        dup2(savedOut, 1)
        dup2(savedErr, 2)
        close(savedOut)
        close(savedErr)
    }

    func tail(lines count: Int) -> String {
        let lines = ((try? FileSystem.readText(path)) ?? "").split(separator: "\n", omittingEmptySubsequences: false)
        return lines.suffix(count + 1).map { "    " + $0 }.joined(separator: "\n")
    }
}
