import CLinux
import Glibc

/// Unix sockets by path, for paths of any length: sun_path holds 107 bytes, so a longer
/// path is reached from its directory (bind and connect resolve a relative name against the
/// working directory, which is put back at once).
public enum UnixSocket {
    /// Binds a listening socket (close-on-exec) at `path`, replacing a stale one, for root only.
    public static func listen(_ path: String, type: __socket_type, backlog: Int32 = 16) throws(SwrunError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SwrunError.system("cannot create a socket", Errno.current) }
        unlink(path)
        let bound = try reach(path) { address, length in
            withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        }
        if bound != 0 || chmod(path, 0o600) != 0 || Glibc.listen(fd, backlog) != 0 {
            let errno = Errno.current
            close(fd)
            unlink(path)
            throw SwrunError.system("cannot listen on \(path)", errno)
        }
        return fd
    }

    /// Connects a close-on-exec socket to `path`.
    public static func connect(_ path: String, type: __socket_type) throws(SwrunError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SwrunError.system("cannot create a socket", Errno.current) }
        let connected = try reach(path) { address, length in
            withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) } }
        }
        if connected != 0 {
            let errno = Errno.current
            close(fd)
            throw SwrunError.system("cannot connect to \(path)", errno)
        }
        return fd
    }

    /// Runs `body` with an address for `path`: the path itself, or its last component from
    /// within its directory when the whole does not fit.
    private static func reach(_ path: String, _ body: (inout sockaddr_un, socklen_t) -> Int32) throws(SwrunError) -> Int32 {
        let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)
        let direct = Array(path.utf8).count < capacity
        let name = direct ? path : FileSystem.lastComponent(path)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.utf8)
        guard bytes.count < capacity else {
            throw SwrunError(.invalidArgument, "the socket name \(name) is too long (\(bytes.count) bytes, at most \(capacity - 1))")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.size)
        if direct { return body(&address, length) }
        let here = open(".", SWRUN_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard here >= 0 else { throw SwrunError.system("cannot open the working directory", Errno.current) }
        defer {
            _ = fchdir(here)
            close(here)
        }
        guard chdir(FileSystem.parentPath(path)) == 0 else {
            throw SwrunError.system("cannot reach the directory of \(path)", Errno.current)
        }
        let result = body(&address, length)
        let saved = errno
        _ = fchdir(here)
        errno = saved
        return result
    }
}

extension FileSystem {
    /// `path` from the working directory when it is relative, with no trailing slash.
    public static func absolutePath(_ path: String) -> String {
        var result = path
        if !path.hasPrefix("/") {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let cwd = getcwd(&buffer, buffer.count).map { _ in String(cString: buffer) } ?? "/"
            result = path == "." ? cwd : join(cwd, path.hasPrefix("./") ? String(path.dropFirst(2)) : path)
        }
        while result.count > 1 && result.hasSuffix("/") { result.removeLast() }
        return result
    }
}
