import Glibc
import SwrunSystem
import Testing

@Suite struct AtomicWriteTests {
    @Test func aFileIsReplacedAndNoTemporaryStays() throws {
        let scratch = try ScratchDirectory("atomic-write")
        let path = scratch.path + "/record"
        try FileSystem.writeAtomically(path, "first\n", mode: 0o600)
        try FileSystem.writeAtomically(path, "second, longer\n", mode: 0o644)
        #expect(try FileSystem.readText(path) == "second, longer\n")
        var status = stat()
        #expect(stat(path, &status) == 0 && status.st_mode & 0o777 == 0o644)
        #expect(try FileSystem.listDirectory(scratch.path) == ["record"])
    }

    @Test func aSymlinkInPlaceIsReplacedNotFollowed() throws {
        let scratch = try ScratchDirectory("atomic-write")
        try FileSystem.writeAtomically(scratch.path + "/target", "kept\n")
        try FileSystem.symlink("target", at: scratch.path + "/link")
        try FileSystem.writeAtomically(scratch.path + "/link", "new\n")
        #expect(try FileSystem.readText(scratch.path + "/target") == "kept\n")
        #expect(FileSystem.kind(of: scratch.path + "/link") == .regular)
        #expect(try FileSystem.readText(scratch.path + "/link") == "new\n")
        #expect(try FileSystem.listDirectory(scratch.path).sorted() == ["link", "target"])
    }

    @Test func aDirectoryInPlaceIsNotReplaced() throws {
        let scratch = try ScratchDirectory("atomic-write")
        try FileSystem.makeDirectory(scratch.path + "/dir")
        #expect(throws: SwrunError.self) { try FileSystem.writeAtomically(scratch.path + "/dir", "text\n") }
        #expect(FileSystem.isDirectory(scratch.path + "/dir"))
        #expect(try FileSystem.listDirectory(scratch.path) == ["dir"])
    }

    @Test func aRecordIsRewrittenInPlaceShorterOrLonger() throws {
        let scratch = try ScratchDirectory("atomic-write")
        let path = scratch.path + "/swrun.state"
        #expect(try FileSystem.rewriteInPlace(path, Array("x\n".utf8)) == false, "nothing to rewrite: made with writeAtomically")
        try FileSystem.writeAtomically(path, "state=STARTING\nmode=boot\n", mode: 0o640)
        var before = stat()
        stat(path, &before)
        #expect(try FileSystem.rewriteInPlace(path, Array("state=RUNNING\nmode=boot\ninit_pid=42\n".utf8)))
        #expect(String(decoding: try FileSystem.readBytes(path, locked: true), as: UTF8.self) == "state=RUNNING\nmode=boot\ninit_pid=42\n")
        #expect(try FileSystem.rewriteInPlace(path, Array("state=RUNNING\n".utf8)))
        #expect(try FileSystem.readText(path) == "state=RUNNING\n")
        var after = stat()
        stat(path, &after)
        #expect(after.st_ino == before.st_ino && after.st_mode & 0o777 == 0o640)
        #expect(try FileSystem.listDirectory(scratch.path) == ["swrun.state"])
    }

    @Test func aSymlinkIsNotRewrittenThrough() throws {
        let scratch = try ScratchDirectory("atomic-write")
        try FileSystem.writeAtomically(scratch.path + "/target", "kept\n")
        try FileSystem.symlink("target", at: scratch.path + "/swrun.state")
        #expect(throws: SwrunError.self) { try FileSystem.rewriteInPlace(scratch.path + "/swrun.state", Array("x\n".utf8)) }
        #expect(try FileSystem.readText(scratch.path + "/target") == "kept\n")
    }
}
