import Glibc
import SwrunSystem

/// How much one archive may hold before swrun refuses it: a few bytes of xz or zstd can
/// stand for terabytes or millions of empty files, and an image must not fill the disk or
/// run for hours before anyone notices. Both limits count per archive (per OCI layer).
public struct ArchiveLimits: Sendable, Equatable {
    /// Members (files, directories, links, nodes); pax and GNU extended headers do not count.
    public var members: Int
    /// Bytes of file data, all members together.
    public var bytes: Int64

    public static let defaultMembers = 4_000_000
    public static let defaultBytes: Int64 = 256 << 30

    public init(members: Int = ArchiveLimits.defaultMembers, bytes: Int64 = ArchiveLimits.defaultBytes) {
        self.members = members
        self.bytes = bytes
    }

    /// The limits, raised or lowered by SWRUN_ARCHIVE_MAX_MEMBERS and SWRUN_ARCHIVE_MAX_BYTES
    /// (from `environment` in tests, else this process's); a value that is not a positive
    /// number is ignored.
    public init(environment: [String: String]? = nil) {
        func value(_ name: String) -> Int64? {
            let text = environment.map { $0[name] } ?? getenv(name).map { String(cString: $0) }
            return text.flatMap { Int64($0) }.flatMap { $0 > 0 ? $0 : nil }
        }
        self.init(members: value("SWRUN_ARCHIVE_MAX_MEMBERS").map { Int($0) } ?? Self.defaultMembers,
                  bytes: value("SWRUN_ARCHIVE_MAX_BYTES") ?? Self.defaultBytes)
    }

    func tooManyMembers(_ archive: String) -> SwrunError {
        SwrunError(.verificationFailed, "\(archive) holds more than \(members) members; refusing it (a limit against archive bombs)",
                   hint: "if the archive is genuine, raise the limit with SWRUN_ARCHIVE_MAX_MEMBERS=NUMBER")
    }

    func tooManyBytes(_ archive: String) -> SwrunError {
        SwrunError(.verificationFailed, "\(archive) unpacks to more than \(bytes) bytes; refusing it (a limit against archive bombs)",
                   hint: "if the archive is genuine, raise the limit with SWRUN_ARCHIVE_MAX_BYTES=NUMBER")
    }
}
