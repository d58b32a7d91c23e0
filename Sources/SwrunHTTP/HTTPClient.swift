import Glibc
import SwrunSystem

/// An HTTP/1.1 client over plain TCP or TLS, for image servers and OCI registries.
/// One connection per request (Connection: close): simple, and downloads are few and large.
public final class HTTPClient {
    public struct Options: Sendable {
        /// PEM file of CA certificates to trust; nil trusts the system's store.
        public var caFile: String?
        public var userAgent: String
        /// Seconds to wait for a TCP connection to each address.
        public var connectTimeout: Double
        /// Seconds to wait for each piece of data (an idle limit, not a limit on the whole transfer).
        public var readTimeout: Double
        public var maxRedirects: Int
        /// The proxies, from http_proxy, https_proxy and no_proxy unless given.
        public var proxies: ProxySettings

        public init(caFile: String? = nil, userAgent: String = "swrun", connectTimeout: Double = 15,
                    readTimeout: Double = 30, maxRedirects: Int = 5, proxies: ProxySettings = ProxySettings()) {
            self.caFile = caFile
            self.userAgent = userAgent
            self.connectTimeout = connectTimeout
            self.readTimeout = readTimeout
            self.maxRedirects = maxRedirects
            self.proxies = proxies
        }
    }

    public let options: Options
    /// Made at the first https URL, so that plain-HTTP users never load certificates.
    private var tlsContext: TLSContext?

    public init(options: Options = Options()) {
        self.options = options
    }

    /// GETs `url`, following redirects, and streams the body of the final response
    /// (whatever its status) to `body`.
    @discardableResult
    public func get(_ url: HTTPURL, headers: [(String, String)] = [],
                    body: (UnsafeRawBufferPointer) throws(SwrunError) -> Void) throws(SwrunError) -> HTTPResponse {
        try get(url, headers: headers, onResponse: { _ throws(SwrunError) in }, body: body)
    }

    /// Like `get(_:headers:body:)`, and calls `onResponse` with the final response's head
    /// before any of its body, so a caller can decide what to do with the body (or throw).
    @discardableResult
    public func get(_ url: HTTPURL, headers: [(String, String)] = [],
                    onResponse: (HTTPResponse) throws(SwrunError) -> Void,
                    body: (UnsafeRawBufferPointer) throws(SwrunError) -> Void) throws(SwrunError) -> HTTPResponse {
        var url = url
        var headers = headers
        var redirects = 0
        while true {
            let proxy = try options.proxies.proxy(for: url)
            let stream = try connect(url, via: proxy)
            // Plain HTTP through a proxy asks it for the whole URL; https went through a CONNECT tunnel.
            let viaProxy = url.scheme == .http ? proxy : nil
            let exchange = try HTTPExchange(url: url, request: try request(for: url, headers: headers, via: viaProxy), stream: stream)
            let response = try exchange.readHead()
            if let viaProxy, response.status == 407 { throw ProxyTunnel.wantsCredentials(viaProxy, "HTTP \(response.status) \(response.reason)") }
            if [301, 302, 303, 307, 308].contains(response.status), let location = response.header("Location") {
                if redirects == options.maxRedirects {
                    throw SwrunError(.network, "too many redirects (more than \(options.maxRedirects)) from \(url)",
                                     hint: "the server redirects in a loop; check the URL")
                }
                redirects += 1
                let next = try url.resolving(location)
                try HTTPClient.checkRedirect(from: url, to: next)
                headers = HTTPClient.headers(headers, forRedirectFrom: url, to: next)
                url = next
                continue
            }
            try onResponse(response)
            try exchange.readBody(body)
            return response
        }
    }

    /// What a request sends after its head.
    public enum RequestBody {
        case none
        case bytes([UInt8])
        /// `count` bytes of the open file `fd`, from `offset` (a blob, or one chunk of it).
        case file(fd: Int32, offset: Int64, count: Int64)

        var count: Int64 {
            switch self {
            case .none: 0
            case .bytes(let bytes): Int64(bytes.count)
            case .file(_, _, let count): count
            }
        }
    }

    /// Sends one request of `method` (HEAD, POST, PUT, PATCH, DELETE) with `body`, following no
    /// redirect, and returns the answer with its (small) body.
    public func send(_ method: String, _ url: HTTPURL, headers: [(String, String)] = [], body: RequestBody = .none,
                     limit: Int = 1 << 20) throws(SwrunError) -> (HTTPResponse, [UInt8]) {
        let proxy = try options.proxies.proxy(for: url)
        let stream = try connect(url, via: proxy)
        let viaProxy = url.scheme == .http ? proxy : nil
        let head = try request(for: url, headers: headers + (method == "HEAD" || method == "GET" ? [] : [("Content-Length", String(body.count))]),
                               via: viaProxy, method: method)
        var bytes = head
        if case .bytes(let data) = body { bytes += data }
        let exchange = try HTTPExchange(url: url, request: bytes, stream: stream, expectsBody: method != "HEAD")
        if case .file(let fd, let offset, let count) = body { try exchange.sendBody(fd: fd, offset: offset, count: count) }
        let response = try exchange.readHead()
        var data: [UInt8] = []
        try exchange.readBody { chunk throws(SwrunError) in
            if data.count + chunk.count > limit {
                throw SwrunError(.network, "the answer from \(url) is larger than \(limit) bytes", hint: "check the URL")
            }
            data.append(contentsOf: chunk)
        }
        return (response, data)
    }

