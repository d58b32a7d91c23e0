import CTLS
import Glibc
import SwrunSystem

/// The OpenSSL settings every connection of a client shares: TLS 1.2 or newer, and
/// certificates checked against `caFile` or the system's store.
final class TLSContext {
    let context: OpaquePointer
    let caFile: String?

    init(caFile: String?) throws(SwrunError) {
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw SwrunError(.system, "cannot set up TLS: \(TLSContext.openSSLError())")
        }
        self.context = context
        self.caFile = caFile
        SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil)
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        if let caFile {
            guard FileSystem.kind(of: caFile) != nil else {
                throw SwrunError(.notFound, "the CA file \(caFile) does not exist", hint: "give --ca-file a file of PEM certificates")
            }
            ERR_clear_error()
            if SSL_CTX_load_verify_locations(context, caFile, nil) != 1 {
                throw SwrunError(.invalidArgument, "cannot load CA certificates from \(caFile): \(TLSContext.openSSLError())",
                                 hint: "the file must hold certificates in PEM format (-----BEGIN CERTIFICATE-----)")
            }
        } else {
            SSL_CTX_set_default_verify_paths(context)
        }
    }

    deinit { SSL_CTX_free(context) }

    /// The reason of the oldest error OpenSSL queued, and clears the queue.
    static func openSSLError() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0, let reason = ERR_reason_error_string(code) else { return "unknown TLS error" }
        return String(cString: reason)
    }
}

/// TLS over a TCPSocket. OpenSSL talks to a memory BIO pair and this class moves the
/// bytes to and from the socket itself, so that waits keep the socket's poll() timeouts
/// and a write to a closed peer never raises SIGPIPE (OpenSSL's socket BIO uses write(2)).
final class TLSStream: ByteStream {
    private let socket: TCPSocket
    private let ssl: OpaquePointer
    /// Our end of the BIO pair: what OpenSSL wants sent, and where received bytes go.
    private let network: OpaquePointer
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
    private let url: HTTPURL

    private init(socket: TCPSocket, ssl: OpaquePointer, network: OpaquePointer, url: HTTPURL) {
        self.socket = socket
        self.ssl = ssl
        self.network = network
        self.url = url
    }

    deinit {
        SSL_free(ssl)  // frees OpenSSL's end of the pair with it
        BIO_free(network)
        buffer.deallocate()
    }

    /// Runs the TLS handshake over `socket`, checking the certificate chain and that it names the URL's host.
    static func handshake(over socket: TCPSocket, context: TLSContext, url: HTTPURL) throws(SwrunError) -> TLSStream {
        guard let ssl = SSL_new(context.context) else {
            throw SwrunError(.system, "cannot set up TLS for \(url.authority): \(TLSContext.openSSLError())")
        }
        var inner: OpaquePointer?
        var outer: OpaquePointer?
        guard BIO_new_bio_pair(&inner, 64 << 10, &outer, 64 << 10) == 1, let inner, let outer else {
            SSL_free(ssl)
            throw SwrunError(.system, "cannot set up TLS for \(url.authority): \(TLSContext.openSSLError())")
        }
        SSL_set_bio(ssl, inner, inner)
        let stream = TLSStream(socket: socket, ssl: ssl, network: outer, url: url)

        let parameters = SSL_get0_param(ssl)
        if isIPAddress(url.host) {
            X509_VERIFY_PARAM_set1_ip_asc(parameters, url.host)
        } else {
            // SNI is for names only (RFC 6066), so virtual hosts pick the right certificate.
            _ = url.host.withCString { SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), UnsafeMutableRawPointer(mutating: $0)) }
            X509_VERIFY_PARAM_set_hostflags(parameters, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            X509_VERIFY_PARAM_set1_host(parameters, url.host, 0)
        }
        SSL_set_connect_state(ssl)
        if try stream.perform({ SSL_do_handshake(ssl) }, handshake: true, context: context) == 0 {
            throw TransferError.dropped(url, "closed during the TLS handshake")
        }
        return stream
    }

    func writeAll(_ bytes: UnsafeRawBufferPointer) throws(SwrunError) {
        var offset = 0
        while offset < bytes.count {
            let chunk = Int32(min(bytes.count - offset, 16 << 10))
            let written = try perform({ SSL_write(ssl, bytes.baseAddress! + offset, chunk) })
            if written == 0 { throw TransferError.dropped(url, "closed while the request was sent") }
            offset += Int(written)
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(SwrunError) -> Int {
        Int(try perform({ SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count)) }))
    }

    /// Runs an SSL call until it makes progress, moving bytes between the BIO pair and the
    /// socket as it asks. Returns its positive result, or 0 at the end of the stream.
    private func perform(_ operation: () -> Int32, handshake: Bool = false, context: TLSContext? = nil) throws(SwrunError) -> Int32 {
        while true {
            ERR_clear_error()
            let result = operation()
            try flush()
            if result > 0 { return result }
            switch SSL_get_error(ssl, result) {
            case SSL_ERROR_WANT_READ:
                if try !receive() { return 0 }
            case SSL_ERROR_WANT_WRITE:
                continue  // flushed above
            case SSL_ERROR_ZERO_RETURN:
                return 0
            default:
                throw failure(handshake: handshake, context: context)
            }
        }
    }

    /// Sends what OpenSSL has queued for the peer.
    private func flush() throws(SwrunError) {
        while BIO_ctrl_pending(network) > 0 {
            let count = BIO_read(network, buffer.baseAddress, Int32(buffer.count))
            if count <= 0 { return }
            try socket.writeAll(UnsafeRawBufferPointer(rebasing: buffer[0..<Int(count)]))
        }
    }

    /// Moves bytes from the socket to OpenSSL; false at the end of the stream.
    private func receive() throws(SwrunError) -> Bool {
        let room = min(BIO_ctrl_get_write_guarantee(network), buffer.count)
        if room == 0 { throw SwrunError(.system, "TLS buffer to \(url.authority) is full (\(url))") }
        let count = try socket.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<room]))
        if count == 0 { return false }
        BIO_write(network, buffer.baseAddress, Int32(count))
        return true
    }

    private func failure(handshake: Bool, context: TLSContext?) -> SwrunError {
        let verification = SSL_get_verify_result(ssl)
        if handshake && verification != X509_V_OK {
            let reason = String(cString: X509_verify_cert_error_string(verification))
            let hint = context?.caFile.map { "check that \($0) holds the certificate of the CA that signed the server's certificate" }
                ?? "if the server's certificate comes from a private CA, pass that CA's certificate with --ca-file FILE"
            ERR_clear_error()
            return SwrunError(.network, "the TLS certificate of \(url.authority) did not verify (\(url)): \(reason)", hint: hint)
        }
        let reason = TLSContext.openSSLError()
        if handshake {
            return SwrunError(.network, "the TLS handshake with \(url.authority) failed (\(url)): \(reason)",
                              hint: "check that the server speaks HTTPS (TLS 1.2 or newer) on port \(url.port)")
        }
        return TransferError.dropped(url, "failed in TLS: \(reason)")
    }
}

func isIPAddress(_ host: String) -> Bool {
    var address = in6_addr()
    return inet_pton(AF_INET, host, &address) == 1 || inet_pton(AF_INET6, host, &address) == 1
}
