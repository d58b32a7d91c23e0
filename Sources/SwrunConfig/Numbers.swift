/// Number parsing with the rules of LXC's lxc_safe_uint/lxc_safe_int (strtoul with
/// base 0): leading blanks allowed, "0x" means hex, a leading "0" means octal,
/// nothing may follow the digits, and a minus sign is refused for unsigned values.
enum Numbers {
    static func unsigned(_ text: some StringProtocol, max: UInt64 = UInt64(UInt32.max)) -> UInt64? {
        var rest = Substring(text)
        while let first = rest.first, first == " " || first == "\t" { rest = rest.dropFirst() }
        if rest.first == "+" { rest = rest.dropFirst() }
        guard !rest.isEmpty else { return nil }
        var radix: UInt64 = 10
        if rest.hasPrefix("0x") || rest.hasPrefix("0X") {
            radix = 16
            rest = rest.dropFirst(2)
            if rest.isEmpty { return nil }
        } else if rest.count > 1 && rest.hasPrefix("0") {
            radix = 8
            rest = rest.dropFirst()
        }
        var result: UInt64 = 0
        for character in rest {
            guard let digit = character.hexDigitValue, UInt64(digit) < radix else { return nil }
            let (times, overflow1) = result.multipliedReportingOverflow(by: radix)
            let (sum, overflow2) = times.addingReportingOverflow(UInt64(digit))
            if overflow1 || overflow2 { return nil }
            result = sum
        }
        return result <= max ? result : nil
    }

    static func unsigned32(_ text: some StringProtocol) -> UInt32? {
        unsigned(text).map { UInt32($0) }
    }

    /// A signed 32-bit number, as lxc_safe_int reads it.
    static func signed32(_ text: some StringProtocol) -> Int32? {
        var rest = Substring(text)
        while let first = rest.first, first == " " || first == "\t" { rest = rest.dropFirst() }
        var negative = false
        if rest.first == "-" {
            negative = true
            rest = rest.dropFirst()
        }
        guard let magnitude = unsigned(rest, max: UInt64(Int32.max) + 1) else { return nil }
        if negative { return Int32(truncatingIfNeeded: 0 - Int64(magnitude)) }
        return magnitude <= UInt64(Int32.max) ? Int32(magnitude) : nil
    }
}
