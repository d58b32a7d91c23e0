import Glibc
import SwrunSystem

/// A container that LXC itself runs: its monitor answers on an abstract Unix socket named
/// after the container ("\0LXCPATH/NAME/command", or "\0lxc/HASH/command" when that is too
/// long, HASH being FNV-1a 64 of "LXCPATH/NAME"), as liblxc names it.
enum LXCInstance {
    /// Refuses to start a container that lxc-start runs: two inits on one rootfs.
    static func refuseIfRunning(name: String, lxcPath: String) throws(SwrunError) {
        let paths = Set([lxcPath, FileSystem.canonicalPath(lxcPath) ?? lxcPath])
        guard paths.contains(where: { answers(commandSocket(name: name, lxcPath: $0)) }) else { return }
        throw SwrunError(.busy, "container '\(name)' is running under LXC (its command socket in \(lxcPath) answers)",
                         hint: "stop it with `lxc-stop -n \(name) -P \(lxcPath)` first; one rootfs takes one init")
    }

    /// The socket's abstract name, without its leading NUL.
    static func commandSocket(name: String, lxcPath: String) -> [UInt8] {
        let plain = Array("\(lxcPath)/\(name)/command".utf8)
        // liblxc's buffer: sun_path (108) less the leading NUL and a terminating one.
        if plain.count < 106 { return plain }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(lxcPath)/\(name)".utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let hex = String(hash, radix: 16)
        return Array("lxc/\(String(repeating: "0", count: 16 - hex.count) + hex)/command".utf8)
    }

    /// Whether something listens on the abstract socket `name`.
    static func answers(_ name: [UInt8]) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard name.count + 1 <= capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw[0] = 0
            for (index, byte) in name.enumerated() { raw[index + 1] = byte }
        }
        let length = socklen_t(MemoryLayout.offset(of: \sockaddr_un.sun_path) ?? 2) + socklen_t(name.count + 1)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) == 0 }
        }
    }
}
