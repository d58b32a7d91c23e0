/// How an ELF executable gets its code: on its own, or through a dynamic
/// loader and shared libraries that a bare rootfs would not have.
enum ELFLinkage: Equatable, Sendable {
    /// No program interpreter and no shared-library dependencies (static or static-pie).
    case standalone
    /// Needs `interpreter` (PT_INTERP), or shared libraries (DT_NEEDED) without one.
    case dynamic(interpreter: String)

    private static let ptInterp: UInt32 = 3
    private static let ptDynamic: UInt32 = 2
    private static let dtNeeded: UInt64 = 1

    /// Reads the ELF header and program headers of `bytes`; nil when they are
    /// not an ELF executable (wrong magic, not ET_EXEC/ET_DYN, or truncated).
    static func of(_ bytes: [UInt8]) -> ELFLinkage? {
        guard bytes.count >= 52, bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46 else { return nil }
        let is64: Bool
        switch bytes[4] {  // EI_CLASS
        case 1: is64 = false
        case 2: is64 = true
        default: return nil
        }
        let reader: Reader
        switch bytes[5] {  // EI_DATA
        case 1: reader = Reader(bytes: bytes, bigEndian: false)
        case 2: reader = Reader(bytes: bytes, bigEndian: true)
        default: return nil
        }
        guard !is64 || bytes.count >= 64 else { return nil }
        guard let type = reader.u16(16), type == 2 || type == 3 else { return nil }  // ET_EXEC, ET_DYN

        let headerTable: UInt64?, entrySize: UInt16?, entryCount: UInt16?
        if is64 {
            headerTable = reader.u64(0x20); entrySize = reader.u16(0x36); entryCount = reader.u16(0x38)
        } else {
            headerTable = reader.u32(0x1c).map(UInt64.init); entrySize = reader.u16(0x2a); entryCount = reader.u16(0x2c)
        }
        guard let table = headerTable, let size = entrySize, let count = entryCount,
              Int(size) >= (is64 ? 56 : 32), table < UInt64(bytes.count) else { return nil }

        var needsLibraries = false
        for index in 0..<Int(count) {
            let entry = Int(table) + index * Int(size)
            guard entry + Int(size) <= bytes.count, let kind = reader.u32(entry) else { return nil }
            let offset: UInt64?, length: UInt64?
            if is64 {
                offset = reader.u64(entry + 8); length = reader.u64(entry + 32)
            } else {
                offset = reader.u32(entry + 4).map(UInt64.init); length = reader.u32(entry + 16).map(UInt64.init)
            }
            guard let start = offset, let count = length,
                  start <= UInt64(bytes.count), count <= UInt64(bytes.count) - start else { return nil }
            let segment = Int(start)..<Int(start + count)
            if kind == ptInterp {
                let text = bytes[segment].prefix { $0 != 0 }
                return .dynamic(interpreter: String(decoding: text, as: UTF8.self))
            }
            if kind == ptDynamic {
                // Tag/value pairs; a static-pie has a dynamic section but no DT_NEEDED.
                let step = is64 ? 16 : 8
                var position = segment.lowerBound
                while position + step <= segment.upperBound {
                    let tag = is64 ? reader.u64(position) : reader.u32(position).map(UInt64.init)
                    if tag == 0 { break }  // DT_NULL
                    if tag == dtNeeded { needsLibraries = true }
                    position += step
                }
            }
        }
        return needsLibraries ? .dynamic(interpreter: "") : .standalone
    }

    private struct Reader {
        let bytes: [UInt8]
        let bigEndian: Bool

        func value(_ offset: Int, _ width: Int) -> UInt64? {
            guard offset >= 0, offset + width <= bytes.count else { return nil }
            var result: UInt64 = 0
            for index in 0..<width {
                let byte = UInt64(bytes[offset + (bigEndian ? index : width - 1 - index)])
                result = result << 8 | byte
            }
            return result
        }

        func u16(_ offset: Int) -> UInt16? { value(offset, 2).map { UInt16($0) } }
        func u32(_ offset: Int) -> UInt32? { value(offset, 4).map { UInt32($0) } }
        func u64(_ offset: Int) -> UInt64? { value(offset, 8) }
    }
}
