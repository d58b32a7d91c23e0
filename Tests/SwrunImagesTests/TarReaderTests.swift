import SwrunImages
import SwrunSystem
import Testing

@Suite struct TarReaderTests {
    func entries(_ archive: [UInt8]) throws -> [TarEntry] {
        let reader = TarReader(MemorySource(archive), name: "test.tar")
        var result: [TarEntry] = []
        while let entry = try reader.next() { result.append(entry) }
        return result
    }

    @Test func readsEveryKindOfMember() throws {
        var tar = TarBuilder()
        tar.directory("etc/")
        tar.file("etc/hostname", "box\n", mode: 0o4755, uid: 1234, gid: 5678, mtime: 1_600_000_000)
        tar.symlink("etc/link", to: "/etc/hostname")
        tar.hardlink("etc/again", to: "etc/hostname")
        tar.fifo("run/fifo")
        tar.characterDevice("dev/null", major: 1, minor: 3)
        let found = try entries(tar.archive)
        #expect(found.map(\.path) == ["etc/", "etc/hostname", "etc/link", "etc/again", "run/fifo", "dev/null"])
        #expect(found[0].kind == .directory)
        #expect(found[1].kind == .file && found[1].size == 4 && found[1].mode == 0o4755)
        #expect(found[1].uid == 1234 && found[1].gid == 5678 && found[1].modificationTime == 1_600_000_000)
        #expect(found[2].kind == .symlink(target: "/etc/hostname"))
        #expect(found[3].kind == .hardlink(target: "etc/hostname"))
        #expect(found[4].kind == .fifo)
        #expect(found[5].kind == .characterDevice(major: 1, minor: 3))
    }

    @Test func readsDataAndSkipsWhatIsNotRead() throws {
        var tar = TarBuilder()
        tar.file("a", String(repeating: "x", count: 1000))
        tar.file("b", "second")
        let reader = TarReader(MemorySource(tar.archive), name: "test.tar")
        #expect(try reader.next()?.path == "a")  // its data is never read
        #expect(try reader.next()?.path == "b")
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = try buffer.withUnsafeMutableBytes { try reader.readData(into: $0) }
        #expect(String(decoding: buffer[0..<count], as: UTF8.self) == "second")
        #expect(try reader.next() == nil)
    }

    @Test func paxRecordsGiveLongPathsOwnersAndExtendedAttributes() throws {
        let long = String(repeating: "d/", count: 80) + "file"
        var tar = TarBuilder()
        tar.pax([("path", Array(long.utf8)), ("uid", Array("4000000000".utf8)), ("SCHILY.xattr.user.swrun", Array("fixture".utf8)),
                 ("mtime", Array("1700000000.123456".utf8))])
        tar.file("short-name", "x")
        let entry = try #require(try entries(tar.archive).first)
        #expect(entry.path == long)
        #expect(entry.uid == 4_000_000_000)
        #expect(entry.modificationTime == 1_700_000_000)
        #expect(entry.extendedAttributes == ["user.swrun": Array("fixture".utf8)])
    }

    @Test func readsWhatGNUTarWrites() throws {
        let scratch = try ScratchDirectory()
        let long = String(repeating: "long-directory-name/", count: 8)
        try run("mkdir -p '\(scratch.join("tree/" + long))' && echo hi > '\(scratch.join("tree/" + long + "f"))' && ln -s f '\(scratch.join("tree/" + long + "l"))'")
        try run("tar --format=gnu -C '\(scratch.join("tree"))' -cf '\(scratch.join("gnu.tar"))' .")
        let reader = TarReader(try DecompressingSource(try FileSource(path: scratch.join("gnu.tar"))), name: "gnu.tar")
        var paths: [String] = []
        while let entry = try reader.next() { paths.append(entry.path) }
        #expect(paths.contains("./" + long + "f"))
        #expect(paths.contains("./" + long + "l"))
    }

    @Test func aCorruptHeaderIsAClearError() throws {
        var tar = TarBuilder()
        tar.file("a", "x")
        var bytes = tar.archive
        bytes[0] ^= 0x20
        let error = try #require(throws: SwrunError.self) { try entries(bytes) }
        #expect(error.code == .verificationFailed)
        #expect(error.message.contains("header checksum"))
    }

