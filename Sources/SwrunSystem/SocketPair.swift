import Glibc

/// A connected pair of close-on-exec Unix sockets: SOCK_SEQPACKET keeps message
/// boundaries (the sync channel, the monitor's requests), SOCK_STREAM is a byte pipe
/// both ways (a console relay).
public func makeSocketPair(_ type: __socket_type) throws(SwrunError) -> (Int32, Int32) {
    var pair: (Int32, Int32) = (-1, -1)
    let made = withUnsafeMutableBytes(of: &pair) {
        socketpair(AF_UNIX, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, $0.baseAddress!.assumingMemoryBound(to: Int32.self))
    }
    if made != 0 { throw SwrunError.system("cannot create a socket pair", Errno.current) }
    return pair
}
