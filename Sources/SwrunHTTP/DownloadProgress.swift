import Glibc
import SwrunSystem

/// A one-line progress bar on stderr ("NAME  12.3 MiB / 40.0 MiB  2.1 MiB/s  ETA 0:13"),
/// redrawn in place at most ten times a second. Silent when stderr is not a terminal:
/// logs get the callers' own one-line messages instead.
public final class DownloadProgress: TransferProgress {
    public let name: String
    private let enabled: Bool
    private let clock: () -> Double
    private let output: (String) -> Void
    private var total: Int64?
    private var completed: Int64 = 0
    /// Where this attempt started, for the rate: resumed bytes did not arrive now.
    private var startBytes: Int64 = 0
    private var startTime = 0.0
    private var lastDraw = -Double.infinity
    private var started = false

    /// Set once by -q, before any transfer starts (the process is single-threaded then).
    nonisolated(unsafe) public static var silenced = false

    /// A bar on stderr when it is a terminal.
    public convenience init(name: String) {
        self.init(name: name, enabled: !Self.silenced && Terminal.isTerminal(2), clock: monotonicSeconds) { text in
            _ = text.withCString { write(2, $0, strlen($0)) }
        }
    }

    /// For tests: an injected clock (seconds) and output.
    public init(name: String, enabled: Bool, clock: @escaping () -> Double, output: @escaping (String) -> Void) {
        self.name = name
        self.enabled = enabled
        self.clock = clock
        self.output = output
    }

    /// A transfer (or a resumed one) begins with `completed` bytes already there.
    public func start(total: Int64?, completed: Int64) {
        self.total = total
        self.completed = completed
        startBytes = completed
        startTime = clock()
        started = true
        draw(force: true)
    }

    public func advance(by count: Int) {
        completed += Int64(count)
        draw(force: false)
    }

    /// Counts bytes that an earlier attempt fetched (a resumed download): they show in the
    /// total done, not in the rate.
    public func addResumed(_ count: Int64) {
        completed += count
        startBytes += count
        draw(force: false)
    }

    /// Draws the last state and ends the line, so what is printed next starts on a line of its own.
    public func finish() {
        guard started else { return }
        draw(force: true)
        if enabled { output("\n") }
        started = false
    }

    private func draw(force: Bool) {
        guard enabled else { return }
        let now = clock()
        if !force && now - lastDraw < 0.1 { return }
        lastDraw = now
        let elapsed = now - startTime
        let rate = elapsed >= 0.5 ? Double(completed - startBytes) / elapsed : nil
        // \e[K clears what a longer previous line left behind.
        output("\r" + DownloadProgress.line(name: name, completed: completed, total: total, bytesPerSecond: rate) + "\u{1B}[K")
    }

    /// "NAME  12.3 MiB / 40.0 MiB  2.1 MiB/s  ETA 0:13"; parts that are unknown are left out.
    public static func line(name: String, completed: Int64, total: Int64?, bytesPerSecond: Double?) -> String {
        var text = "\(name)  \(formatBytes(completed))"
        if let total { text += " / \(formatBytes(total))" }
        if let bytesPerSecond {
            text += "  \(formatBytes(Int64(bytesPerSecond)))/s"
            if let total, bytesPerSecond > 0, total >= completed {
                text += "  ETA \(formatDuration(Double(total - completed) / bytesPerSecond))"
            }
        }
        return text
    }

    /// "512 B", "1.5 KiB", "12.3 MiB", "2.0 GiB".
    public static func formatBytes(_ count: Int64) -> String {
        if count < 1024 { return "\(count) B" }
        var value = Double(count)
        var unit = 0
        let units = ["KiB", "MiB", "GiB", "TiB"]
        repeat {
            value /= 1024
            unit += 1
        } while value >= 1024 && unit < units.count
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit - 1])"
    }

    /// "0:13", "12:05", "1:02:03".
    public static func formatDuration(_ seconds: Double) -> String {
        let total = Int(min(seconds, 359_999).rounded(.up))
        let (hours, minutes, secs) = (total / 3600, total / 60 % 60, total % 60)
        let twoDigits = { (value: Int) in value < 10 ? "0\(value)" : "\(value)" }
        return hours > 0 ? "\(hours):\(twoDigits(minutes)):\(twoDigits(secs))" : "\(minutes):\(twoDigits(secs))"
    }
}
