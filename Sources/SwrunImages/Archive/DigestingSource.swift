import SwrunHTTP
import SwrunSystem

/// Passes another source's bytes through, hashing them on the way: the SHA-256 of an OCI
/// layer's uncompressed tar (its diff_id) comes out of the one pass that unpacks it.
public final class DigestingSource: ByteSource {
    private var inner: any ByteSource
    private let digest = SHA256()

    public init(_ inner: any ByteSource) { self.inner = inner }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SwrunError) -> Int {
        let count = try inner.read(into: buffer)
        digest.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        return count
    }

    /// Reads what the tar reader left after the archive's end marker (the rest of the zero
    /// blocks), which the digest covers too; returns "sha256:HEX". The source is spent.
    public func finish() throws(SwrunError) -> String {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { buffer.deallocate() }
        while try read(into: buffer) > 0 {}
        return "sha256:" + digest.finalize()
    }
}
