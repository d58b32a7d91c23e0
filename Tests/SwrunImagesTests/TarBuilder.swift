import Glibc
import SwrunSystem

/// Writes small tar archives member by member, so tests can build exactly the archive
/// they need, hostile ones included, without depending on a tar program's choices.
struct TarBuilder {
    private(set) var bytes: [UInt8] = []

    enum MemberType: UInt8 {
        case file = 48, hardlink = 49, symlink = 50, character = 51, block = 52, directory = 53, fifo = 54, pax = 120
    }

    mutating func file(_ name: String, _ content: String = "", mode: Int = 0o644, uid: Int = 0, gid: Int = 0, mtime: Int = 1_700_000_000) {
        member(name, .file, data: Array(content.utf8), mode: mode, uid: uid, gid: gid, mtime: mtime)
    }
    mutating func directory(_ name: String, mode: Int = 0o755) { member(name, .directory, mode: mode) }
    mutating func symlink(_ name: String, to target: String) { member(name, .symlink, link: target, mode: 0o777) }
    mutating func hardlink(_ name: String, to target: String) { member(name, .hardlink, link: target) }
    mutating func fifo(_ name: String) { member(name, .fifo) }
    mutating func characterDevice(_ name: String, major: Int, minor: Int) { member(name, .character, mode: 0o666, major: major, minor: minor) }

    /// A pax extended header for the member that follows.
    mutating func pax(_ records: [(String, [UInt8])]) {
        var data: [UInt8] = []
        for (key, value) in records {
            let body = Array(" \(key)=".utf8) + value + [10]
            // The length counts its own digits: grow until it is consistent.
            var length = body.count + 1
            while String(length).utf8.count + body.count != length { length = String(length).utf8.count + body.count }
            data += Array(String(length).utf8) + body
        }
        member("PaxHeader", .pax, data: data)
    }

    mutating func member(_ name: String, _ type: MemberType, data: [UInt8] = [], link: String = "", mode: Int = 0o644,
                         uid: Int = 0, gid: Int = 0, mtime: Int = 1_700_000_000, major: Int = 0, minor: Int = 0) {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, _ offset: Int, _ length: Int) {
            for (index, byte) in text.utf8.prefix(length).enumerated() { header[offset + index] = byte }
        }
        func octal(_ value: Int, _ offset: Int, _ length: Int) {
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: max(0, length - 1 - digits.count)) + digits, offset, length - 1)
        }
        put(name, 0, 100)
        octal(mode, 100, 8); octal(uid, 108, 8); octal(gid, 116, 8)
        octal(data.count, 124, 12); octal(mtime, 136, 12)
        header[156] = type.rawValue
        put(link, 157, 100)
        put("ustar", 257, 6); put("00", 263, 2)
        octal(major, 329, 8); octal(minor, 337, 8)
        for index in 148..<156 { header[index] = 32 }
        octal(header.reduce(0) { $0 + Int($1) }, 148, 8)
        bytes += header + data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }

    /// The archive with its two closing zero blocks.
    var archive: [UInt8] { bytes + [UInt8](repeating: 0, count: 1024) }

    func write(to path: String) throws {
        try FileSystem.writeAtomically(path, archive)
    }
}

/// A scratch directory removed when the test ends, pass or fail.
final class ScratchDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/swrun-images-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SwrunError.system("mkdtemp", Errno.current) }
        path = String(cString: made)
    }

    deinit { try? FileSystem.removeTree(path) }

    func join(_ name: String) -> String { path + "/" + name }
}

func run(_ command: String) throws {
    let status = system(command)
    if status != 0 { throw SwrunError(.system, "`\(command)` failed with status \(status)") }
}
