import CLinux
import Glibc
import SwrunImages
import SwrunSystem
import Testing

/// Unpacking as root: owners, modes, links and nodes are kept, and no archive, however
/// hostile, writes outside the rootfs.
@Suite struct RootfsUnpackerTests {
    let scratch: ScratchDirectory
    let rootfs: String

    init() throws {
        scratch = try ScratchDirectory()
        rootfs = scratch.join("rootfs")
        try FileSystem.makeDirectory(rootfs)
    }

    /// Unpacks `tar`; returns the warnings.
    @discardableResult
    func unpack(_ tar: TarBuilder, options: RootfsUnpacker.Options = .init()) throws -> [String] {
        let path = scratch.join("archive-\(UInt32.random(in: 0...UInt32.max)).tar")
        try tar.write(to: path)
        var warnings: [String] = []
        try RootfsUnpacker(rootfs: rootfs, options: options, warn: { warnings.append($0) }).unpack(file: path)
        return warnings
    }

    func status(_ relative: String) -> stat? {
        var st = stat()
        return lstat(rootfs + "/" + relative, &st) == 0 ? st : nil
    }

    func text(_ relative: String) -> String? { try? FileSystem.readText(rootfs + "/" + relative) }

    @Test func keepsOwnersModesTimesAndLinks() throws {
        var tar = TarBuilder()
        tar.directory("./")
        tar.directory("usr/bin/", mode: 0o755)
        tar.file("usr/bin/su", "setuid", mode: 0o4755, uid: 0, gid: 0)
        tar.file("home/user/notes", "mine", mode: 0o600, uid: 1234, gid: 5678, mtime: 1_600_000_000)
        tar.symlink("bin", to: "usr/bin")
        tar.hardlink("usr/bin/su-again", to: "usr/bin/su")
        tar.fifo("run/initctl")
        tar.characterDevice("dev/null", major: 1, minor: 3)
        try unpack(tar, options: .init(deviceNodes: true))  // as a trusted template may ask

        let su = try #require(status("usr/bin/su"))
        #expect(su.st_mode & 0o7777 == 0o4755)
        let notes = try #require(status("home/user/notes"))
        #expect(notes.st_uid == 1234 && notes.st_gid == 5678 && notes.st_mode & 0o777 == 0o600)
        #expect(notes.st_mtim.tv_sec == 1_600_000_000)
        #expect(text("home/user/notes") == "mine")
        #expect(try FileSystem.readLink(rootfs + "/bin") == "usr/bin")
        #expect(status("usr/bin/su-again")?.st_ino == su.st_ino)
        #expect(status("run/initctl").map { $0.st_mode & S_IFMT == S_IFIFO } == true)
        let null = try #require(status("dev/null"))
        #expect(null.st_mode & S_IFMT == S_IFCHR && null.st_rdev == makedevice(1, 3))
    }

    @Test func keepsExtendedAttributes() throws {
        var tar = TarBuilder()
        tar.pax([("SCHILY.xattr.user.swrun", Array("fixture".utf8))])
        tar.file("tagged", "x")
        try unpack(tar)
        var value = [UInt8](repeating: 0, count: 32)
        let count = getxattr(rootfs + "/tagged", "user.swrun", &value, value.count)
        #expect(count == 7 && String(decoding: value[0..<max(count, 0)], as: UTF8.self) == "fixture")
    }

    /// A node in an image opens a host device from the container (`c 1 11`: the host's
    /// kernel log): images get none, and one warning says how many were skipped.
    @Test func deviceNodesAreSkippedWithOneWarning() throws {
        var tar = TarBuilder()
        tar.characterDevice("x/kmsg", major: 1, minor: 11)
        tar.characterDevice("x/mem", major: 1, minor: 1)
        tar.member("x/sda", .block, mode: 0o660, major: 8, minor: 0)
        tar.fifo("x/fifo")
        let warnings = try unpack(tar)
        #expect(status("x/kmsg") == nil && status("x/mem") == nil && status("x/sda") == nil)
        #expect(status("x/fifo").map { $0.st_mode & S_IFMT == S_IFIFO } == true, "FIFOs are still made")
        #expect(warnings.count == 1 && warnings[0].contains("skipped 3 device nodes"), "\(warnings)")
    }

