import Glibc

/// Times as image servers write them, always in UTC.
enum UTCTime {
    /// "YYYYMMDDhhmm[ss]" (digits only) as seconds since 1970, or nil when it is no such time.
    static func seconds(_ digits: String) -> Int64? {
        let numbers = Array(digits)
        guard numbers.count == 12 || numbers.count == 14, numbers.allSatisfy(\.isASCII), numbers.allSatisfy(\.isNumber) else { return nil }
        func field(_ start: Int, _ length: Int) -> Int32 { Int32(String(numbers[start..<(start + length)])) ?? -1 }
        var time = tm()
        time.tm_year = field(0, 4) - 1900
        time.tm_mon = field(4, 2) - 1
        time.tm_mday = field(6, 2)
        time.tm_hour = field(8, 2)
        time.tm_min = field(10, 2)
        time.tm_sec = numbers.count == 14 ? field(12, 2) : 0
        guard (0...11).contains(time.tm_mon), (1...31).contains(time.tm_mday), (0...23).contains(time.tm_hour),
              (0...59).contains(time.tm_min), (0...60).contains(time.tm_sec) else { return nil }
        return Int64(timegm(&time))
    }

    /// "2026-11-29 05:24 UTC", for messages.
    static func text(_ seconds: Int64) -> String {
        var clock = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&clock, &parts) != nil else { return "\(seconds) s after 1970" }
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) \(two(parts.tm_hour)):\(two(parts.tm_min)) UTC"
    }
}
