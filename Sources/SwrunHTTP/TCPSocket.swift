import Glibc
import SwrunSystem

/// What an HTTP exchange reads from and writes to: a TCP socket, or TLS over one.
protocol ByteStream: AnyObject {
    func writeAll(_ bytes: UnsafeRawBufferPointer) throws(SwrunError)
    /// Reads what has arrived, at most `buffer.count` bytes; 0 at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(SwrunError) -> Int
}

/// A connected TCP socket. It is non-blocking so that every wait goes through poll()
/// with a timeout (no threads, no signals); reads and writes look blocking to callers.
final class TCPSocket: ByteStream {
    let fd: Int32
    let url: HTTPURL
    let readTimeout: Double

    private init(fd: Int32, url: HTTPURL, readTimeout: Double) {
        self.fd = fd
        self.url = url
        self.readTimeout = readTimeout
    }

    deinit { close(fd) }

    /// Connects to the host and port of `url`, trying each address the name resolves to.
    static func connect(to url: HTTPURL, connectTimeout: Double, readTimeout: Double) throws(SwrunError) -> TCPSocket {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let result = getaddrinfo(url.host, String(url.port), &hints, &list)
        if result != 0 {
            let reason = result == EAI_SYSTEM ? Errno.current.description : String(cString: gai_strerror(result))
            throw SwrunError(.network, "cannot resolve the host \(url.host) (\(url)): \(reason)",
                             hint: "check the host name, and the network and DNS settings")
        }
        defer { freeaddrinfo(list) }

        var lastError = SwrunError(.network, "no address for \(url.host) (\(url))")
        var entry = list
        while let info = entry?.pointee {
            entry = info.ai_next
            do throws(SwrunError) {
                return try connect(info, url: url, connectTimeout: connectTimeout, readTimeout: readTimeout)
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    private static func connect(_ info: addrinfo, url: HTTPURL, connectTimeout: Double, readTimeout: Double) throws(SwrunError) -> TCPSocket {
        let fd = socket(info.ai_family, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue), info.ai_protocol)
        if fd < 0 { throw SwrunError(.network, "cannot create a socket for \(url.authority) (\(url))", errno: .current) }
        let socket = TCPSocket(fd: fd, url: url, readTimeout: readTimeout)  // closes fd on every error below
        if Glibc.connect(fd, info.ai_addr, info.ai_addrlen) != 0 {
            guard Errno.current == .nowInProgress else { throw socket.connectError(.current) }
            try socket.wait(for: Int16(POLLOUT), seconds: connectTimeout, doing: "connecting to")
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error != 0 { throw socket.connectError(Errno(rawValue: error)) }
        }
        return socket
    }

    private func connectError(_ errno: Errno) -> SwrunError {
        let hint = errno == .connectionRefused ? "check that the server is running and listens on port \(url.port)"
            : "check the network connection and the address"
        return SwrunError(.network, "cannot connect to \(url.authority) (\(url))", errno: errno, hint: hint)
    }

    func writeAll(_ bytes: UnsafeRawBufferPointer) throws(SwrunError) {
        var offset = 0
        while offset < bytes.count {
            // MSG_NOSIGNAL: a peer that has gone away is an error here, not SIGPIPE.
            let count = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if count >= 0 {
                offset += count
                continue
            }
            switch Errno.current {
            case .interrupted: continue
            case .wouldBlock: try wait(for: Int16(POLLOUT), seconds: readTimeout, doing: "sending to")
            case .brokenPipe, .connectionReset: throw TransferError.dropped(url, "closed while the request was sent")
            case let errno: throw SwrunError(.network, "cannot send to \(url.authority) (\(url))", errno: errno)
            }
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(SwrunError) -> Int {
        while true {
            let count = recv(fd, buffer.baseAddress, buffer.count, 0)
            if count >= 0 { return count }
            switch Errno.current {
            case .interrupted: continue
            case .wouldBlock: try wait(for: Int16(POLLIN), seconds: readTimeout, doing: "waiting for data from")
            case .connectionReset: throw TransferError.dropped(url, "was reset")
            case let errno: throw SwrunError(.network, "cannot read from \(url.authority) (\(url))", errno: errno)
            }
        }
    }

    /// Waits until the socket is ready for `events`, or throws a timeout after `seconds`.
    private func wait(for events: Int16, seconds: Double, doing what: String) throws(SwrunError) {
        let deadline = monotonicSeconds() + seconds
        while true {
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let milliseconds = Int32(clamping: Int(((deadline - monotonicSeconds()) * 1000).rounded(.up)))
            let ready = poll(&entry, 1, max(milliseconds, 0))
            if ready > 0 { return }  // ready, or an error the next call reports
            if ready < 0 && Errno.current == .interrupted { continue }
            if ready < 0 { throw SwrunError(.network, "cannot wait for \(url.authority) (\(url))", errno: .current) }
            throw TransferError.timedOut(url, "timed out after \(formatSeconds(seconds)) \(what)")
        }
    }
}

/// Seconds on a clock that only goes forward, for timeouts and transfer rates.
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// "30 s", "0.5 s".
func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
}
