import Glibc

/// The time now as text, through strftime: in UTC (image configs' RFC 3339) or local time
/// (LXC's snapshot timestamps).
public enum WallClock {
    public static func now(_ format: String, utc: Bool) -> String {
        var seconds = time(nil)
        var parts = tm()
        if utc { gmtime_r(&seconds, &parts) } else { localtime_r(&seconds, &parts) }
        var buffer = [CChar](repeating: 0, count: 64)
        strftime(&buffer, buffer.count, format, &parts)
        return String(cString: buffer)
    }
}

/// Milliseconds of CLOCK_MONOTONIC: for timeouts, which a change of the wall clock must not move.
public func monotonicMilliseconds() -> Int {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return now.tv_sec * 1000 + now.tv_nsec / 1_000_000
}
