import Glibc
import SwrunSystem

/// The built-in `busybox` template: a rootfs made of the host's static busybox
/// binary, one symlink per applet and a few /etc files, plus the config lines
/// that LXC's busybox template writes.
public struct BusyboxTemplate: Sendable {
    public static let name = "busybox"

    /// The host binary copied into the rootfs.
    public let busyboxPath: String

    static let installHint = "install it: apt-get install busybox-static"

    public init(busyboxPath: String = "/bin/busybox") {
        self.busyboxPath = busyboxPath
    }

    /// Checks that busybox exists and is statically linked: the rootfs holds no
    /// shared libraries, so a dynamically linked busybox could not start there.
    public func checkHost() throws(SwrunError) {
        _ = try loadBinary()
    }

    /// Fills `rootfs` (an existing, empty directory) with the busybox system.
    /// On error the rootfs is left half-made; the caller removes it.
    public func install(rootfs: String, name: String) throws(SwrunError) {
        guard !name.isEmpty, !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw SwrunError(.invalidArgument, "cannot make a busybox rootfs for container name \"\(name)\"",
                             hint: "use a name without control characters")
        }
        guard FileSystem.isDirectory(rootfs) else {
            throw SwrunError(.notFound, "rootfs directory \(rootfs) does not exist",
                             hint: "create the directory first")
        }
        // A fresh ext filesystem (a loop image, a volume) holds lost+found, and only that.
        guard try FileSystem.listDirectory(rootfs).allSatisfy({ $0 == "lost+found" }) else {
            throw SwrunError(.alreadyExists, "rootfs directory \(rootfs) is not empty",
                             hint: "the busybox template fills an empty directory; remove its contents or choose another container name")
        }

        // Everything that can fail on the host side happens before the first write.
        let binary = try loadBinary()
        let applets = try appletPaths()

        let tree = RootfsWriter(root: rootfs)
        try tree.setMode("", 0o755)
        for (path, mode) in Self.directories { try tree.directory(path, mode: mode) }
        try tree.symlink("var/run", to: "../run")

        try tree.file("bin/busybox", binary, mode: 0o755)
        for path in applets where !FileSystem.exists(FileSystem.join(rootfs, path)) {
            try tree.directory(FileSystem.parentPath(path), mode: 0o755)
            try tree.symlink(path, to: Self.relativeLink(from: path, to: "bin/busybox"))
        }

        var appletByName: [String: String] = [:]
        for path in applets {
            let base = String(path.split(separator: "/").last ?? "")
            if appletByName[base] == nil { appletByName[base] = "/" + path }
        }

