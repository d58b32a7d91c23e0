import Glibc
import SwrunSystem

/// When each chunk of a console log arrived: the monitor appends "OFFSET SECONDS.NANOSECONDS"
/// to LOG.times before it appends the chunk to LOG.
public enum ConsoleLogTimes {
    public static func path(ofLog log: String) -> String { log + ".times" }

    static func entry(offset: off_t) -> [UInt8] {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nanoseconds = String(now.tv_nsec)
        return Array("\(offset) \(now.tv_sec).\(String(repeating: "0", count: 9 - nanoseconds.count))\(nanoseconds)\n".utf8)
    }

    /// The entries of `log`'s times file, by offset: (offset, seconds, nanoseconds).
    public static func load(ofLog log: String) -> [(offset: Int, seconds: Int, nanoseconds: Int)] {
        guard let text = try? FileSystem.readText(path(ofLog: log)) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 2, let offset = Int(fields[0]) else { return nil }
            let time = fields[1].split(separator: ".")
            guard time.count == 2, let seconds = Int(time[0]), let nanoseconds = Int(time[1]) else { return nil }
            return (offset, seconds, nanoseconds)
        }
    }

    /// RFC 3339 in UTC with nanoseconds, as `docker logs --timestamps` writes it.
    public static func format(seconds: Int, nanoseconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let fraction = String(nanoseconds)
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))."
            + String(repeating: "0", count: max(0, 9 - fraction.count)) + fraction + "Z"
    }
}
