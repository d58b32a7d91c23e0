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
