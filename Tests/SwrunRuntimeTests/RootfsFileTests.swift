import CLinux
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

    func scratchRootfs() throws -> (scratch: String, rootfs: String) {
        var template = Array("/tmp/swrun-rootfsfile-XXXXXX".utf8CString)
        let scratch = String(cString: try #require(mkdtemp(&template)))
        try FileSystem.makeDirectories(scratch + "/rootfs/etc")
        return (scratch, scratch + "/rootfs")
    }

    /// A container's passwd may be anything: only a regular file of reasonable size is read,
    /// and links resolve inside the rootfs (to its own /dev/zero, never the host's).
    @Test func readsOnlyRegularFilesOfBoundedSize() throws {
        let (scratch, rootfs) = try scratchRootfs()
        defer { try? FileSystem.removeTree(scratch) }
        try FileSystem.writeAtomically(rootfs + "/etc/big", [UInt8](repeating: 0x61, count: RootfsFile.sizeLimit + 1))
        #expect(RootfsFile.read("/etc/big", in: rootfs)?.utf8.count == nil)
        #expect(!RootfsFile.rewrite("etc/big", in: rootfs) { _ in "small\n" }, "a file too large to read is not rewritten either")
        try FileSystem.writeAtomically(rootfs + "/etc/limit", [UInt8](repeating: 0x61, count: RootfsFile.sizeLimit))
        #expect(RootfsFile.read("/etc/limit", in: rootfs)?.utf8.count == RootfsFile.sizeLimit)
        try FileSystem.symlink("/dev/zero", at: rootfs + "/etc/passwd")
        #expect(RootfsFile.read("/etc/passwd", in: rootfs) == nil)
        #expect(mknod(rootfs + "/etc/group", S_IFCHR | 0o644, swrun_makedev(1, 3)) == 0)
        #expect(RootfsFile.read("/etc/group", in: rootfs) == nil)
    }

    /// A FIFO is never opened for reading: that would wait for a writer the container may
    /// never provide. Should the read wait all the same, a writer comes after 10 s to end it,
    /// and the test fails.
    @Test func neverWaitsOnAFIFO() throws {
        let (scratch, rootfs) = try scratchRootfs()
        defer { try? FileSystem.removeTree(scratch) }
        let fifo = rootfs + "/etc/passwd"
        #expect(mkfifo(fifo, 0o644) == 0)
        let done = DispatchSemaphore(value: 0), rescued = DispatchSemaphore(value: 0)
        let rescuer = Thread {
            if done.wait(timeout: .now() + 10) == .timedOut {
                let writer = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
                if writer >= 0 { close(writer) }
                rescued.signal()
            }
        }
        rescuer.start()
        let text = RootfsFile.read("/etc/passwd", in: rootfs)
        done.signal()
        #expect(text == nil)
        #expect(rescued.wait(timeout: .now()) == .timedOut, "the read waited for a writer")
        #expect(!RootfsFile.rewrite("etc/passwd", in: rootfs, create: true) { _ in "x\n" })
    }
}
