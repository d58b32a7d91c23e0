import CCompression
import SwrunSystem

/// One step of a stream decompressor: take what it can of `input`, write what it can to `output`.
protocol StreamDecoder: AnyObject {
    /// `inputEnded` says no input follows what is given now. Returns the bytes consumed and
    /// produced, and whether the compressed stream (or member, or frame) ended.
    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                inputEnded: Bool) throws(SwrunError) -> (consumed: Int, produced: Int, ended: Bool)
    /// Starts over for a further concatenated member (gzip, bzip2 allow them).
    func restart() throws(SwrunError)
}

func corrupt(_ compression: Compression, _ detail: String) -> SwrunError {
    SwrunError(.verificationFailed, "the \(compression.rawValue) data is corrupt (\(detail))",
               hint: "the file is damaged or truncated; download it again (for images: --flush-cache)")
}

final class GzipDecoder: StreamDecoder {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)

    init() throws(SwrunError) {
        stream.initialize(to: z_stream())
        // 15 window bits plus 16: gzip framing only.
        if inflateInit2_(stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) != Z_OK {
            stream.deallocate()
            throw SwrunError(.system, "cannot start the gzip decoder (out of memory?)")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                inputEnded: Bool) throws(SwrunError) -> (consumed: Int, produced: Int, ended: Bool) {
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = UInt32(input.count)
        stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_out = UInt32(output.count)
        let status = inflate(stream, Z_NO_FLUSH)
        let consumed = input.count - Int(stream.pointee.avail_in)
        let produced = output.count - Int(stream.pointee.avail_out)
        switch status {
        case Z_OK, Z_BUF_ERROR: return (consumed, produced, false)
        case Z_STREAM_END: return (consumed, produced, true)
        default:
            let detail = stream.pointee.msg.map { String(cString: $0) } ?? "zlib status \(status)"
            throw corrupt(.gzip, detail)
        }
    }

    func restart() throws(SwrunError) {
        if inflateReset(stream) != Z_OK { throw corrupt(.gzip, "cannot reset for the next member") }
    }
}

final class XZDecoder: StreamDecoder {
    /// LZMA_CONCATENATED, a macro Swift does not import (lzma/container.h).
    private static let concatenated: UInt32 = 0x08
    private let stream = UnsafeMutablePointer<lzma_stream>.allocate(capacity: 1)

    init() throws(SwrunError) {
        stream.initialize(to: lzma_stream())
        // LZMA_CONCATENATED: xz itself handles further streams, as `xz -d` does.
        if lzma_stream_decoder(stream, UInt64.max, Self.concatenated) != LZMA_OK {
            stream.deallocate()
            throw SwrunError(.system, "cannot start the xz decoder (out of memory?)")
        }
    }

    deinit {
        lzma_end(stream)
        stream.deallocate()
    }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                inputEnded: Bool) throws(SwrunError) -> (consumed: Int, produced: Int, ended: Bool) {
        stream.pointee.next_in = input.baseAddress?.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_in = input.count
        stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_out = output.count
        let status = lzma_code(stream, inputEnded ? LZMA_FINISH : LZMA_RUN)
        let consumed = input.count - stream.pointee.avail_in
        let produced = output.count - stream.pointee.avail_out
        switch status {
        case LZMA_OK, LZMA_BUF_ERROR where produced > 0 || consumed > 0 || !inputEnded:
            return (consumed, produced, false)
        case LZMA_STREAM_END: return (consumed, produced, true)
        case LZMA_BUF_ERROR: throw corrupt(.xz, "it ends too early")
        case LZMA_FORMAT_ERROR: throw corrupt(.xz, "not in the xz format")
        case LZMA_DATA_ERROR: throw corrupt(.xz, "bad data")
        case LZMA_MEM_ERROR, LZMA_MEMLIMIT_ERROR: throw SwrunError(.system, "the xz decoder ran out of memory")
        default: throw corrupt(.xz, "liblzma status \(status.rawValue)")
        }
    }

    func restart() throws(SwrunError) {}  // concatenation is handled inside liblzma
}

final class ZstdDecoder: StreamDecoder {
    private let stream: OpaquePointer
    private var atFrameBoundary = false

    init() throws(SwrunError) {
        guard let stream = ZSTD_createDStream() else { throw SwrunError(.system, "cannot start the zstd decoder (out of memory?)") }
        self.stream = stream
    }

    deinit { ZSTD_freeDStream(stream) }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                inputEnded: Bool) throws(SwrunError) -> (consumed: Int, produced: Int, ended: Bool) {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var outBuffer = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        let hint = ZSTD_decompressStream(stream, &outBuffer, &inBuffer)
        if ZSTD_isError(hint) != 0 { throw corrupt(.zstd, String(cString: ZSTD_getErrorName(hint))) }
        // 0 means a frame ended and is flushed; zstd goes on by itself if another frame follows.
        if hint == 0 {
            atFrameBoundary = true
        } else if inBuffer.pos > 0 || outBuffer.pos > 0 {
            atFrameBoundary = false
        }
        let exhausted = inputEnded && inBuffer.pos == input.count
        if exhausted && outBuffer.pos == 0 && !atFrameBoundary { throw corrupt(.zstd, "it ends too early") }
        return (inBuffer.pos, outBuffer.pos, exhausted && atFrameBoundary)
    }

    func restart() throws(SwrunError) {}
}

final class Bzip2Decoder: StreamDecoder {
    private let stream = UnsafeMutablePointer<bz_stream>.allocate(capacity: 1)

    init() throws(SwrunError) {
        stream.initialize(to: bz_stream())
        if BZ2_bzDecompressInit(stream, 0, 0) != BZ_OK {
            stream.deallocate()
            throw SwrunError(.system, "cannot start the bzip2 decoder (out of memory?)")
        }
    }

    deinit {
        BZ2_bzDecompressEnd(stream)
        stream.deallocate()
    }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                inputEnded: Bool) throws(SwrunError) -> (consumed: Int, produced: Int, ended: Bool) {
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: CChar.self))
        stream.pointee.avail_in = UInt32(input.count)
        stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: CChar.self)
        stream.pointee.avail_out = UInt32(output.count)
        let status = BZ2_bzDecompress(stream)
        let consumed = input.count - Int(stream.pointee.avail_in)
        let produced = output.count - Int(stream.pointee.avail_out)
        switch status {
        case BZ_OK: return (consumed, produced, false)
        case BZ_STREAM_END: return (consumed, produced, true)
        default: throw corrupt(.bzip2, "libbz2 status \(status)")
        }
    }

    func restart() throws(SwrunError) {
        BZ2_bzDecompressEnd(stream)
        stream.initialize(to: bz_stream())
        if BZ2_bzDecompressInit(stream, 0, 0) != BZ_OK { throw corrupt(.bzip2, "cannot reset for the next stream") }
    }
}
