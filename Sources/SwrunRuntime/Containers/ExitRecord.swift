import Glibc
import SwrunJSON
import SwrunSystem

/// How a container's last run ended (LXCPATH/NAME/swrun.exit): its command's exit status as a
/// shell code, and when. Written as the container stops, kept until its next start, so that
/// `ps -a` and `inspect` can say "Exited (3) 2 minutes ago" as Docker does.
public struct ExitRecord: Equatable, Sendable {
    public static let fileName = "swrun.exit"

    public var code: Int32
    /// Seconds since the epoch.
    public var time: Int

    public init(code: Int32, time: Int = Int(Glibc.time(nil))) {
        (self.code, self.time) = (code, time)
    }

    public static func load(from directory: String) -> ExitRecord? {
        guard let bytes = try? FileSystem.readBytes(FileSystem.join(directory, fileName)),
              let document = try? JSONValue(parsing: bytes),
              let code = document["code"]?.int, let time = document["time"]?.int else { return nil }
        return ExitRecord(code: Int32(truncatingIfNeeded: code), time: time)
    }

    public func write(to directory: String) {
        let document = JSONValue.object(["code": .number(String(code)), "time": .number(String(time))])
        try? FileSystem.writeAtomically(FileSystem.join(directory, Self.fileName), document.serialized + "\n")
    }

    static func remove(from directory: String) { unlink(FileSystem.join(directory, fileName)) }
}
