import CLinux
import Glibc
import SwrunSystem

/// The monitor's Unix socket in the container's directory (swrun.sock). One request a
/// connection, one SOCK_SEQPACKET message each way:
///   "console N [ROWS COLUMNS]" is answered "ok" with one end of a fresh socketpair
///   (SCM_RIGHTS) that the monitor relays to pty N;
///   "resize N ROWS COLUMNS" sets pty N's window size and is answered "ok".
enum CommandSocket {
    static func address(_ path: String) throws(SwrunError) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            throw SwrunError(.invalidArgument, "the socket path \(path) is too long for a Unix socket (\(bytes.count) bytes, at most \(capacity - 1))",
                             hint: "use a shorter LXCPATH (-P)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        return address
    }

    /// Binds and listens at `path` (replacing a stale socket), readable by root only.
    static func listen(at path: String) throws(SwrunError) -> Int32 {
        var address = try address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SwrunError.system("cannot create the monitor socket", Errno.current) }
        unlink(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if bound != 0 || chmod(path, 0o600) != 0 || Glibc.listen(fd, 16) != 0 {
            let errno = Errno.current
            close(fd)
            throw SwrunError.system("cannot listen on \(path)", errno)
        }
        return fd
    }

    static func connect(to path: String) throws(SwrunError) -> Int32 {
        var address = try address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SwrunError.system("cannot create a socket", Errno.current) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if connected != 0 {
            let errno = Errno.current
            close(fd)
            throw SwrunError.system("cannot reach the container's monitor at \(path)", errno,
                                    hint: "the monitor is gone; `swrun stop` still stops the container")
        }
        return fd
    }

    static func send(_ text: String, on fd: Int32, passing passed: Int32 = -1) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { swrun_send_with_fd(fd, $0.baseAddress, $0.count, passed) } == bytes.count
    }

    static func receive(on fd: Int32) -> (text: String, fd: Int32)? {
        var buffer = [UInt8](repeating: 0, count: 512)
        var passed: Int32 = -1
        let count = buffer.withUnsafeMutableBytes { swrun_recv_with_fd(fd, $0.baseAddress, $0.count, &passed) }
        guard count > 0 else { return nil }
        return (String(decoding: buffer[0..<count], as: UTF8.self), passed)
    }

    /// A stream socketpair: one end for the monitor, one for the client.
    static func pair() throws(SwrunError) -> (Int32, Int32) { try makeSocketPair(SOCK_STREAM) }
}
