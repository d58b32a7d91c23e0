import CLinux
import Glibc
@testable import SwrunSystem
import Testing

/// The monitor's trim of its resident memory: only file pages that hold nothing of its own go.
@Suite struct ResidentMemoryTests {
    @Test func mapsLinesGiveRangesAndWhetherAFileBacksThem() {
        let maps = """
        00400000-0127c000 r-xp 00000000 fe:00 1311   /usr/local/bin/swrun
        01e8a000-01f0c000 rw-p 00000000 00:00 0      [heap]
        7ffd1000-7ffd3000 r-xp 00000000 00:00 0      [vdso]
        not a mapping
        """
        #expect(ResidentMemory.Mapping.parse(maps) == [
            .init(start: 0x400000, end: 0x127c000, fileBacked: true),
            .init(start: 0x1e8a000, end: 0x1f0c000, fileBacked: false),
            .init(start: 0x7ffd1000, end: 0x7ffd3000, fileBacked: false),
        ])
    }

    /// A file's pages leave the resident set; a page written since (a private copy) stays, and
    /// keeps what was written.
    @Test func onlyTheFilesOwnPagesAreDropped() throws {
        let path = "/proc/self/exe"  // any file will do; this one is surely readable
        let file = open(path, O_RDONLY | O_CLOEXEC)
        try #require(file >= 0)
        defer { close(file) }
        let pages = 4, size = pages * 4096
        let mapped = try #require(mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, file, 0))
        try #require(mapped != MAP_FAILED)
        defer { munmap(mapped, size) }
        let bytes = mapped.assumingMemoryBound(to: UInt8.self)
        var sum = 0
        for page in 0..<pages { sum += Int(bytes[page * 4096]) }  // all four resident, the file's
        bytes[4096] = bytes[4096] &+ 1                              // the second one a private copy
        let written = bytes[4096]
        let pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)
        try #require(pagemap >= 0)
        defer { close(pagemap) }
        let start = UInt(bitPattern: mapped)
        #expect(swrun_drop_file_pages(pagemap, start, start + UInt(size)) == 3)
        // pagemap now: the written page alone present (bit 63), and not the file's (bit 61).
        var entries = [UInt64](repeating: 0, count: pages)
        let read = entries.withUnsafeMutableBytes { pread(pagemap, $0.baseAddress, $0.count, off_t(start / 4096 * 8)) }
        try #require(read == size / 4096 * 8)
        #expect(entries.map { $0 >> 63 } == [0, 1, 0, 0])
        #expect(entries[1] & (1 << 61) == 0)
        #expect(bytes[4096] == written && sum >= 0, "the written page kept its write")
    }

    /// Dropping a page this process wrote (a relocated GOT, .data) would crash it at the next
    /// call through it: after the trim, the process goes on as before.
    @Test func aTrimmedProcessKeepsWorking() {
        ResidentMemory.releaseFilePages()
        // Through libc's GOT (strlen is resolved at load) and Swift's runtime, both trimmed.
        let text = String(repeating: "swrun ", count: 4096)
        #expect(strlen(text) == 6 * 4096)
        #expect(text.split(separator: " ").count == 4096)
    }
}