    /// Only `user.*` and file capabilities: `trusted.*` (overlayfs's own) and security
    /// labels belong to the host. One warning per attribute name.
    @Test func onlyUserAttributesAndFileCapabilitiesAreApplied() throws {
        // VFS_CAP_REVISION_2, effective, permitted cap_net_raw (13).
        let capability: [UInt8] = [0x01, 0, 0, 0x02, 0, 0x20, 0, 0] + [UInt8](repeating: 0, count: 12)
        var tar = TarBuilder()
        for name in ["a", "b"] {
            tar.pax([("SCHILY.xattr.user.swrun", Array("fixture".utf8)), ("SCHILY.xattr.trusted.overlay.opaque", Array("y".utf8)),
                     ("SCHILY.xattr.security.selinux", Array("system_u:object_r:shadow_t:s0".utf8)),
                     ("SCHILY.xattr.security.capability", capability)])
            tar.file(name, "x")
        }
        let warnings = try unpack(tar)
        for name in ["a", "b"] {
            var value = [UInt8](repeating: 0, count: 64)
            #expect(getxattr(rootfs + "/" + name, "user.swrun", &value, value.count) == 7)
            #expect(getxattr(rootfs + "/" + name, "security.capability", &value, value.count) == 20)
            #expect(getxattr(rootfs + "/" + name, "trusted.overlay.opaque", &value, value.count) < 0)
            #expect(getxattr(rootfs + "/" + name, "security.selinux", &value, value.count) < 0)
        }
        #expect(warnings.count == 2 && warnings.allSatisfy { $0.contains("images may set only user.* and security.capability") }, "\(warnings)")
    }

    /// `.wh..` hid the directory the whiteout is in, and `.wh...` the one above it: at the
    /// top of a layer, the directory holding the rootfs on the host, with all it holds.
    @Test(arguments: ["etc/.wh..", ".wh...", "etc/.wh...", ".wh."])
    func whiteoutsThatNameNoFileAreRefused(_ whiteout: String) throws {
        let victim = scratch.join("beside-the-rootfs")
        try FileSystem.writeAtomically(victim, "host file")
        var lower = TarBuilder()
        lower.file("etc/keep", "k")
        try unpack(lower, options: .init(whiteouts: .applied))
        var upper = TarBuilder()
        upper.file(whiteout)
        let error = try #require(throws: SwrunError.self) { try unpack(upper, options: .init(whiteouts: .applied)) }
        #expect(error.message.contains("names no file of its directory"), "\(error.message)")
        #expect(try FileSystem.readText(victim) == "host file")
        #expect(text("etc/keep") == "k")
    }

    @Test func theLimitsApplyToEachArchive() throws {
        var tar = TarBuilder()
        for index in 0..<3 { tar.file("f\(index)", "x") }
        let error = try #require(throws: SwrunError.self) { try unpack(tar, options: .init(limits: ArchiveLimits(members: 2))) }
        #expect(error.message.contains("more than 2 members"))
    }

    @Test func laterMembersReplaceEarlierOnes() throws {
        var tar = TarBuilder()
        tar.file("etc/motd", "old")
        tar.file("etc/motd", "new")
        tar.directory("var/")
        tar.file("var/file", "x")
        tar.symlink("var", to: "/elsewhere")  // a directory replaced by a symlink
        try unpack(tar)
        #expect(text("etc/motd") == "new")
        #expect(try FileSystem.readLink(rootfs + "/var") == "/elsewhere")
    }

    @Test func refusesMembersThatClimbOutWithDotDot() throws {
        var tar = TarBuilder()
        tar.file("../escaped-dotdot", "no")
        let error = try #require(throws: SwrunError.self) { try unpack(tar) }
        #expect(error.message.contains("climbs out of the rootfs"))
        #expect(!FileSystem.exists(scratch.join("escaped-dotdot")))
    }

    @Test func absoluteNamesLandInsideTheRootfs() throws {
        var tar = TarBuilder()
        tar.file("/\(scratch.path.dropFirst())/escaped-absolute", "inside")
        try unpack(tar)
        #expect(!FileSystem.exists(scratch.join("escaped-absolute")))
        #expect(text(scratch.path.dropFirst() + "/escaped-absolute") == "inside")
    }

    @Test func symlinksCannotCarryWritesOutside() throws {
        let outside = scratch.join("outside")
        try FileSystem.makeDirectory(outside)
        var tar = TarBuilder()
        tar.symlink("absolute", to: outside)
        tar.file("absolute/escaped", "no")
        tar.symlink("up", to: "../../../../../..")
        tar.file("up\(outside)/escaped-relative", "no")
        tar.symlink("dangling", to: outside + "/made-by-link")
        tar.file("dangling", "replaces the link, never follows it")
        try unpack(tar)
        #expect(try FileSystem.listDirectory(outside).isEmpty)
        #expect(text(String(outside.dropFirst()) + "/escaped") == "no")  // resolved inside the rootfs
        #expect(text("dangling") == "replaces the link, never follows it")
    }

