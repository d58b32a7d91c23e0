import SwrunSystem

/// Reads a tar archive from a stream, member by member: ustar, GNU long names and pax
/// extended headers (the formats GNU tar, bsdtar, Docker and image builders write).
/// The bytes are untrusted: every number is checked before it is used, a malformed header
/// is an error (never a trap), and `limits` bound what one archive may hold.
public final class TarReader {
    /// The largest size a member may claim: far beyond any limit, and small enough that
    /// adding its padding cannot overflow.
    static let largestSize: Int64 = 1 << 62

    private var source: any ByteSource
    private let name: String
    private let limits: ArchiveLimits
    private var members = 0
    private var bytes: Int64 = 0
    private let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 512, alignment: 16)
    /// Data of the current member not read yet, and the padding to its 512-byte boundary.
    private var remaining: Int64 = 0
    private var padding: Int64 = 0
    private var globalRecords: [String: [UInt8]] = [:]

    /// `name` names the archive in error messages.
    public init(_ source: any ByteSource, name: String, limits: ArchiveLimits = ArchiveLimits()) {
        self.source = source
        self.name = name
        self.limits = limits
    }

    deinit { block.deallocate() }

    /// The next member, or nil at the end of the archive. Data of the previous member
    /// that was not read is skipped.
    public func next() throws(SwrunError) -> TarEntry? {
        try skip(remaining + padding)
        remaining = 0
        padding = 0
        var local: [String: [UInt8]] = [:]
        var longName: String?
        var longLink: String?
        while true {
            guard try readBlock(allowEnd: true) else { return nil }
            let header = UnsafeRawBufferPointer(block)
            if header.allSatisfy({ $0 == 0 }) { return nil }  // end of archive (the second zero block is optional)
            try verifyChecksum(header)
            let type = header[156]
            let size = try checkedSize(try number(header, 124, 12, field: "size"), field: "size")
            switch type {
            case UInt8(ascii: "x"): local.merge(try PaxRecords.parse(try readData(size), archive: name)) { $1 }
            case UInt8(ascii: "g"): globalRecords.merge(try PaxRecords.parse(try readData(size), archive: name)) { $1 }
            case UInt8(ascii: "L"): longName = Self.cString(try readData(size)[...])
            case UInt8(ascii: "K"): longLink = Self.cString(try readData(size)[...])
            default:
                var records = globalRecords
                records.merge(local) { $1 }
                var entry = try entry(header, type: type, size: size, records: records)
                if let longName, records["path"] == nil { entry.path = longName }
                if let longLink, records["linkpath"] == nil { entry.kind = Self.relinked(entry.kind, to: longLink) }
                try count(entry)
                remaining = entry.kind == .file ? entry.size : 0
                // A hard link or other non-file may still carry data: skip it with the padding.
                let stored = entry.kind == .file ? entry.size : size
                padding = (entry.kind == .file ? 0 : stored) + (512 - stored % 512) % 512
                return entry
            }
        }
    }

    /// Reads the current member's data into `buffer`; 0 once it is all read.
    public func readData(into buffer: UnsafeMutableRawBufferPointer) throws(SwrunError) -> Int {
        guard remaining > 0 else { return 0 }
        let wanted = Int(min(Int64(buffer.count), remaining))
        let count = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]))
        if count == 0 { throw truncated() }
        remaining -= Int64(count)
        return count
    }

    /// The rest of the current member's data, for small members (metadata files).
    public func readAllData() throws(SwrunError) -> [UInt8] {
        var data: [UInt8] = []
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let count = try readData(into: chunk)
            if count == 0 { return data }
            data += chunk[0..<count]
        }
    }

    /// Counts a member against the limits.
    private func count(_ entry: TarEntry) throws(SwrunError) {
        members += 1
        if members > limits.members { throw limits.tooManyMembers(name) }
        if entry.kind == .file {
            bytes += entry.size  // both at most largestSize: no overflow
            if bytes > limits.bytes { throw limits.tooManyBytes(name) }
        }
    }

    // MARK: Headers

    private func entry(_ header: UnsafeRawBufferPointer, type: UInt8, size: Int64,
                       records: [String: [UInt8]]) throws(SwrunError) -> TarEntry {
        let isUstar = header[257..<262].elementsEqual("ustar".utf8)
        var path = Self.cString(header[0..<100])
        if isUstar, case let prefix = Self.cString(header[345..<500]), !prefix.isEmpty { path = prefix + "/" + path }
        let link = records["linkpath"].map { String(decoding: $0, as: UTF8.self) } ?? Self.cString(header[157..<257])
        let major = try id(try number(header, 329, 8, field: "devmajor"), field: "devmajor")
        let minor = try id(try number(header, 337, 8, field: "devminor"), field: "devminor")
        let kind: TarEntry.Kind
        switch type {
        case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): kind = path.hasSuffix("/") ? .directory : .file
        case UInt8(ascii: "1"): kind = .hardlink(target: link)
        case UInt8(ascii: "2"): kind = .symlink(target: link)
        case UInt8(ascii: "3"): kind = .characterDevice(major: major, minor: minor)
        case UInt8(ascii: "4"): kind = .blockDevice(major: major, minor: minor)
        case UInt8(ascii: "5"): kind = .directory
        case UInt8(ascii: "6"): kind = .fifo
        default:
            throw SwrunError(.verificationFailed, "\(name): member \(path) has tar type '\(Character(Unicode.Scalar(type)))', which swrun cannot unpack",
                             hint: "sparse and other rare member types are not supported; repack the archive with GNU tar (--format=pax)")
        }
        var xattrs: [String: [UInt8]] = [:]
        for (key, value) in records where key.hasPrefix("SCHILY.xattr.") {
            xattrs[String(key.dropFirst("SCHILY.xattr.".count))] = value
        }
        return TarEntry(
            path: records["path"].map { String(decoding: $0, as: UTF8.self) } ?? path,
            kind: kind,
            mode: UInt32(truncatingIfNeeded: try number(header, 100, 8, field: "mode")) & 0o7777,
            uid: try id(try value(records, "uid", header, 108, 8), field: "uid"),
            gid: try id(try value(records, "gid", header, 116, 8), field: "gid"),
            modificationTime: try value(records, "mtime", header, 136, 12),
            size: try checkedSize(try value(records, "size", header, 124, 12), field: "size"),
            extendedAttributes: xattrs)
    }

    private static func relinked(_ kind: TarEntry.Kind, to target: String) -> TarEntry.Kind {
        switch kind {
        case .symlink: return .symlink(target: target)
        case .hardlink: return .hardlink(target: target)
        default: return kind
        }
    }

    private func verifyChecksum(_ header: UnsafeRawBufferPointer) throws(SwrunError) {
        let stored = try number(header, 148, 8, field: "checksum")
        // The checksum field itself counts as eight spaces.
        var sum: Int64 = 0
        for (index, byte) in header.enumerated() { sum += (148..<156).contains(index) ? 32 : Int64(byte) }
        #if FUZZING
        // A fuzzer's headers can hardly carry their checksum: let it past, to reach what follows.
        sum = stored
        #endif
        if sum != stored {
            throw SwrunError(.verificationFailed, "\(name) is not a tar archive, or is corrupt (a header checksum does not match)",
                             hint: "check that the file is a (compressed) tar archive and download it again")
        }
    }

    /// A numeric field: octal text, or GNU's base-256 for values octal cannot hold (0x80
    /// then a positive number, or 0xff and a negative one in two's complement).
    private func number(_ header: UnsafeRawBufferPointer, _ offset: Int, _ length: Int, field: String) throws(SwrunError) -> Int64 {
        let bytes = header[offset..<(offset + length)]
        if let first = bytes.first, first & 0x80 != 0 {
            var value: Int64 = first == 0xff ? -1 : 0
            for byte in bytes.dropFirst() {
                guard value <= Int64.max >> 8 && value >= Int64.min >> 8 else { throw malformed(field, "does not fit in 64 bits") }
                value = value << 8 | Int64(byte)
            }
            return value
        }
        var value: Int64 = 0
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "7"): value = value * 8 + Int64(byte - UInt8(ascii: "0"))
            case 0, UInt8(ascii: " "): if value > 0 { return value }  // trailing NUL or space ends it
            default: throw malformed(field, "is not a number")
            }
        }
        return value
    }

    /// A size: from 0 to `largestSize`.
    private func checkedSize(_ value: Int64, field: String) throws(SwrunError) -> Int64 {
        guard (0...Self.largestSize).contains(value) else { throw malformed(field, "is out of range (\(value))") }
        return value
    }

    /// A user, group or device number: 32 bits, not negative.
    private func id(_ value: Int64, field: String) throws(SwrunError) -> UInt32 {
        guard let id = UInt32(exactly: value) else { throw malformed(field, "is out of range (\(value))") }
        return id
    }

    private func malformed(_ field: String, _ why: String) -> SwrunError {
        SwrunError(.verificationFailed, "\(name): a tar header's \(field) field \(why)",
                   hint: "the archive is corrupt or hostile; download or build it again")
    }

    /// A value from a pax record when there is one (they carry what the header field cannot), else from the header.
    private func value(_ records: [String: [UInt8]], _ key: String, _ header: UnsafeRawBufferPointer,
                       _ offset: Int, _ length: Int) throws(SwrunError) -> Int64 {
        if let text = records[key] { return try decimal(text, key) }
        return try number(header, offset, length, field: key)
    }

    private func decimal(_ bytes: [UInt8], _ key: String) throws(SwrunError) -> Int64 {
        // pax times may carry a fraction: whole seconds are enough here.
        let whole = bytes.prefix { $0 != UInt8(ascii: ".") }
        guard !whole.isEmpty, let value = Int64(String(decoding: whole, as: UTF8.self)) else {
            throw SwrunError(.verificationFailed, "\(name): the pax record \(key) is not a number",
                             hint: "the archive is corrupt; download or build it again")
        }
        return value
    }

    private static func cString(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    // MARK: Reading

    private func readData(_ size: Int64) throws(SwrunError) -> [UInt8] {
        guard size <= 16 << 20 else {  // sizes were checked to be positive
            throw SwrunError(.verificationFailed, "\(name): an extended header of \(size) bytes is too large",
                             hint: "the archive is corrupt or hostile")
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(size), alignment: 1)
        defer { buffer.deallocate() }
        try readFully(buffer)
        try skip((512 - size % 512) % 512)
        return Array(buffer)
    }

    private func readBlock(allowEnd: Bool) throws(SwrunError) -> Bool {
        let first = try source.read(into: block)
        if first == 0 && allowEnd { return false }
        if first < 512 { try readFully(UnsafeMutableRawBufferPointer(rebasing: block[max(first, 0)...])) }
        return true
    }

    private func readFully(_ buffer: UnsafeMutableRawBufferPointer) throws(SwrunError) {
        var filled = 0
        while filled < buffer.count {
            let count = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            if count == 0 { throw truncated() }
            filled += count
        }
    }

    private func skip(_ count: Int64) throws(SwrunError) {
        var left = count
        while left > 0 {
            let chunk = Int(min(left, 512))
            try readFully(UnsafeMutableRawBufferPointer(rebasing: block[0..<chunk]))
            left -= Int64(chunk)
        }
    }

    private func truncated() -> SwrunError {
        SwrunError(.verificationFailed, "\(name) ends in the middle of a member: the archive is truncated",
                   hint: "download it again (for images: --flush-cache)")
    }
}

/// pax extended header records: "LENGTH KEY=VALUE\n", LENGTH counting the whole record.
enum PaxRecords {
    static func parse(_ data: [UInt8], archive: String) throws(SwrunError) -> [String: [UInt8]] {
        var records: [String: [UInt8]] = [:]
        var offset = 0
        while offset < data.count && data[offset] != 0 {
            // The length's digits, a space, then the record; all of it inside the data.
            let digits = data[offset...].prefix { $0 != UInt8(ascii: " ") }
            let space = offset + digits.count
            guard digits.count <= 18, let length = Int(String(decoding: digits, as: UTF8.self)),
                  length > space - offset + 1, length <= data.count - offset,
                  data[offset + length - 1] == UInt8(ascii: "\n"),
                  let equals = data[(space + 1)..<(offset + length)].firstIndex(of: UInt8(ascii: "=")) else {
                throw SwrunError(.verificationFailed, "\(archive): a pax extended header is malformed",
                                 hint: "the archive is corrupt or hostile; download or build it again")
            }
            let key = String(decoding: data[(space + 1)..<equals], as: UTF8.self)
            records[key] = Array(data[(equals + 1)..<(offset + length - 1)])
            offset += length
        }
        return records
    }
}