    /// GETs a small document (an index, a manifest) whole; throws when it is over `limit` bytes.
    public func fetch(_ url: HTTPURL, headers: [(String, String)] = [],
                      limit: Int = 16 << 20) throws(SwrunError) -> (HTTPResponse, [UInt8]) {
        var data: [UInt8] = []
        let response = try get(url, headers: headers) { chunk throws(SwrunError) in
            if data.count + chunk.count > limit {
                throw SwrunError(.network, "the answer from \(url) is larger than \(limit) bytes",
                                 hint: "that is too big for what was asked; check the URL")
            }
            data.append(contentsOf: chunk)
        }
        return (response, data)
    }

    /// A redirect may not leave HTTPS: what TLS vouched for would then come from anyone on the path.
    static func checkRedirect(from: HTTPURL, to: HTTPURL) throws(SwrunError) {
        guard from.scheme == .https && to.scheme == .http else { return }
        throw SwrunError(.verificationFailed, "\(from) redirects to \(to), plain HTTP; swrun does not follow a redirect from HTTPS to HTTP",
                         hint: "the server or something on the way downgrades the connection; ask its operator to redirect to an https:// URL")
    }

    /// The headers to send to a redirect's target: credentials stay with the origin they
    /// were meant for (registries redirect blobs to CDNs with signed URLs).
    static func headers(_ headers: [(String, String)], forRedirectFrom from: HTTPURL, to: HTTPURL) -> [(String, String)] {
        if from.scheme == to.scheme && from.host == to.host && from.port == to.port { return headers }
        return headers.filter { $0.0.lowercased() != "authorization" }
    }

    private func connect(_ url: HTTPURL, via proxy: Proxy?) throws(SwrunError) -> ByteStream {
        let socket: TCPSocket
        if let proxy {
            socket = try ProxyTunnel.connect(to: proxy, for: url, options: options)
        } else {
            socket = try TCPSocket.connect(to: url, connectTimeout: options.connectTimeout, readTimeout: options.readTimeout)
        }
        guard url.scheme == .https else { return socket }
        let context: TLSContext
        if let existing = tlsContext { context = existing } else { context = try TLSContext(caFile: options.caFile) }
        tlsContext = context
        return try TLSStream.handshake(over: socket, context: context, url: url)
    }

    private func request(for url: HTTPURL, headers: [(String, String)], via proxy: Proxy?, method: String = "GET") throws(SwrunError) -> [UInt8] {
        let given = Set(headers.map { $0.0.lowercased() })
        var lines = ["\(method) \(proxy == nil ? url.path : url.description) HTTP/1.1", "Host: \(url.hostHeader)"]
        if let authorization = proxy?.authorization { lines.append("Proxy-Authorization: \(authorization)") }
        if !given.contains("user-agent") { lines.append("User-Agent: \(options.userAgent)") }
        if !given.contains("accept") { lines.append("Accept: */*") }
        lines.append("Connection: close")
        for (name, value) in headers {
            if name.isEmpty || name.contains(where: { $0 == ":" || $0 == " " || $0.isNewline }) || value.contains(where: \.isNewline) {
                throw SwrunError(.invalidArgument, "invalid HTTP header '\(name)' for \(url)",
                                 hint: "header names have no spaces or colons, and values no line breaks")
            }
            lines.append("\(name): \(value)")
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
    }
}

/// One request and its response on a fresh connection.
final class HTTPExchange {
    private let stream: ByteStream
    private var parser: HTTPResponseParser
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
    /// Bytes read past the head, not yet given to the parser.
    private var pending = 0..<0

    init(url: HTTPURL, request: [UInt8], stream: ByteStream, expectsBody: Bool = true) throws(SwrunError) {
        self.stream = stream
        self.parser = HTTPResponseParser(url: url, expectsBody: expectsBody)
        // withUnsafeBytes rethrows untyped errors: carry ours out in a Result.
        try request.withUnsafeBytes { bytes in Result { () throws(SwrunError) in try stream.writeAll(bytes) } }.get()
    }

    deinit { buffer.deallocate() }

    /// Sends a request body after the head: `count` bytes of the file `fd` from `offset`.
    func sendBody(fd: Int32, offset: Int64, count: Int64) throws(SwrunError) {
        var sent: Int64 = 0
        while sent < count {
            let chunk = Int(min(Int64(buffer.count), count - sent))
            let read = pread(fd, buffer.baseAddress, chunk, off_t(offset + sent))
            guard read > 0 else { throw SwrunError.system("cannot read the file being uploaded", Errno.current) }
            try stream.writeAll(UnsafeRawBufferPointer(rebasing: buffer[0..<read]))
            sent += Int64(read)
        }
    }

    func readHead() throws(SwrunError) -> HTTPResponse {
        while true {
            if let response = parser.response { return response }
            let count = try stream.read(into: buffer)
            if count == 0 { try parser.finish() }
            let used = try parser.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) { _ throws(SwrunError) in }
            pending = used..<count
        }
    }

    func readBody(_ body: (UnsafeRawBufferPointer) throws(SwrunError) -> Void) throws(SwrunError) {
        _ = try parser.feed(UnsafeRawBufferPointer(rebasing: buffer[pending]), body: body)
        while !parser.isComplete {
            let count = try stream.read(into: buffer)
            if count == 0 { return try parser.finish() }
            _ = try parser.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), body: body)
        }
    }
}
