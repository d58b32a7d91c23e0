// libFuzzer target: HTTP/1.1 responses (head, Content-Length, chunked bodies), fed in pieces
// of the sizes the first byte picks, as they arrive from a socket.
import SwrunHTTP
import SwrunSystem

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPResponse(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let first = bytes.first, let url = try? HTTPURL("https://fuzz.invalid/x") else { return 0 }
    let piece = Int(first % 64) + 1
    let input = Array(bytes.dropFirst())
    var parser = HTTPResponseParser(url: url)
    var body = 0
    input.withUnsafeBytes { all in
        do {
            var offset = 0
            while offset < all.count {
                let end = min(offset + piece, all.count)
                var chunk = UnsafeRawBufferPointer(rebasing: all[offset..<end])
                offset = end
                // The head ends a feed early: feed the rest of the piece again, as HTTPExchange does.
                while !chunk.isEmpty {
                    let used = try parser.feed(chunk) { body += $0.count }
                    if used == 0 && parser.response == nil { break }
                    chunk = UnsafeRawBufferPointer(rebasing: chunk[used...])
                    if parser.isComplete { break }
                }
            }
            try parser.finish()
            _ = parser.response?.header("Content-Type")
        } catch {}
    }
    return 0
}