        try tree.file("etc/passwd", BusyboxFiles.passwd, mode: 0o644)
        try tree.file("etc/group", BusyboxFiles.group, mode: 0o644)
        try tree.file("etc/shadow", BusyboxFiles.shadow, mode: 0o600)
        try tree.file("etc/fstab", BusyboxFiles.fstab, mode: 0o644)
        try tree.symlink("etc/mtab", to: "../proc/self/mounts")
        try tree.file("etc/hostname", BusyboxFiles.hostname(name), mode: 0o644)
        try tree.file("etc/hosts", BusyboxFiles.hosts(name), mode: 0o644)
        try tree.file("etc/profile", BusyboxFiles.profile, mode: 0o644)
        try tree.file("etc/inittab", BusyboxFiles.inittab { appletByName[$0] }, mode: 0o644)
        try tree.file("etc/init.d/rcS", BusyboxFiles.rcS, mode: 0o755)
        // Debian builds of udhcpc look in /etc/udhcpc, upstream ones in /usr/share/udhcpc.
        try tree.file("etc/udhcpc/default.script", BusyboxFiles.udhcpcScript, mode: 0o755)
        try tree.symlink("usr/share/udhcpc/default.script", to: "../../../etc/udhcpc/default.script")
    }

    /// The config lines the template adds after lxc.rootfs.path and lxc.uts.name, in order.
    public func configSettings() -> [(key: String, value: String)] {
        [
            // busybox init halts on SIGUSR1 and reboots on SIGTERM (SIGPWR, the default, means nothing to it).
            (key: "lxc.signal.halt", value: "SIGUSR1"),
            (key: "lxc.signal.reboot", value: "SIGTERM"),
            // The rootfs has an empty /dev: the runtime fills a tmpfs there.
            (key: "lxc.autodev", value: "1"),
            (key: "lxc.tty.max", value: "5"),
            (key: "lxc.pty.max", value: "1"),
            (key: "lxc.cap.drop", value: "sys_module mac_admin mac_override sys_time"),
            // No udev inside, so /sys can be read-only.
            (key: "lxc.mount.auto", value: "cgroup:mixed proc:mixed sys:ro"),
            (key: "lxc.mount.entry", value: "shm dev/shm tmpfs defaults,create=dir 0 0"),
            (key: "lxc.mount.entry", value: "mqueue dev/mqueue mqueue defaults,optional,create=dir 0 0"),
            (key: "lxc.mount.entry", value: "/sys/kernel/security sys/kernel/security none ro,bind,optional 0 0"),
        ]
    }

    // MARK: - Host side

    /// Mount points and top-level directories, parents first.
    static let directories: [(String, mode_t)] = [
        ("bin", 0o755), ("sbin", 0o755),
        ("usr", 0o755), ("usr/bin", 0o755), ("usr/sbin", 0o755), ("usr/share", 0o755), ("usr/share/udhcpc", 0o755),
        ("etc", 0o755), ("etc/init.d", 0o755), ("etc/udhcpc", 0o755),
        ("dev", 0o755), ("proc", 0o755), ("sys", 0o755), ("run", 0o755),
        ("tmp", 0o1777), ("root", 0o700), ("home", 0o755), ("mnt", 0o755),
        ("var", 0o755), ("var/log", 0o755),
    ]

    /// The busybox binary's bytes, once it is known to be a static ELF executable.
    func loadBinary() throws(SwrunError) -> [UInt8] {
        var st = stat()
        if stat(busyboxPath, &st) != 0 {
            let errno = Errno.current
            if errno == .noSuchFileOrDirectory || errno == .notDirectory {
                throw SwrunError(.missingDependency, "busybox not found at \(busyboxPath)", hint: Self.installHint)
            }
            throw SwrunError(.missingDependency, "cannot inspect busybox at \(busyboxPath)", errno: errno, hint: Self.installHint)
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw SwrunError(.missingDependency, "busybox at \(busyboxPath) is not a regular file", hint: Self.installHint)
        }
        guard access(busyboxPath, X_OK) == 0 else {
            throw SwrunError(.missingDependency, "busybox at \(busyboxPath) is not executable", hint: Self.installHint)
        }
        let bytes = try FileSystem.readBytes(busyboxPath)
        switch ELFLinkage.of(bytes) {
        case nil:
            throw SwrunError(.missingDependency, "busybox at \(busyboxPath) is not an ELF executable", hint: Self.installHint)
        case .dynamic(let interpreter)?:
            let needs = interpreter.isEmpty ? "shared libraries" : interpreter
            throw SwrunError(.missingDependency,
                             "busybox at \(busyboxPath) is dynamically linked (it needs \(needs)), so it cannot run in a rootfs without libraries",
                             hint: Self.installHint)
        case .standalone?:
            return bytes
        }
    }

    /// Where each applet goes, relative to the rootfs ("bin/sh", "usr/bin/awk"),
    /// as the binary itself says; busybox's own path and top-level entries
    /// (linuxrc, for initramfs use) are left out. Always includes bin/sh and sbin/init.
    func appletPaths() throws(SwrunError) -> [String] {
        var paths: [String] = []
        let full = try Subprocess.run([busyboxPath, "--list-full"])
        if full.status == 0, !full.output.isEmpty {
            for line in Self.lines(full.output) {
                let path = line.hasPrefix("/") ? String(line.drop { $0 == "/" }) : line
                try Self.checkRelative(path, from: "--list-full")
                if path.contains("/") { paths.append(path) }
            }
        } else {
            // Builds without --list-full (before busybox 1.20): all in /bin, init in /sbin.
            let list = try Subprocess.run([busyboxPath, "--list"])
            guard list.status == 0 else {
                throw SwrunError(.missingDependency, "busybox at \(busyboxPath) cannot list its applets (--list exited with status \(list.status))",
                                 hint: Self.installHint)
            }
            for line in Self.lines(list.output) {
                try Self.checkRelative(line, from: "--list")
                guard !line.contains("/") else {
                    throw SwrunError(.system, "busybox at \(busyboxPath) printed an applet name with a slash: \(line)")
                }
                paths.append(line == "init" ? "sbin/init" : "bin/" + line)
            }
        }
        paths.removeAll { $0.split(separator: "/").last == "busybox" }

        var seen = Set<String>()
        paths = paths.filter { seen.insert($0).inserted }
        let names = Set(paths.map { String($0.split(separator: "/").last!) })
        for (path, candidates) in [("bin/sh", ["sh", "ash", "hush"]), ("sbin/init", ["init"])] where !seen.contains(path) {
            guard candidates.contains(where: names.contains) else {
                throw SwrunError(.missingDependency, "busybox at \(busyboxPath) has no \(candidates[0]) applet, which the container needs",
                                 hint: Self.installHint)
            }
            paths.append(path)
            seen.insert(path)
        }
        return paths
    }

    private static func lines(_ output: [UInt8]) -> [String] {
        String(decoding: output, as: UTF8.self)
            .split(whereSeparator: { $0 == "\n" || $0 == "\r" })
            .map { String($0).trimmingSpaces() }
            .filter { !$0.isEmpty }
    }

    /// An applet path must stay inside the rootfs: no "..", ".", empty parts or NULs.
    private static func checkRelative(_ path: String, from option: String) throws(SwrunError) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        if path.isEmpty || path.contains("\0") || parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
            throw SwrunError(.system, "busybox \(option) printed an unusable applet path: \(path)",
                             hint: "check the busybox binary; \(installHint)")
        }
    }

    /// The relative symlink target that leads from the link at `link` to `target`,
    /// both relative to the rootfs: "bin/sh" -> "busybox", "usr/bin/awk" -> "../../bin/busybox".
    static func relativeLink(from link: String, to target: String) -> String {
        var from = link.split(separator: "/").dropLast()
        var to = target.split(separator: "/")[...]
        while let first = from.first, let other = to.first, first == other, to.count > 1 {
            from = from.dropFirst()
            to = to.dropFirst()
        }
        return (Array(repeating: "..", count: from.count) + to.map(String.init)).joined(separator: "/")
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}

