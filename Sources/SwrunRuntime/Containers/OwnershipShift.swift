import Glibc
import SwrunConfig
import SwrunSystem

/// Moves a rootfs's ownership into the host ids of an unprivileged container: every file
/// owned by container id N becomes owned by the host id lxc.idmap gives N, so that root
/// inside owns what root owned in the image. Symlinks are changed themselves, never followed,
/// and the walk stays on the rootfs's filesystem.
enum OwnershipShift {
    static func shift(_ root: String, maps: [IDMap]) throws(SwrunError) {
        var st = stat()
        guard lstat(root, &st) == 0 else { throw SwrunError.system("cannot inspect \(root)", Errno.current) }
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 { throw SwrunError.system("cannot open \(root)", Errno.current) }
        defer { close(fd) }
        try change(fd, name: ".", status: st, path: root, maps: maps)
        var seen = Set<InodeKey>()
        try walk(fd, device: st.st_dev, path: root, maps: maps, seen: &seen)
    }

    /// A file with several hard links is shifted once: a second visit would find it moved already.
    struct InodeKey: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    /// The host id for container id `id`, through the maps of one kind.
    static func hostID(_ id: UInt32, _ kind: IDMap.Kind, _ maps: [IDMap]) -> UInt32? {
        maps.first { $0.kind == kind && id >= $0.containerID && id - $0.containerID < $0.count }
            .map { $0.hostID + (id - $0.containerID) }
    }

    private static func change(_ directory: Int32, name: String, status: stat, path: String, maps: [IDMap]) throws(SwrunError) {
        guard let uid = hostID(status.st_uid, .uid, maps), let gid = hostID(status.st_gid, .gid, maps) else {
            throw SwrunError(.invalidConfig, "\(path) is owned by \(status.st_uid):\(status.st_gid), which lxc.idmap does not map",
                             hint: "map that id too, or change the file's owner in the rootfs")
        }
        if fchownat(directory, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0 {
            throw SwrunError.system("cannot change the owner of \(path)", Errno.current)
        }
        // chown clears setuid and setgid bits; put them back (not on symlinks, which have no mode).
        if status.st_mode & S_IFMT != S_IFLNK && status.st_mode & (S_ISUID | S_ISGID) != 0 {
            fchmodat(directory, name, status.st_mode & 0o7777, 0)
        }
    }

    private static func walk(_ directory: Int32, device: dev_t, path: String, maps: [IDMap], seen: inout Set<InodeKey>) throws(SwrunError) {
        for (name, st) in try FileSystem.entries(of: directory, path: path) {
            let child = path + "/" + name
            if st.st_nlink > 1 && st.st_mode & S_IFMT != S_IFDIR {
                guard seen.insert(InodeKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))).inserted else { continue }
            }
            try change(directory, name: name, status: st, path: child, maps: maps)
            if st.st_mode & S_IFMT == S_IFDIR && st.st_dev == device {
                let fd = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if fd < 0 { throw SwrunError.system("cannot open \(child)", Errno.current) }
                defer { close(fd) }
                try walk(fd, device: device, path: child, maps: maps, seen: &seen)
            }
        }
    }
}

/// The id ranges /etc/subuid and /etc/subgid delegate to a user ("root:100000:65536").
enum SubordinateIDs {
    static func ranges(for user: String, in path: String) -> [(start: UInt32, count: UInt32)] {
        guard let text = try? FileSystem.readText(path) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ":")
            guard fields.count == 3, fields[0] == Substring(user) || fields[0] == "0",
                  let start = UInt32(fields[1]), let count = UInt32(fields[2]), count > 0 else { return nil }
            return (start, count)
        }
    }

    static func firstRange(for user: String, in path: String) -> (start: UInt32, count: UInt32)? {
        ranges(for: user, in: path).first
    }

    /// Where the files delegate ranges to root, every map must lie inside one of them; where
    /// they delegate none, root may map any ids, as the kernel lets it.
    static func checkDelegation(_ maps: [IDMap], subuid: String = "/etc/subuid", subgid: String = "/etc/subgid") throws(SwrunError) {
        for (kind, path) in [(IDMap.Kind.uid, subuid), (IDMap.Kind.gid, subgid)] where maps.contains(where: { $0.kind == kind }) {
            let delegated = ranges(for: "root", in: path)
            guard !delegated.isEmpty else { continue }
            for map in maps where map.kind == kind {
                let inside = delegated.contains { map.hostID >= $0.start && UInt64(map.hostID) + UInt64(map.count) <= UInt64($0.start) + UInt64($0.count) }
                if !inside {
                    let name = kind.rawValue
                    throw SwrunError(.invalidConfig, "lxc.idmap = \(name) \(map.containerID) \(map.hostID) \(map.count) is not delegated to root in \(path)",
                                     hint: "use a range that \(path) gives root (\(delegated.map { "\($0.start)+\($0.count)" }.joined(separator: ", "))), or add one there")
                }
            }
        }
    }
}