    @Test func aTruncatedArchiveIsAClearError() throws {
        var tar = TarBuilder()
        tar.file("a", String(repeating: "x", count: 2000))
        let error = try #require(throws: SwrunError.self) {
            let reader = TarReader(MemorySource(Array(tar.bytes.prefix(1024))), name: "cut.tar")
            _ = try reader.next()
            var buffer = [UInt8](repeating: 0, count: 4096)
            while try buffer.withUnsafeMutableBytes({ try reader.readData(into: $0) }) > 0 {}
        }
        #expect(error.message.contains("truncated"))
    }

    /// A header whose size field is `field` (12 bytes, base-256 when the first has its top bit).
    func header(type: TarBuilder.MemberType, size field: [UInt8]) -> [UInt8] {
        var tar = TarBuilder()
        tar.member("x", type)
        var bytes = tar.archive
        bytes.replaceSubrange(124..<136, with: field)
        for index in 148..<156 { bytes[index] = 32 }
        let sum = bytes[0..<512].reduce(0) { $0 + Int($1) }
        let digits = Array(String(sum, radix: 8).utf8)
        bytes.replaceSubrange(148..<155, with: [UInt8](repeating: UInt8(ascii: "0"), count: 7 - digits.count) + digits)
        bytes[155] = 0
        return bytes
    }

    /// Base-256 numbers that are negative or do not fit in 64 bits were read wrapped around:
    /// a negative size for an extended header trapped in the allocation, and a directory of
    /// Int64.max bytes overflowed its padding.
    @Test(arguments: [
        ("negative size of a pax header", TarBuilder.MemberType.pax, [UInt8](repeating: 0xff, count: 12)),
        ("Int64.max bytes of directory", .directory, [0x80, 0, 0, 0, 0x7f] + [UInt8](repeating: 0xff, count: 7)),
        ("2^80 bytes of file", .file, [0x80, 0x01] + [UInt8](repeating: 0, count: 10)),
    ])
    func base256NumbersOutOfRangeAreErrors(_ what: String, type: TarBuilder.MemberType, field: [UInt8]) throws {
        let error = try #require(throws: SwrunError.self, "\(what)") { try entries(header(type: type, size: field)) }
        #expect(error.code == .verificationFailed && error.message.contains("size"), "\(what): \(error.message)")
    }

    @Test func aBase256NumberInRangeIsRead() throws {
        let bytes = header(type: .file, size: [0x80] + [UInt8](repeating: 0, count: 9) + [0x01, 0x00])
        let reader = TarReader(MemorySource(bytes + [UInt8](repeating: 0, count: 1024)), name: "test.tar")
        #expect(try reader.next()?.size == 256)
    }

    /// pax record lengths are untrusted: one past the end, or shorter than its own digits,
    /// was a range trap, and a huge one overflowed `offset + length`.
    @Test(arguments: [
        "9223372036854775807 path=x\n",
        "11 mtime=1\n9223372036854775807 path=x\n",
        "11 mtime=1\n9223372036854775806 path=x\n",
        "1 a=b\n",
        "3 a=b\n",
        "99999999999999999999999 path=x\n",
        "-5 path=x\n",
        "5 path=long-record-without-its-newline",
    ])
    func malformedPaxLengthsAreErrors(_ record: String) throws {
        var tar = TarBuilder()
        tar.member("PaxHeader", .pax, data: Array(record.utf8))
        tar.file("a", "x")
        let error = try #require(throws: SwrunError.self) { try entries(tar.archive) }
        #expect(error.message.contains("pax extended header is malformed"), "\(record): \(error.message)")
    }

    /// A pax size is a number too: negative, it was taken as it came.
    @Test(arguments: [("-1", "size field is out of range (-1)"), ("4611686018427387905", "size field is out of range"),
                      ("9223372036854775808", "the pax record size is not a number")])
    func negativeOrHugeSizesInPaxRecordsAreErrors(_ size: String, _ message: String) throws {
        var tar = TarBuilder()
        tar.pax([("size", Array(size.utf8))])
        tar.file("a", "x")
        let error = try #require(throws: SwrunError.self) { try entries(tar.archive) }
        #expect(error.message.contains(message), "\(size): \(error.message)")
    }

    @Test func anArchiveWithMoreMembersThanTheLimitIsRefused() throws {
        var tar = TarBuilder()
        for index in 0..<4 { tar.file("f\(index)", "x") }
        let reader = TarReader(MemorySource(tar.archive), name: "bomb.tar", limits: ArchiveLimits(members: 3))
        let error = try #require(throws: SwrunError.self) { while try reader.next() != nil {} }
        #expect(error.message == "bomb.tar holds more than 3 members; refusing it (a limit against archive bombs)")
        #expect(error.hint?.contains("SWRUN_ARCHIVE_MAX_MEMBERS") == true)
    }

    @Test func anArchiveWithMoreDataThanTheLimitIsRefused() throws {
        var tar = TarBuilder()
        tar.file("a", String(repeating: "x", count: 600))
        tar.file("b", String(repeating: "x", count: 600))
        let reader = TarReader(MemorySource(tar.archive), name: "bomb.tar", limits: ArchiveLimits(bytes: 1000))
        #expect(try reader.next()?.path == "a")
        let error = try #require(throws: SwrunError.self) { _ = try reader.next() }
        #expect(error.message == "bomb.tar unpacks to more than 1000 bytes; refusing it (a limit against archive bombs)")
        #expect(error.hint?.contains("SWRUN_ARCHIVE_MAX_BYTES") == true)
    }

    @Test func theLimitsComeFromTheEnvironment() {
        let limits = ArchiveLimits(environment: ["SWRUN_ARCHIVE_MAX_MEMBERS": "10", "SWRUN_ARCHIVE_MAX_BYTES": "nonsense"])
        #expect(limits == ArchiveLimits(members: 10, bytes: ArchiveLimits.defaultBytes))
        #expect(ArchiveLimits(environment: [:]) == ArchiveLimits())
    }

    @Test func anEmptyStreamIsAnEmptyArchive() throws {
        #expect(try entries([]).isEmpty)
    }
}

