import Glibc
import SwrunSystem

/// A stream of bytes read front to back: a file, or a decompressor over another source.
/// Archives are unpacked straight from such a stream, never from a temporary copy.
public protocol ByteSource {
    /// Fills the front of `buffer`; returns how many bytes it wrote, 0 at the end of the stream.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(SwrunError) -> Int
}

/// A file read through its descriptor, which it owns and closes.
public final class FileSource: ByteSource {
    public let path: String
    private let fd: Int32

    public init(path: String) throws(SwrunError) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw SwrunError.system("cannot open \(path)", Errno.current) }
    }

    deinit { close(fd) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SwrunError) -> Int {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if Errno.current != .interrupted { throw SwrunError.system("cannot read \(path)", Errno.current) }
        }
    }
}

/// Bytes already in memory (tests, small documents).
public struct MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(SwrunError) -> Int {
        let count = min(buffer.count, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { all in
            buffer.baseAddress!.copyMemory(from: all.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }
}
