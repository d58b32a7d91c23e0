import CLinux
import Glibc

/// The messages between swrun and the container's init over their socketpair
/// (SOCK_SEQPACKET, so each send is one message). Fixed size, so the child
/// sends them from the stack without allocating.
struct SyncMessage: Equatable {
    enum Kind: Int32 {
        // init -> swrun
        case setupFailed = 1     // a: setup step index, b: errno
        case terminalReady = 2   // a: pty number (0: console); carries its master as SCM_RIGHTS
        case ready = 3           // setup done; init waits for `go`
        case payloadFailed = 4   // a: payload step index, b: errno
        case running = 5         // a: the payload's pid inside the container (execute mode; in
                                 // boot mode the sync socket's end of file says the exec succeeded)
        case exited = 6          // a: the payload's wait status
        case seccompListener = 7 // carries the seccomp notify fd as SCM_RIGHTS, for linux.seccomp.listenerPath
        // swrun -> init
        case go = 10
        case parentDone = 11     // id maps written, cgroup joined: init may go on
    }

    var kind: Int32
    var a: Int32 = 0
    var b: Int32 = 0

    init(_ kind: Kind, _ a: Int32 = 0, _ b: Int32 = 0) {
        self.kind = kind.rawValue
        self.a = a
        self.b = b
    }

    /// Sends the message (and `fd` as SCM_RIGHTS when >= 0). Safe in a forked child.
    /// Returns false when the peer is gone.
    @discardableResult
    func send(on socket: Int32, passing fd: Int32 = -1) -> Bool {
        var copy = self
        return withUnsafeBytes(of: &copy) { swrun_send_with_fd(socket, $0.baseAddress, $0.count, fd) } == MemoryLayout<SyncMessage>.size
    }

    /// Receives one message; nil at end of file (the peer exited) or on a short read.
    static func receive(on socket: Int32) -> (message: SyncMessage, fd: Int32)? {
        var message = SyncMessage(.go)
        var fd: Int32 = -1
        let count = withUnsafeMutableBytes(of: &message) { swrun_recv_with_fd(socket, $0.baseAddress, $0.count, &fd) }
        guard count == MemoryLayout<SyncMessage>.size else {
            if fd >= 0 { close(fd) }
            return nil
        }
        return (message, fd)
    }
}