@Suite struct DecompressionTests {
    @Test func detectsCompressionByMagic() {
        #expect(Compression.detect([0x1f, 0x8b, 8, 0, 0, 0]) == .gzip)
        #expect(Compression.detect([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) == .xz)
        #expect(Compression.detect([0x28, 0xb5, 0x2f, 0xfd, 0, 0]) == .zstd)
        #expect(Compression.detect(Array("BZh91AY".utf8)) == .bzip2)
        #expect(Compression.detect(Array("ustar".utf8)) == .none)
    }

    @Test(arguments: [("gzip", Compression.gzip), ("xz", .xz), ("zstd -q", .zstd), ("bzip2", .bzip2)])
    func decompressesWhatTheToolWrote(tool: String, expected: Compression) throws {
        let scratch = try ScratchDirectory()
        // Larger than one buffer, so the decoder runs over several reads.
        var text = ""
        for line in 0..<60_000 { text += "line \(line)\n" }
        try FileSystem.writeAtomically(scratch.join("plain"), text)
        try run("\(tool) -c '\(scratch.join("plain"))' > '\(scratch.join("packed"))'")
        let source = try DecompressingSource(try FileSource(path: scratch.join("packed")))
        #expect(source.compression == expected)
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 10_000)
        while case let count = try buffer.withUnsafeMutableBytes({ try source.read(into: $0) }), count > 0 { out += buffer[0..<count] }
        #expect(out == Array(text.utf8))
    }

    @Test func concatenatedGzipMembersAreAllRead() throws {
        let scratch = try ScratchDirectory()
        try run("cd '\(scratch.path)' && printf one | gzip > a && printf two | gzip >> a")
        let source = try DecompressingSource(try FileSource(path: scratch.join("a")))
        var buffer = [UInt8](repeating: 0, count: 64)
        var out: [UInt8] = []
        while case let count = try buffer.withUnsafeMutableBytes({ try source.read(into: $0) }), count > 0 { out += buffer[0..<count] }
        #expect(String(decoding: out, as: UTF8.self) == "onetwo")
    }

    @Test func aTruncatedStreamIsAClearError() throws {
        let scratch = try ScratchDirectory()
        try run("cd '\(scratch.path)' && head -c 200000 /dev/urandom | xz -0 > full && head -c 5000 full > cut")
        let source = try DecompressingSource(try FileSource(path: scratch.join("cut")))
        var buffer = [UInt8](repeating: 0, count: 65536)
        let error = try #require(throws: SwrunError.self) {
            while try buffer.withUnsafeMutableBytes({ try source.read(into: $0) }) > 0 {}
        }
        #expect(error.code == .verificationFailed)
        #expect(error.message.contains("xz"))
    }
}
