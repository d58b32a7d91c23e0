import Glibc
import SwrunSystem
import Testing
@testable import SwrunRuntime

@Suite struct ExitRecordTests {
    /// Written at a stop, emptied at the next start (read as none), rewritten in the same file.
    @Test func theRecordIsEmptiedAtAStartAndRewrittenInPlace() throws {
        let scratch = try ScratchDirectory("exit-record")
        #expect(ExitRecord.load(from: scratch.path) == nil)
        ExitRecord(code: 3, time: 100).write(to: scratch.path)
        #expect(ExitRecord.load(from: scratch.path) == ExitRecord(code: 3, time: 100))
        var first = stat()
        stat(scratch.path + "/" + ExitRecord.fileName, &first)
        ExitRecord.clear(from: scratch.path)
        #expect(ExitRecord.load(from: scratch.path) == nil)
        ExitRecord(code: 137, time: 200).write(to: scratch.path)
        #expect(ExitRecord.load(from: scratch.path) == ExitRecord(code: 137, time: 200))
        var second = stat()
        stat(scratch.path + "/" + ExitRecord.fileName, &second)
        #expect(first.st_ino == second.st_ino)
        #expect(try FileSystem.listDirectory(scratch.path) == [ExitRecord.fileName])
    }
}
