import Glibc
import SwrunHTTP
import SwrunSystem

/// Writes a tar archive (POSIX pax: ustar headers, with a pax record where a name, link,
/// size or extended attribute does not fit) to a file descriptor, hashing what it writes:
/// for an uncompressed OCI layer the hash is both its digest and its diff_id. The reader
/// (TarReader) takes everything this writes; so do GNU tar and every engine.
final class TarWriter {
    private let fd: Int32
    private let hash = SHA256()
    private(set) var bytesWritten: Int64 = 0

    init(fd: Int32) {
        self.fd = fd
    }

    /// "sha256:HEX" of everything written, once `finish` has ended the archive.
    func digest() -> String { "sha256:" + hash.finalize() }

    /// Adds one member; a regular file's data is copied from `data` (an open fd, `entry.size` bytes).
    func add(_ entry: TarEntry, data: Int32 = -1) throws(SwrunError) {
        var records: [(String, [UInt8])] = []
        let name = entry.kind == .directory && !entry.path.hasSuffix("/") ? entry.path + "/" : entry.path
        if name.utf8.count > 100 { records.append(("path", Array(name.utf8))) }
        let link: String
        switch entry.kind {
        case .symlink(let target), .hardlink(let target): link = target
        default: link = ""
        }
        if link.utf8.count > 100 { records.append(("linkpath", Array(link.utf8))) }
        if entry.size > 0o77777777777 { records.append(("size", Array(String(entry.size).utf8))) }
        for (attribute, value) in entry.extendedAttributes.sorted(by: { $0.key < $1.key }) {
            records.append(("SCHILY.xattr." + attribute, value))
        }
        if !records.isEmpty {
            let body = Self.paxBody(records)
            try write(header(name: "PaxHeaders/" + String(name.split(separator: "/").last ?? "x").prefix(80), type: UInt8(ascii: "x"),
                             mode: 0o644, uid: 0, gid: 0, size: Int64(body.count), time: entry.modificationTime, link: ""))
            try write(body)
            try pad(body.count)
        }
        let (type, major, minor): (UInt8, UInt32, UInt32) = switch entry.kind {
        case .file: (UInt8(ascii: "0"), 0, 0)
        case .hardlink: (UInt8(ascii: "1"), 0, 0)
        case .symlink: (UInt8(ascii: "2"), 0, 0)
        case .characterDevice(let major, let minor): (UInt8(ascii: "3"), major, minor)
        case .blockDevice(let major, let minor): (UInt8(ascii: "4"), major, minor)
        case .directory: (UInt8(ascii: "5"), 0, 0)
        case .fifo: (UInt8(ascii: "6"), 0, 0)
        }
        let size = entry.kind == .file ? entry.size : 0
        try write(header(name: name, type: type, mode: entry.mode, uid: entry.uid, gid: entry.gid, size: size,
                         time: entry.modificationTime, link: link, major: major, minor: minor))
        guard size > 0 else { return }
        try copy(from: data, bytes: size)
        try pad(Int(size % 512))
    }

    /// The end: two zero blocks.
    func finish() throws(SwrunError) {
        try write([UInt8](repeating: 0, count: 1024))
    }

    // MARK: blocks

    private func header(name: String, type: UInt8, mode: UInt32, uid: UInt32, gid: UInt32, size: Int64, time: Int64, link: String,
                        major: UInt32 = 0, minor: UInt32 = 0) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: some Collection<UInt8>, at offset: Int, width: Int) {
            for (index, byte) in bytes.prefix(width).enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int64, at offset: Int, width: Int) {
            let digits = String(max(0, value), radix: 8)
            let text = digits.count < width ? String(repeating: "0", count: width - 1 - digits.count) + digits : String(repeating: "7", count: width - 1)
            put(Array(text.utf8), at: offset, width: width - 1)
        }
        put(Array(name.utf8), at: 0, width: 100)
        octal(Int64(mode & 0o7777), at: 100, width: 8)
        octal(Int64(uid), at: 108, width: 8)
        octal(Int64(gid), at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(time, at: 136, width: 12)
        put([UInt8](repeating: 0x20, count: 8), at: 148, width: 8)  // the checksum counts itself as spaces
        block[156] = type
        put(Array(link.utf8), at: 157, width: 100)
        put(Array("ustar\0".utf8), at: 257, width: 6)
        put(Array("00".utf8), at: 263, width: 2)
        octal(Int64(major), at: 329, width: 8)
        octal(Int64(minor), at: 337, width: 8)
        let checksum = block.reduce(0) { $0 + Int64($1) }
        octal(checksum, at: 148, width: 7)
        return block
    }

    /// pax records: "LENGTH KEY=VALUE\n", the length counting itself.
    static func paxBody(_ records: [(String, [UInt8])]) -> [UInt8] {
        var body: [UInt8] = []
        for (key, value) in records {
            let rest = 1 + key.utf8.count + 1 + value.count + 1
            var length = rest + String(rest).count
            if String(length).count != String(rest).count { length = rest + String(length).count }
            body += Array("\(length) \(key)=".utf8) + value + [0x0A]
        }
        return body
    }

    private func pad(_ used: Int) throws(SwrunError) {
        let remainder = used % 512
        if remainder != 0 { try write([UInt8](repeating: 0, count: 512 - remainder)) }
    }

    private func copy(from source: Int32, bytes: Int64) throws(SwrunError) {
        var left = bytes
        var buffer = [UInt8](repeating: 0, count: 256 << 10)
        while left > 0 {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, Int(min(Int64($0.count), left))) }
            guard count > 0 else { throw SwrunError.system("a file shrank while it was archived", Errno.current) }
            try write(buffer[0..<count])
            left -= Int64(count)
        }
    }

    private func write(_ bytes: some Collection<UInt8>) throws(SwrunError) {
        let array = Array(bytes)
        let failed = array.withUnsafeBytes { raw -> Errno? in
            hash.update(raw)
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return Errno.current
                }
                offset += written
            }
            return nil
        }
        if let failed { throw SwrunError.system("cannot write the archive", failed) }
        bytesWritten += Int64(array.count)
    }
}