/// Creates the rootfs entries with exact modes (not narrowed by the umask) and,
/// when running as root, owned by root whatever the parent directory says.
private struct RootfsWriter {
    let root: String

    private func full(_ path: String) -> String { path.isEmpty ? root : FileSystem.join(root, path) }

    private func own(_ path: String) throws(SwrunError) {
        if geteuid() == 0, lchown(path, 0, 0) != 0 { throw SwrunError.system("cannot change the owner of \(path)", Errno.current) }
    }

    func setMode(_ path: String, _ mode: mode_t) throws(SwrunError) {
        let target = full(path)
        if chmod(target, mode) != 0 { throw SwrunError.system("cannot set the mode of \(target)", Errno.current) }
        try own(target)
    }

    /// Makes `path` and any missing parents; an existing directory keeps its mode.
    func directory(_ path: String, mode: mode_t) throws(SwrunError) {
        if path.isEmpty || FileSystem.isDirectory(full(path)) { return }
        let parent = FileSystem.parentPath(path)
        if !parent.isEmpty { try directory(parent, mode: 0o755) }
        let target = full(path)
        if mkdir(target, 0o700) != 0 { throw SwrunError.system("cannot create directory \(target)", Errno.current) }
        try setMode(path, mode)
    }

    func file(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(SwrunError) {
        let target = full(path)
        try FileSystem.writeAtomically(target, bytes, mode: mode)
        try own(target)
    }

    func file(_ path: String, _ text: String, mode: mode_t) throws(SwrunError) {
        try file(path, Array(text.utf8), mode: mode)
    }

    func symlink(_ path: String, to target: String) throws(SwrunError) {
        let link = full(path)
        try FileSystem.symlink(target, at: link)
        try own(link)
    }
}
