import CLinux
import Glibc

/// A long-lived process's resident memory trimmed to what it goes on using: the pages of its
/// executable and libraries it touched while starting up (argument parsing, the config, the
/// launch) leave its page tables; those its loop needs fault back in from the page cache. The
/// monitor of a started container does this once it runs.
public enum ResidentMemory {
    /// Unmaps, in every file-backed mapping, the pages that are still the file's
    /// (MADV_DONTNEED, page by page from /proc/self/pagemap): they stay in the page cache for
    /// the next swrun to start, where MADV_PAGEOUT evicted them from it (and cost every later
    /// command reading the binary from disk again). The pages this process wrote (its .data,
    /// the GOT it resolved) are private copies and stay: dropping them would lose the writes.
    public static func releaseFilePages() {
        guard let maps = try? FileSystem.readText("/proc/self/maps") else { return }
        let pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)
        guard pagemap >= 0 else { return }
        defer { close(pagemap) }
        for mapping in Mapping.parse(maps) where mapping.fileBacked {
            _ = swrun_drop_file_pages(pagemap, mapping.start, mapping.end)
        }
    }

    /// One line of /proc/PID/maps: the range, and whether a file backs it.
    struct Mapping: Equatable {
        var start: UInt
        var end: UInt
        var fileBacked: Bool

        static func parse(_ maps: String) -> [Mapping] {
            maps.split(separator: "\n").compactMap { line in
                // address perms offset device inode [path]: inode 0 is anonymous memory.
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                let range = fields.first?.split(separator: "-") ?? []
                guard fields.count >= 5, range.count == 2, let start = UInt(range[0], radix: 16),
                      let end = UInt(range[1], radix: 16), end > start else { return nil }
                return Mapping(start: start, end: end, fileBacked: fields[4] != "0")
            }
        }
    }

    /// This process's resident set in kB, as /proc/self/status counts it (VmRSS).
    public static func residentKilobytes(of pid: pid_t = getpid()) -> Int? {
        guard let status = try? FileSystem.readText("/proc/\(pid)/status") else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "")
        }
        return nil
    }
}
