import Glibc

/// A long-lived process's resident memory trimmed to what it goes on using: the pages of its
/// executable and libraries it touched while starting up (argument parsing, the config, the
/// launch) are handed back to the kernel (MADV_PAGEOUT, Linux 5.4); those its loop needs fault
/// back in from the page cache. The monitor of a started container does this once it runs.
public enum ResidentMemory {
    /// MADV_PAGEOUT from linux/mman.h (Glibc's headers may predate it).
    static let pageOut: Int32 = 21

    /// Pages out every file-backed mapping of this process (of a writable one, the pages it
    /// never wrote); its anonymous memory (heap, stacks) stays, as paging it out would only
    /// send it to swap.
    public static func releaseFilePages() {
        guard let maps = try? FileSystem.readText("/proc/self/maps") else { return }
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // address perms offset device inode [path]: inode 0 is anonymous memory.
            guard fields.count >= 5, fields[4] != "0" else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16), end > start else { continue }
            _ = madvise(UnsafeMutableRawPointer(bitPattern: start), Int(end - start), pageOut)
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
