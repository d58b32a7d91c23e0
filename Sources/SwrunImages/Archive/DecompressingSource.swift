import SwrunSystem

/// The uncompressed bytes of another source, whatever of `Compression` it is in.
public final class DecompressingSource: ByteSource {
    public let compression: Compression
    private var inner: any ByteSource
    private let decoder: (any StreamDecoder)?
    private let input = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)
    private var inputStart = 0
    private var inputEnd = 0
    private var innerEnded = false
    private var finished = false

    public init(_ inner: any ByteSource) throws(SwrunError) {
        self.inner = inner
        // Peek at the magic; the peeked bytes stay in the input buffer for the decoder.
        while inputEnd < 6 && !innerEnded {
            let count = try self.inner.read(into: UnsafeMutableRawBufferPointer(rebasing: input[inputEnd...]))
            if count == 0 { innerEnded = true }
            inputEnd += count
        }
        compression = Compression.detect(input[0..<inputEnd])
        switch compression {
        case .none: decoder = nil
        case .gzip: decoder = try GzipDecoder()
        case .xz: decoder = try XZDecoder()
        case .zstd: decoder = try ZstdDecoder()
        case .bzip2: decoder = try Bzip2Decoder()
        }
    }

    deinit { input.deallocate() }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SwrunError) -> Int {
        while !finished {
            if inputStart == inputEnd && !innerEnded { try refill() }
            let pending = UnsafeRawBufferPointer(rebasing: input[inputStart..<inputEnd])
            guard let decoder else {
                if pending.isEmpty { finished = true; return 0 }
                let count = min(pending.count, buffer.count)
                buffer.baseAddress!.copyMemory(from: pending.baseAddress!, byteCount: count)
                inputStart += count
                return count
            }
            let step = try decoder.decode(pending, into: buffer, inputEnded: innerEnded)
            inputStart += step.consumed
            if step.ended {
                if inputStart == inputEnd && !innerEnded { try refill() }
                if inputStart == inputEnd { finished = true } else { try decoder.restart() }
            } else if step.produced == 0 && step.consumed == 0 && innerEnded && inputStart == inputEnd {
                throw corrupt(compression, "it ends too early")
            }
            if step.produced > 0 { return step.produced }
        }
        return 0
    }

    private func refill() throws(SwrunError) {
        inputStart = 0
        inputEnd = try inner.read(into: input)
        if inputEnd == 0 { innerEnded = true }
    }
}
