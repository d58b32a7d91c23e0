/// lxc.net.N.hwaddr: six bytes written "00:16:3e:4a:0b:9c". As in LXC, any hex digit may be
/// an 'x', filled with a random one, so that one default.conf serves many containers.
public struct HardwareAddress: Equatable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// A complete address; nil for anything else, templates with 'x' included.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard part.utf8.count == 2, let byte = UInt8(part, radix: 16) else { return nil }
            bytes.append(byte)
        }
        // The group bit makes a multicast address, which no interface may have.
        guard bytes[0] & 1 == 0 else { return nil }
        self.bytes = bytes
    }

    public var description: String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
    }

    /// `template` with each 'x' (or 'X') replaced by a random hex digit; an 'x' in the first
    /// byte's low digit gets an even one, so the address stays unicast. Nil when the result is
    /// not an address.
    public static func completing(_ template: String, using generator: inout some RandomNumberGenerator) -> HardwareAddress? {
        let digits = Array("0123456789abcdef")
        var text = ""
        for (position, character) in template.enumerated() {
            guard character == "x" || character == "X" else { text.append(character); continue }
            let digit = Int.random(in: 0..<16, using: &generator)
            text.append(digits[position == 1 ? digit & 0xE : digit])
        }
        return HardwareAddress(text)
    }

    /// Whether `text` still has digits to fill in.
    public static func isTemplate(_ text: String) -> Bool {
        text.contains("x") || text.contains("X")
    }
}
