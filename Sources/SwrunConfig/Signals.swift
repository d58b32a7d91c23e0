import Glibc
import SwrunSystem

/// Signal names as lxc.signal.* and lxc.monitor.signal.pdeath take them, with LXC's
/// rules (SIGRTMIN alone is refused, an offset is required), unlike SwrunSystem.Signals.
public enum SignalNames {
    static var realtimeMin: Int32 { Signals.realtimeMin }
    static var realtimeMax: Int32 { Signals.realtimeMax }

    /// "SIGTERM", "term", "TERM", "SIGRTMIN+3", "SIGRTMAX-1" or a number, to the signal number.
    /// LXC itself insists on the SIG prefix; swrun also takes the bare name.
    public static func parse(_ text: String) -> Int32? {
        if let first = text.first, first.isASCII, first.isNumber {
            guard let number = Numbers.unsigned32(text), number >= 1, number <= UInt32(realtimeMax) else { return nil }
            return Int32(number)
        }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        if name.hasPrefix("RTMIN+") || name.hasPrefix("RTMAX-") {
            let offsetText = name.dropFirst(6)
            guard let first = offsetText.first, first.isNumber,
                  let offset = Numbers.unsigned32(offsetText), offset <= UInt32(realtimeMax - realtimeMin) else { return nil }
            return name.hasPrefix("RTMIN") ? realtimeMin + Int32(offset) : realtimeMax - Int32(offset)
        }
        return Signals.names.first { $0.name == name }?.number
    }

    static func parseValue(_ text: String) throws(ValueError) -> Int32 {
        guard let number = parse(text) else {
            throw ValueError("'\(text)' is not a signal",
                             hint: "use a name such as SIGTERM or SIGRTMIN+3, or a number from 1 to \(realtimeMax)")
        }
        return number
    }
}
