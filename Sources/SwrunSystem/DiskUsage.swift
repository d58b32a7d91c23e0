import Glibc

/// What a tree takes on disk, as du counts it: allocated blocks, each hard-linked file once,
/// without crossing into other filesystems (a running container's mounts, a loop image's).
public enum DiskUsage {
    public static func bytes(under path: String) -> UInt64 {
        var top = stat()
        guard lstat(path, &top) == 0 else { return 0 }
        var seen = Set<[UInt64]>()
        return walk(path, status: top, device: top.st_dev, seen: &seen)
    }

    private static func walk(_ path: String, status: stat, device: dev_t, seen: inout Set<[UInt64]>) -> UInt64 {
        if status.st_nlink > 1 && status.st_mode & S_IFMT != S_IFDIR {
            guard seen.insert([UInt64(status.st_dev), UInt64(status.st_ino)]).inserted else { return 0 }
        }
        var total = UInt64(max(status.st_blocks, 0)) * 512
        guard status.st_mode & S_IFMT == S_IFDIR, status.st_dev == device else { return total }
        for name in (try? FileSystem.listDirectory(path)) ?? [] {
            let child = FileSystem.join(path, name)
            var childStatus = stat()
            guard lstat(child, &childStatus) == 0, childStatus.st_dev == device else { continue }
            total += walk(child, status: childStatus, device: device, seen: &seen)
        }
        return total
    }
}
