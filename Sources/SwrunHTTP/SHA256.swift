import CTLS
import Glibc
import SwrunSystem

/// A streaming SHA-256 digest (OpenSSL's EVP), for checking downloads against their index.
public final class SHA256 {
    private let context: OpaquePointer

    public init() {
        // Allocation failure is the only way these fail: nothing a caller could handle.
        guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            fatalError("OpenSSL cannot start a SHA-256 digest")
        }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count > 0 { EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) }
    }

    /// The digest in lowercase hex; the object is spent afterwards.
    public func finalize() -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in digest.prefix(Int(length)) { text += [hex[Int(byte >> 4)], hex[Int(byte & 15)]] }
        return String(decoding: text, as: UTF8.self)
    }

    public static func hexDigest(of bytes: [UInt8]) -> String {
        let digest = SHA256()
        bytes.withUnsafeBytes { digest.update($0) }
        return digest.finalize()
    }

    public static func hexDigest(ofFile path: String) throws(SwrunError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let errno = Errno.current
            throw SwrunError(errno == .noSuchFileOrDirectory ? .notFound : .system, "cannot read \(path)", errno: errno)
        }
        defer { close(fd) }
        let digest = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count < 0 && Errno.current == .interrupted { continue }
            if count < 0 { throw SwrunError.system("cannot read \(path)", .current) }
            if count == 0 { return digest.finalize() }
            digest.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }
}
