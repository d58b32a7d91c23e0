import Glibc
import SwrunJSON
import SwrunSystem

/// How a container's last run ended (LXCPATH/NAME/swrun.exit): its command's exit status as a
/// shell code, and when. Written as the container stops, emptied at its next start, so that
/// `ps -a` and `inspect` can say "Exited (3) 2 minutes ago" as Docker does. The file stays
/// from run to run and is rewritten in place: a new file each run cost a create on the start's
/// path, the slower the more files were deleted around it (ext4 without a journal).
public struct ExitRecord: Equatable, Sendable {
    public static let fileName = "swrun.exit"

    public var code: Int32
    /// Seconds since the epoch.
    public var time: Int

    public init(code: Int32, time: Int = Int(Glibc.time(nil))) {
        (self.code, self.time) = (code, time)
    }

    public static func load(from directory: String) -> ExitRecord? {
        guard let bytes = try? FileSystem.readBytes(FileSystem.join(directory, fileName), locked: true),
              let document = try? JSONValue(parsing: bytes),
              let code = document["code"]?.int, let time = document["time"]?.int else { return nil }
        return ExitRecord(code: Int32(truncatingIfNeeded: code), time: time)
    }

    public func write(to directory: String) {
        let document = JSONValue.object(["code": .number(String(code)), "time": .number(String(time))])
        try? FileSystem.rewrite(FileSystem.join(directory, Self.fileName), Array((document.serialized + "\n").utf8))
    }

    /// A run begins: the last one's record is emptied (read as none), never through a symlink.
    static func clear(from directory: String) {
        let fd = open(FileSystem.join(directory, fileName), O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC)
        if fd >= 0 { close(fd) }
    }
}
