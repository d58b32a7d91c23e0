/// How far a clock of the container's time namespace is from the host's: whole seconds and
/// nanoseconds (0 to 999999999) added to them, as /proc/PID/timens_offsets takes it.
public struct ClockOffset: Sendable, Equatable {
    public var seconds: Int64
    public var nanoseconds: UInt32

    public init(seconds: Int64, nanoseconds: UInt32 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// An offset of `total` nanoseconds, with the nanoseconds part non-negative, as the kernel
    /// wants it (-1.5 s is -2 s and 500000000 ns).
    public init(totalNanoseconds total: Int64) {
        let (quotient, remainder) = total.quotientAndRemainder(dividingBy: 1_000_000_000)
        seconds = remainder < 0 ? quotient - 1 : quotient
        nanoseconds = UInt32(remainder < 0 ? remainder + 1_000_000_000 : remainder)
    }

    /// lxc.time.offset.boot and .monotonic: a whole number and a unit, h, m, s, ms, us or ns
    /// ("-1000s", "10ms"), as LXC's set_config_time_offset_* read it.
    static func parseLXC(_ value: String) throws(ValueError) -> ClockOffset {
        let number = value.prefix { $0 == "-" || $0 == "+" || $0.isNumber }
        let unit = String(value.dropFirst(number.count).trimmingBlanks())
        guard let amount = Int64(number) else {
            throw ValueError("'\(value)' is not a time offset", hint: "write a whole number and a unit: h, m, s, ms, us or ns")
        }
        let perUnit: [String: (seconds: Int64, nanoseconds: Int64)] = [
            "h": (3600, 0), "m": (60, 0), "s": (1, 0), "ms": (0, 1_000_000), "us": (0, 1000), "ns": (0, 1),
        ]
        guard let scale = perUnit[unit] else {
            throw ValueError("'\(value)' is not a time offset", hint: "write a whole number and a unit: h, m, s, ms, us or ns")
        }
        let (product, overflow) = amount.multipliedReportingOverflow(by: max(scale.seconds, scale.nanoseconds))
        guard !overflow else { throw ValueError("'\(value)' is too large an offset", hint: "give a smaller offset") }
        return scale.seconds > 0 ? ClockOffset(seconds: product) : ClockOffset(totalNanoseconds: product)
    }
}
