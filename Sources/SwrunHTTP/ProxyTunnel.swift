import SwrunSystem

/// The way to a server through an HTTP proxy: a TCP connection to the proxy, and for an
/// https:// URL a CONNECT tunnel through it (TLS then runs end to end, the proxy sees only
/// the host and port). A plain http:// request goes to the proxy as it is, in absolute form.
enum ProxyTunnel {
    static func connect(to proxy: Proxy, for url: HTTPURL, options: HTTPClient.Options) throws(SwrunError) -> TCPSocket {
        let socket: TCPSocket
        do {
            socket = try TCPSocket.connect(to: proxy.url, connectTimeout: options.connectTimeout, readTimeout: options.readTimeout)
        } catch {
            // The errno stays: a timeout is still worth a retry.
            throw SwrunError(error.code, "cannot reach the proxy \(proxy.authority) (from \(proxy.variable)) for \(url): \(error.message)",
                             errno: error.errno, hint: "check that the proxy runs, or reach \(url.host) directly with no_proxy=\(url.host)")
        }
        guard url.scheme == .https else { return socket }
        var lines = ["CONNECT \(url.authority) HTTP/1.1", "Host: \(url.authority)", "User-Agent: \(options.userAgent)"]
        if let authorization = proxy.authorization { lines.append("Proxy-Authorization: \(authorization)") }
        let request = Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
        try request.withUnsafeBytes { bytes in Result { () throws(SwrunError) in try socket.writeAll(bytes) } }.get()
        let status = try readStatus(socket, proxy: proxy, url: url)
        switch status.code {
        case 200..<300:
            return socket
        case 407:
            throw wantsCredentials(proxy, status.line)
        default:
            throw SwrunError(.network, "the proxy \(proxy.authority) (from \(proxy.variable)) did not open a tunnel to \(url.authority) (\(status.line))",
                             hint: "the proxy may refuse that host or port; ask its administrator, or reach it directly with no_proxy=\(url.host)")
        }
    }

    static func wantsCredentials(_ proxy: Proxy, _ statusLine: String) -> SwrunError {
        SwrunError(.unauthorized, "the proxy \(proxy.authority) (from \(proxy.variable)) wants credentials (\(statusLine))",
                   hint: proxy.user == nil ? "put them in the variable: \(proxy.variable)=http://USER:PASSWORD@\(proxy.authority)"
                                           : "check the user and password in \(proxy.variable)")
    }

    /// Reads the proxy's answer head byte by byte, so that nothing of the TLS stream that
    /// follows is taken from the socket; returns its status code and line.
    private static func readStatus(_ socket: TCPSocket, proxy: Proxy, url: HTTPURL) throws(SwrunError) -> (code: Int, line: String) {
        var head: [UInt8] = []
        let byte = UnsafeMutableRawBufferPointer.allocate(byteCount: 1, alignment: 1)
        defer { byte.deallocate() }
        while !head.ends(with: [13, 10, 13, 10]) {
            if try socket.read(into: byte) == 0 {
                throw TransferError.dropped(proxy.url, "closed before answering CONNECT \(url.authority)")
            }
            head.append(byte[0])
            if head.count > 64 << 10 { throw TransferError.malformed(proxy.url, "the answer to CONNECT is over 64 KiB") }
        }
        let line = String(decoding: head.prefix { $0 != 13 }, as: UTF8.self)
        let words = line.split(separator: " ")
        guard words.count >= 2, words[0].hasPrefix("HTTP/1."), let code = Int(words[1]) else {
            throw TransferError.malformed(proxy.url, "'\(line)' answers CONNECT")
        }
        return (code, line)
    }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && self[(count - suffix.count)...].elementsEqual(suffix) }
}
