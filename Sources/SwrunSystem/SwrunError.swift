// Errno is part of SwrunError's surface, so dependents see it without importing swift-system.
@_exported import SystemPackage
import Glibc

/// The one error type that crosses module boundaries: what failed, on which
/// object, the underlying cause, and what the user can do next.
public struct SwrunError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case invalidConfig
        case invalidArgument
        case notFound
        case alreadyExists
        case busy
        case permissionDenied
        case missingDependency
        case containerSetup
        case commandNotFound
        case commandNotExecutable
        /// A server could not be reached, or answered with an error status.
        case network
        /// A server refused the request for want of credentials or a valid token (HTTP 401, 403).
        case unauthorized
        /// A download or archive did not match its checksum or signature, or is malformed.
        case verificationFailed
        case system
    }

    public var code: Code
    /// What failed, naming the object: "cannot read /var/lib/lxc/web/config".
    public var message: String
    /// The errno behind it, when a system call failed.
    public var errno: Errno?
    /// The next step for the user: "run `swrun ls` to see the containers".
    public var hint: String?

    public init(_ code: Code, _ message: String, errno: Errno? = nil, hint: String? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
        self.hint = hint
    }

    public var description: String {
        var text = message
        if let errno { text += ": \(errno.description)" }
        if let hint { text += "\n  hint: \(hint)" }
        return text
    }

    /// A failed system call on `object`, with a hint derived from common errno values.
    public static func system(_ what: String, _ errno: Errno, hint: String? = nil) -> SwrunError {
        SwrunError(errno == .permissionDenied || errno == .notPermitted ? .permissionDenied : .system,
                   what, errno: errno, hint: hint ?? defaultHint(for: errno))
    }

    static func defaultHint(for errno: Errno) -> String? {
        switch errno {
        case .notPermitted, .permissionDenied: return "swrun needs root (CAP_SYS_ADMIN) for this; run it with sudo"
        case .noSpace: return "free some disk space and try again"
        default: return nil
        }
    }
}

/// Runs a libc call that returns -1 and sets errno on failure, and turns that into a SwrunError.
@discardableResult
public func check<T: BinaryInteger>(_ what: @autoclosure () -> String, _ result: T) throws(SwrunError) -> T {
    if result == -1 { throw SwrunError.system(what(), Errno.current) }
    return result
}

extension Errno {
    /// errno as the C library left it.
    public static var current: Errno { Errno(rawValue: Glibc.errno) }
}
