import Foundation
import Glibc
import SwrunSystem
import Testing

@Suite struct RootfsFileTests {
    @Test func rewritesInsideTheRootfsAndNeverThroughALink() throws {
        var template = Array("/tmp/swrun-rootfsfile-XXXXXX".utf8CString)
        let scratch = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileSystem.removeTree(scratch) }
        let rootfs = scratch + "/rootfs"
        try FileSystem.makeDirectories(rootfs + "/etc")
        try FileSystem.writeAtomically(scratch + "/outside", "host\n")

        #expect(RootfsFile.rewrite("etc/hosts", in: rootfs, create: true, owner: (1234, 5678)) { _ in "made\n" })
        #expect(try FileSystem.readText(rootfs + "/etc/hosts") == "made\n")
        var st = stat()
        lstat(rootfs + "/etc/hosts", &st)
        #expect(st.st_uid == 1234 && st.st_gid == 5678)
        #expect(!RootfsFile.rewrite("etc/hosts", in: rootfs) { _ in nil }, "nil leaves the file alone")

        // A final symlink is not followed, whether it points out of the rootfs or not.
        try FileSystem.symlink(scratch + "/outside", at: rootfs + "/etc/resolv.conf")
        #expect(!RootfsFile.rewrite("etc/resolv.conf", in: rootfs, create: true) { _ in "evil\n" })
        // A symlinked directory on the way resolves inside the rootfs.
        try FileSystem.symlink("/", at: rootfs + "/up")
        #expect(RootfsFile.rewrite("up/../../etc/hosts", in: rootfs) { $0.map { $0 + "more\n" } })
        #expect(try FileSystem.readText(rootfs + "/etc/hosts") == "made\nmore\n")
        #expect(try FileSystem.readText(scratch + "/outside") == "host\n")
    }

    @Test func readsInsideTheRootfsOnly() throws {
        var template = Array("/tmp/swrun-rootfsfile-XXXXXX".utf8CString)
        let scratch = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileSystem.removeTree(scratch) }
        let rootfs = scratch + "/rootfs"
        try FileSystem.makeDirectories(rootfs + "/etc")
        try FileSystem.writeAtomically(scratch + "/secret", "host secret\n")
        try FileSystem.writeAtomically(rootfs + "/etc/group", "root:x:0:\n")
        #expect(RootfsFile.read("/etc/group", in: rootfs) == "root:x:0:\n")
        #expect(RootfsFile.read("/etc/missing", in: rootfs) == nil)
        // An image's /etc/passwd that links out of it reads as absent, never as the host's file.
        try FileSystem.symlink(scratch + "/secret", at: rootfs + "/etc/passwd")
        #expect(RootfsFile.read("/etc/passwd", in: rootfs) == nil)
        try FileSystem.symlink("../../secret", at: rootfs + "/etc/shadow")
        #expect(RootfsFile.read("/etc/shadow", in: rootfs) == nil)
    }
}
