import SwrunImages
import SwrunSystem
import Testing

/// Archives decompressed by a worker process, with shell stand-ins for
/// `swrun image decompress PATH` (the path comes last, as $0 of `sh -c`).
@Suite struct ArchiveOpenerTests {
    let scratch: ScratchDirectory
    let tar: [UInt8]

    init() throws {
        scratch = try ScratchDirectory()
        var builder = TarBuilder()
        builder.file("etc/hello", String(repeating: "hello\n", count: 50_000))
        tar = builder.archive
        try builder.write(to: scratch.join("plain.tar"))
        try run("gzip -n -c '\(scratch.join("plain.tar"))' > '\(scratch.join("archive.tar.gz"))'")
    }

    /// Reads the whole stream, alternating header-sized reads (served from the worker
    /// source's buffer) and large ones (read straight from the pipe).
    func readAll(_ source: any ByteSource) throws -> [UInt8] {
        var source = source
        var bytes: [UInt8] = []
        var size = 512
        while true {
            var chunk = [UInt8](repeating: 0, count: size)
            let count = try chunk.withUnsafeMutableBytes { buffer throws(SwrunError) in try source.read(into: buffer) }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            size = size == 512 ? 100_000 : 512
        }
    }

    @Test func aWorkersOutputIsTheArchivesTar() throws {
        let opener = ArchiveOpener(worker: ["/bin/sh", "-c", "exec gzip -dc \"$0\""])
        #expect(try readAll(try opener.open(scratch.join("archive.tar.gz"))) == tar)
    }

    @Test func aPlainTarIsReadWithoutAWorker() throws {
        let opener = ArchiveOpener(worker: ["/bin/false"])
        #expect(try readAll(try opener.open(scratch.join("plain.tar"))) == tar)
    }

    @Test func aWorkersErrorIsThrownAsItsOwn() throws {
        let opener = ArchiveOpener(worker: ["/bin/sh", "-c", #"echo 'error {"code":"verificationFailed","message":"the xz data of '"$0"' is corrupt"}' >&2; exit 1"#])
        let path = scratch.join("archive.tar.gz")
        let error = #expect(throws: SwrunError.self) { try readAll(try opener.open(path)) }
        #expect(error?.code == .verificationFailed && error?.message == "the xz data of \(path) is corrupt")
    }

    @Test func aWorkerThatDiesIsAnErrorNotATruncatedArchive() throws {
        let opener = ArchiveOpener(worker: ["/bin/sh", "-c", "head -c 1000 \"$0\" | gzip -dc 2>/dev/null; kill -9 $$"])
        let error = #expect(throws: SwrunError.self) { try readAll(try opener.open(scratch.join("archive.tar.gz"))) }
        #expect(error?.message.contains("killed by signal SIGKILL") == true, "\(String(describing: error))")
    }

    @Test func unpackingThroughAWorkerGivesTheSameFiles() throws {
        let rootfs = scratch.join("rootfs")
        try FileSystem.makeDirectory(rootfs)
        let opener = ArchiveOpener(worker: ["/bin/sh", "-c", "exec gzip -dc \"$0\""])
        let count = try RootfsUnpacker(rootfs: rootfs).unpack(file: scratch.join("archive.tar.gz"), opener: opener)
        let text = try FileSystem.readText(rootfs + "/etc/hello")
        #expect(count == 1 && text.count == 300_000)
    }
}