    @Test func hardLinksNameFilesInsideTheRootfsOnly() throws {
        let victim = scratch.join("victim")
        try FileSystem.writeAtomically(victim, "host file")
        var tar = TarBuilder()
        tar.hardlink("link-to-host", to: victim)
        let error = try #require(throws: SwrunError.self) { try unpack(tar) }
        #expect(error.message.contains("hard link"))

        var overwrite = TarBuilder()
        overwrite.file(String(victim.dropFirst()), "rootfs copy")
        overwrite.hardlink("link", to: victim)
        overwrite.file("link", "written through the link")
        try unpack(overwrite)
        #expect(try FileSystem.readText(victim) == "host file")
        #expect(text(String(victim.dropFirst())) == "rootfs copy")
        #expect(text("link") == "written through the link")

        var climbing = TarBuilder()
        climbing.hardlink("link2", to: "../../victim")
        #expect(throws: SwrunError.self) { try unpack(climbing) }
    }

    @Test func ociWhiteoutsHideLowerLayersOnly() throws {
        var lower = TarBuilder()
        lower.file("data/keep", "k"); lower.file("data/drop", "d")
        lower.file("opaque/old-a", "a"); lower.file("opaque/sub/old-b", "b"); lower.file("opaque/sub/kept-below")
        lower.file("usr/share/doc/x", "x")
        try unpack(lower, options: .init(whiteouts: .applied))

        var upper = TarBuilder()
        upper.file("data/.wh.drop")
        upper.file("opaque/new", "n")
        upper.file("opaque/sub/kept-below", "rewritten by this layer")
        upper.file("opaque/.wh..wh..opq")  // after this layer's own members: they stay
        upper.file("usr/share/.wh.doc")
        upper.file("etc/.wh.never-existed")
        try unpack(upper, options: .init(whiteouts: .applied))

        #expect(text("data/keep") == "k")
        #expect(status("data/drop") == nil)
        #expect(text("opaque/new") == "n")
        #expect(status("opaque/old-a") == nil)
        #expect(status("opaque/sub/old-b") == nil)
        #expect(text("opaque/sub/kept-below") == "rewritten by this layer")
        #expect(status("usr/share/doc") == nil && status("usr/share") != nil)
        #expect(status("data/.wh.drop") == nil && status("opaque/.wh..wh..opq") == nil)
    }

    /// A layer of the layer store: its whiteouts become overlayfs's marks, for the layers
    /// below to be hidden at mount time, not now.
    @Test func overlayModeMarksWhiteoutsAsOverlayfsDoes() throws {
        var layer = TarBuilder()
        layer.file("data/.wh.drop")
        layer.file("opaque/new", "n")
        layer.file("opaque/.wh..wh..opq")
        layer.file("gone/.wh..wh..opq")  // a directory only the marker names
        layer.file("etc/made", "m")
        layer.file("etc/.wh.made")  // this layer's own file stays
        try unpack(layer, options: .init(whiteouts: .overlay))

        let whiteout = try #require(status("data/drop"))
        #expect(whiteout.st_mode & S_IFMT == S_IFCHR && whiteout.st_rdev == 0)
        for directory in ["opaque", "gone"] {
            var mark: [UInt8] = [0, 0]
            #expect(getxattr(rootfs + "/" + directory, "trusted.overlay.opaque", &mark, 2) == 1 && mark[0] == UInt8(ascii: "y"), "\(directory)")
        }
        #expect(text("opaque/new") == "n" && text("etc/made") == "m")
        #expect(status("data/.wh.drop") == nil && status("opaque/.wh..wh..opq") == nil)
        var none: [UInt8] = [0]
        #expect(getxattr(rootfs + "/etc", "trusted.overlay.opaque", &none, 1) < 0)
    }

    @Test func withoutOCIModeWhiteoutNamesAreOrdinaryFiles() throws {
        var tar = TarBuilder()
        tar.file("a/.wh.b", "plain")
        try unpack(tar)
        #expect(text("a/.wh.b") == "plain")
    }
}

private func makedevice(_ major: UInt32, _ minor: UInt32) -> dev_t {
    dev_t(major) << 8 | dev_t(minor)
}
