/// The compressions swrun unpacks, recognised by their magic bytes rather than by file
/// names: registries and image servers do not always name their files truthfully.
public enum Compression: String, Sendable, CaseIterable {
    case none, gzip, xz, zstd, bzip2

    /// The compression whose magic starts `header` (at least 6 bytes for a sure answer).
    public static func detect(_ header: some Collection<UInt8>) -> Compression {
        let bytes = Array(header.prefix(6))
        func starts(_ magic: [UInt8]) -> Bool { bytes.starts(with: magic) }
        if starts([0x1f, 0x8b]) { return .gzip }
        if starts([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) { return .xz }
        if starts([0x28, 0xb5, 0x2f, 0xfd]) { return .zstd }
        if starts([0x42, 0x5a, 0x68]) { return .bzip2 }  // "BZh"
        return .none
    }
}
