import CLinux
import Glibc
import SwrunConfig
import SwrunSystem

/// A directory as an OCI layer (an uncompressed tar, whose digest is also its diff_id). For an
/// overlay's upper directory, overlayfs's marks become OCI's: a whiteout (a character device
/// 0/0) is written as an empty `.wh.NAME`, an opaque directory (trusted.overlay.opaque=y) gets
/// a `.wh..wh..opq` after it. Owners are numeric; hard links stay links; of the extended
/// attributes, those an image may carry (user.*, file capabilities), as the unpacker keeps
/// them. Names are sorted, so one tree always gives one digest. With the idmaps of an
/// unprivileged container, owners are written as the container sees them (host ids shifted
/// back), not as they are on the host.
public enum LayerDiff {
    public struct Layer: Sendable {
        public var digest: String
        public var size: Int64
    }

    /// Writes the layer of `directory` to the file `path`.
    public static func write(_ directory: String, overlayMarks: Bool, idMaps: [IDMap] = [], to path: String) throws(SwrunError) -> Layer {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SwrunError.system("cannot write the layer \(path)", Errno.current) }
        defer { close(fd) }
        let writer = TarWriter(fd: fd)
        var walk = Walk(writer: writer, overlayMarks: overlayMarks, idMaps: idMaps)
        let root = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw SwrunError.system("cannot open \(directory)", Errno.current) }
        defer { close(root) }
        try walk.children(of: root, at: "", described: directory)
        try writer.finish()
        return Layer(digest: writer.digest(), size: writer.bytesWritten)
    }

    private struct Walk {
        let writer: TarWriter
        let overlayMarks: Bool
        let idMaps: [IDMap]
        /// The first name of each file with several, by device and inode.
        var linked: [String: String] = [:]

        mutating func children(of directory: Int32, at prefix: String, described: String) throws(SwrunError) {
            for name in try FileSystem.entries(of: directory, path: described).map(\.name).sorted() {
                try member(name, in: directory, at: prefix + name, described: described + "/" + name)
            }
        }

        mutating func member(_ name: String, in parent: Int32, at path: String, described: String) throws(SwrunError) {
            var status = stat()
            guard fstatat(parent, name, &status, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw SwrunError.system("cannot read \(described)", Errno.current)
            }
            let type = status.st_mode & S_IFMT
            var entry = TarEntry(path: path, kind: .file, mode: UInt32(status.st_mode & 0o7777),
                                 uid: idMaps.containerID(ofHost: status.st_uid, .uid), gid: idMaps.containerID(ofHost: status.st_gid, .gid),
                                 modificationTime: Int64(status.st_mtim.tv_sec), size: 0, extendedAttributes: [:])
            if overlayMarks && type == S_IFCHR && status.st_rdev == 0 {
                // overlayfs's whiteout: the name is gone from the layers below.
                let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
                entry.path = String(path[..<slash]) + ".wh." + name
                entry.mode = 0o644
                return try writer.add(entry)
            }
            switch type {
            case S_IFDIR:
                let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard fd >= 0 else { throw SwrunError.system("cannot open \(described)", Errno.current) }
                defer { close(fd) }
                entry.kind = .directory
                entry.extendedAttributes = Self.attributes(of: fd)
                try writer.add(entry)
                if overlayMarks && Self.isOpaque(fd) {
                    try writer.add(TarEntry(path: path + "/.wh..wh..opq", kind: .file, mode: 0o644, uid: 0, gid: 0,
                                            modificationTime: entry.modificationTime, size: 0, extendedAttributes: [:]))
                }
                try children(of: fd, at: path + "/", described: described)
            case S_IFREG:
                let key = "\(status.st_dev):\(status.st_ino)"
                if status.st_nlink > 1, let first = linked[key] {
                    entry.kind = .hardlink(target: first)
                    return try writer.add(entry)
                }
                if status.st_nlink > 1 { linked[key] = path }
                let fd = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                guard fd >= 0 else { throw SwrunError.system("cannot open \(described)", Errno.current) }
                defer { close(fd) }
                entry.size = Int64(status.st_size)
                entry.extendedAttributes = Self.attributes(of: fd)
                try writer.add(entry, data: fd)
            case S_IFLNK:
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let count = readlinkat(parent, name, &buffer, buffer.count - 1)
                guard count >= 0 else { throw SwrunError.system("cannot read the link \(described)", Errno.current) }
                entry.kind = .symlink(target: String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self))
                try writer.add(entry)
            case S_IFCHR, S_IFBLK:
                // glibc's major() and minor(): the device number's two halves, split over its bits.
                let device = UInt64(status.st_rdev)
                let major = UInt32(truncatingIfNeeded: ((device >> 8) & 0xFFF) | ((device >> 32) & ~0xFFF))
                let minor = UInt32(truncatingIfNeeded: (device & 0xFF) | ((device >> 12) & ~0xFF))
                entry.kind = type == S_IFCHR ? .characterDevice(major: major, minor: minor) : .blockDevice(major: major, minor: minor)
                try writer.add(entry)
            case S_IFIFO:
                entry.kind = .fifo
                try writer.add(entry)
            default:
                break  // sockets: nothing an image can hold
            }
        }

        static func isOpaque(_ fd: Int32) -> Bool {
            var mark: [UInt8] = [0]
            return fgetxattr(fd, "trusted.overlay.opaque", &mark, 1) == 1 && mark[0] == UInt8(ascii: "y")
        }

        /// The attributes an image may carry, as RootfsUnpacker keeps them.
        static func attributes(of fd: Int32) -> [String: [UInt8]] {
            var names = [CChar](repeating: 0, count: 4096)
            let length = flistxattr(fd, &names, names.count)
            guard length > 0 else { return [:] }
            var result: [String: [UInt8]] = [:]
            for raw in names[0..<length].split(separator: 0) {
                let name = String(decoding: raw.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                guard RootfsUnpacker.isAllowedAttribute(name) else { continue }
                var value = [UInt8](repeating: 0, count: 65536)
                let size = fgetxattr(fd, name, &value, value.count)
                if size >= 0 { result[name] = Array(value[0..<size]) }
            }
            return result
        }
    }
}
