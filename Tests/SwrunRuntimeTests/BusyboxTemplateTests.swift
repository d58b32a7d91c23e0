import Foundation
import Glibc
import SwrunImages
import SwrunSystem
import Testing

private let busybox = "/bin/busybox"
private let installHint = "install it: apt-get install busybox-static"

/// A fresh, empty temporary directory; remove it with `removeTree` in a defer.
private func makeTemporaryDirectory() throws -> String {
    var template = Array("/tmp/swrun-busybox-test-XXXXXX".utf8CString)
    let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    #expect(result != nil)
    return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

private func removeTree(_ path: String) {
    try? FileSystem.removeTree(path)
}

private func mode(of path: String) -> mode_t {
    var st = stat()
    #expect(lstat(path, &st) == 0, "lstat \(path)")
    return st.st_mode & 0o7777
}

private func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}

private func linkTarget(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink(path, &buffer, buffer.count - 1)
    guard count >= 0 else { return nil }
    return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Every symlink below `root`, as a path relative to it.
private func symlinks(under root: String, relative: String = "") throws -> [String] {
    var found: [String] = []
    let directory = relative.isEmpty ? root : root + "/" + relative
    for name in try FileSystem.listDirectory(directory) {
        let child = relative.isEmpty ? name : relative + "/" + name
        switch FileSystem.kind(of: root + "/" + child) {
        case .symlink?: found.append(child)
        case .directory?: found += try symlinks(under: root, relative: child)
        default: break
        }
    }
    return found
}

/// Whether a relative target, read from the link at `link` (relative to the root),
/// stays inside the root when resolved lexically.
private func staysInside(link: String, target: String) -> Bool {
    var parts = link.split(separator: "/").dropLast().map(String.init)
    for part in target.split(separator: "/") {
        if part == "." { continue }
        if part == ".." {
            if parts.isEmpty { return false }
            parts.removeLast()
        } else {
            parts.append(String(part))
        }
    }
    return true
}

private func expectMissingDependency(_ path: String, mentioning words: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do throws(SwrunError) {
        try BusyboxTemplate(busyboxPath: path).checkHost()
        Issue.record("checkHost accepted \(path)", sourceLocation: sourceLocation)
    } catch {
        #expect(error.code == .missingDependency, sourceLocation: sourceLocation)
        #expect(error.message.contains(path), "\(error.message)", sourceLocation: sourceLocation)
        #expect(error.message.contains(words), "\(error.message)", sourceLocation: sourceLocation)
        #expect(error.hint == installHint, sourceLocation: sourceLocation)
    }
}

@Suite struct BusyboxTemplateTests {
    @Test func checkHostAcceptsTheStaticBusybox() throws {
        try BusyboxTemplate(busyboxPath: busybox).checkHost()
        try BusyboxTemplate().checkHost()
    }

    @Test func checkHostRejectsAMissingBinary() {
        expectMissingDependency("/nonexistent/busybox", mentioning: "not found")
    }

    @Test func checkHostRejectsADynamicallyLinkedBinary() {
        expectMissingDependency("/bin/ls", mentioning: "dynamically linked")
    }

    @Test func checkHostRejectsAScript() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTree(directory) }
        let script = directory + "/busybox"
        try FileSystem.writeAtomically(script, "#!/bin/sh\necho hi\n", mode: 0o755)
        expectMissingDependency(script, mentioning: "not an ELF executable")
    }

    @Test func installBuildsABootableTree() throws {
        let rootfs = try makeTemporaryDirectory()
        defer { removeTree(rootfs) }
        try BusyboxTemplate(busyboxPath: busybox).install(rootfs: rootfs, name: "box1")

        let binary = realPath(rootfs + "/bin/busybox")
        #expect(binary != nil)
        #expect(FileSystem.kind(of: rootfs + "/bin/busybox") == .regular)
        #expect(mode(of: rootfs + "/bin/busybox") == 0o755)
        #expect(try FileSystem.readBytes(rootfs + "/bin/busybox") == FileSystem.readBytes(busybox))

        for command in ["/bin/sh", "/sbin/init"] {
            #expect(FileSystem.kind(of: rootfs + command) == .symlink, "\(command) is a symlink")
            #expect(realPath(rootfs + command) == binary, "\(command) resolves to the rootfs busybox")
        }
        #expect(linkTarget(rootfs + "/bin/sh") == "busybox")
        #expect(linkTarget(rootfs + "/sbin/init") == "../bin/busybox")
    }

    @Test func installWritesUsersAndInit() throws {
        let rootfs = try makeTemporaryDirectory()
        defer { removeTree(rootfs) }
        try BusyboxTemplate(busyboxPath: busybox).install(rootfs: rootfs, name: "box1")

        let passwd = try FileSystem.readText(rootfs + "/etc/passwd").split(separator: "\n")
        let root = passwd.first { $0.hasPrefix("root:") }?.split(separator: ":", omittingEmptySubsequences: false)
        #expect(root?[2] == "0" && root?[3] == "0")
        #expect(root?[5] == "/root")
        #expect(root?[6] == "/bin/sh")
        #expect(try FileSystem.readText(rootfs + "/etc/group").hasPrefix("root:x:0:"))
        #expect(try FileSystem.readText(rootfs + "/etc/shadow").hasPrefix("root:"))
        #expect(mode(of: rootfs + "/etc/shadow") == 0o600)

        let inittab = try FileSystem.readText(rootfs + "/etc/inittab")
        #expect(inittab.contains("\n::sysinit:/etc/init.d/rcS\n"))
        #expect(inittab.contains("\nconsole::askfirst:-/bin/sh\n"))
        #expect(mode(of: rootfs + "/etc/init.d/rcS") == 0o755)
        #expect(try FileSystem.readText(rootfs + "/etc/hostname") == "box1\n")
        #expect(FileSystem.kind(of: rootfs + "/etc/fstab") == .regular)

        // Every command that inittab runs exists in the rootfs.
        for line in inittab.split(separator: "\n") where !line.hasPrefix("#") {
            let command = line.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)[3]
            let program = command.split(separator: " ")[0].drop { $0 == "-" }
            #expect(realPath(rootfs + program) != nil, "\(program) from inittab exists")
        }
    }

    @Test func installSetsModesOfMountPoints() throws {
        let rootfs = try makeTemporaryDirectory()
        defer { removeTree(rootfs) }
        try BusyboxTemplate(busyboxPath: busybox).install(rootfs: rootfs, name: "box1")

        #expect(mode(of: rootfs + "/tmp") == 0o1777)
        #expect(mode(of: rootfs + "/root") == 0o700)
        #expect(mode(of: rootfs) == 0o755)
        for directory in ["dev", "proc", "sys", "run", "etc", "bin", "sbin", "usr/bin", "var/log"] {
            #expect(FileSystem.kind(of: rootfs + "/" + directory) == .directory, "\(directory)")
            #expect(mode(of: rootfs + "/" + directory) == 0o755, "\(directory)")
        }
        #expect(try FileSystem.listDirectory(rootfs + "/dev").isEmpty)
        #expect(mode(of: rootfs + "/etc/passwd") == 0o644)

        if geteuid() == 0 {
            for path in ["", "/bin/busybox", "/bin/sh", "/etc/shadow", "/tmp", "/root"] {
                var st = stat()
                #expect(lstat(rootfs + path, &st) == 0)
                #expect(st.st_uid == 0 && st.st_gid == 0, "\(path) is owned by root")
            }
        }
    }

    @Test func installMakesOnlyRelativeSymlinksThatStayInside() throws {
        let rootfs = try makeTemporaryDirectory()
        defer { removeTree(rootfs) }
        try BusyboxTemplate(busyboxPath: busybox).install(rootfs: rootfs, name: "box1")

        let links = try symlinks(under: rootfs)
        #expect(links.count > 100, "one symlink per applet")
        for link in links {
            let target = try #require(linkTarget(rootfs + "/" + link))
            #expect(!target.hasPrefix("/"), "\(link) -> \(target) is absolute")
            #expect(staysInside(link: link, target: target), "\(link) -> \(target) leaves the rootfs")
        }
    }

    @Test func installedScriptsParse() throws {
        let rootfs = try makeTemporaryDirectory()
        defer { removeTree(rootfs) }
        try BusyboxTemplate(busyboxPath: busybox).install(rootfs: rootfs, name: "box1")

        for script in ["/etc/init.d/rcS", "/etc/udhcpc/default.script", "/usr/share/udhcpc/default.script", "/etc/profile"] {
            let result = try Subprocess.run([busybox, "sh", "-n", rootfs + script])
            #expect(result.status == 0, "\(script) parses")
        }
    }

    @Test func installRefusesANonEmptyDirectory() throws {
        let rootfs = try makeTemporaryDirectory()
        defer { removeTree(rootfs) }
        try FileSystem.writeAtomically(rootfs + "/keep", "data\n")
        #expect(throws: SwrunError.self) {
            try BusyboxTemplate(busyboxPath: busybox).install(rootfs: rootfs, name: "box1")
        }
        #expect(try FileSystem.listDirectory(rootfs) == ["keep"])
    }

    @Test func installChecksTheHostBeforeWriting() throws {
        let rootfs = try makeTemporaryDirectory()
        defer { removeTree(rootfs) }
        do throws(SwrunError) {
            try BusyboxTemplate(busyboxPath: "/bin/ls").install(rootfs: rootfs, name: "box1")
            Issue.record("install used a dynamically linked busybox")
        } catch {
            #expect(error.code == .missingDependency)
        }
        #expect(try FileSystem.listDirectory(rootfs).isEmpty)
    }

    @Test func configSettingsFollowLXCsTemplate() {
        let settings = BusyboxTemplate().configSettings()
        func values(_ key: String) -> [String] { settings.filter { $0.key == key }.map(\.value) }
        #expect(values("lxc.signal.halt") == ["SIGUSR1"])
        #expect(values("lxc.signal.reboot") == ["SIGTERM"])
        #expect(values("lxc.autodev") == ["1"])
        #expect(values("lxc.tty.max") == ["5"])
        #expect(values("lxc.mount.auto") == ["cgroup:mixed proc:mixed sys:ro"])
        #expect(values("lxc.mount.entry").contains("shm dev/shm tmpfs defaults,create=dir 0 0"))
        #expect(!settings.contains { $0.key == "lxc.rootfs.path" || $0.key == "lxc.uts.name" })
        #expect(BusyboxTemplate.name == "busybox")
    }
}
