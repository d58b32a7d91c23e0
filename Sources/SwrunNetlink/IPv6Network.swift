import Glibc

/// An IPv6 address with its prefix length, "fd00::5/64" (128 when no prefix is given).
public struct IPv6Network: Sendable, Equatable, CustomStringConvertible {
    public var address: [UInt8]
    public var prefixLength: UInt8

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        var bytes = [UInt8](repeating: 0, count: 16)
        guard inet_pton(AF_INET6, String(parts[0]), &bytes) == 1 else { return nil }
        let prefix = parts.count == 2 ? UInt8(parts[1]) : 128
        guard let prefix, prefix <= 128 else { return nil }
        address = bytes
        prefixLength = prefix
    }

    public init(address: [UInt8], prefixLength: UInt8 = 128) {
        precondition(address.count == 16, "an IPv6 address has 16 bytes")
        self.address = address
        self.prefixLength = prefixLength
    }

    /// The address alone, in its shortest form.
    public var addressText: String {
        var text = [CChar](repeating: 0, count: 64)
        _ = address.withUnsafeBytes { inet_ntop(AF_INET6, $0.baseAddress, &text, 64) }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String { addressText + "/\(prefixLength)" }
}
