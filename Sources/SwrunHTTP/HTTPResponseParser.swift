import SwrunSystem

/// Reads an HTTP/1.1 response from bytes as they arrive, in pieces of any size:
/// the head first (it stops there so the caller can look at it), then the body
/// framed by Content-Length, chunked transfer encoding, or the end of the connection.
/// It knows nothing of sockets, so tests feed it byte buffers.
public struct HTTPResponseParser {
    enum State: Equatable {
        case head
        case fixed(remaining: Int64)
        case chunkSize
        case chunkData(remaining: Int64)
        case chunkDataEnd
        case trailers
        case untilClose
        case done
    }

    static let maximumHeadSize = 64 << 10

    let url: HTTPURL
    private(set) var state = State.head
    /// The head, once it has arrived; nil until then.
    public private(set) var response: HTTPResponse?
    /// The body bytes passed on so far (chunk framing excluded).
    public private(set) var bodyBytes: Int64 = 0
    /// What Content-Length announced, when the body has one.
    public private(set) var contentLength: Int64?
    private var line: [UInt8] = []
    private var headLines: [String] = []
    private var headSize = 0

    /// The answer to a HEAD request has a head only, whatever its Content-Length says.
    let expectsBody: Bool

    public init(url: HTTPURL, expectsBody: Bool = true) {
        self.url = url
        self.expectsBody = expectsBody
    }

    public var isComplete: Bool { state == .done }

    /// Consumes bytes from `input` and passes body bytes to `body`; returns how many bytes
    /// it consumed. It returns early right after the head, and ignores bytes after the body.
    public mutating func feed(_ input: UnsafeRawBufferPointer,
                              body: (UnsafeRawBufferPointer) throws(SwrunError) -> Void) throws(SwrunError) -> Int {
        var index = 0
        while index < input.count {
            switch state {
            case .head:
                guard let text = try takeLine(input, &index) else { continue }
                if try headLine(text) { return index }
            case .fixed(let remaining):
                let count = try pass(input, &index, upTo: remaining, body)
                state = remaining == Int64(count) ? .done : .fixed(remaining: remaining - Int64(count))
            case .chunkSize:
                guard let text = try takeLine(input, &index) else { continue }
                let digits = text.prefix { $0 != ";" }.trimmingSpaces
                guard !digits.isEmpty, digits.count <= 15, digits.allSatisfy(\.isHexDigit), let size = Int64(digits, radix: 16) else {
                    throw TransferError.malformed(url, "bad chunk size '\(text)'")
                }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let count = try pass(input, &index, upTo: remaining, body)
                state = remaining == Int64(count) ? .chunkDataEnd : .chunkData(remaining: remaining - Int64(count))
            case .chunkDataEnd:
                guard let text = try takeLine(input, &index) else { continue }
                if !text.isEmpty { throw TransferError.malformed(url, "a chunk is longer than its size says") }
                state = .chunkSize
            case .trailers:
                guard let text = try takeLine(input, &index) else { continue }
                if text.isEmpty { state = .done }
            case .untilClose:
                _ = try pass(input, &index, upTo: Int64.max, body)
            case .done:
                return input.count
            }
        }
        return index
    }

    /// The connection ended: fine when the body is framed by the end of the connection,
    /// a dropped transfer otherwise.
    public mutating func finish() throws(SwrunError) {
        switch state {
        case .done: return
        case .untilClose: state = .done
        case .head:
            throw TransferError.dropped(url, "closed before a complete answer")
        case .fixed:
            throw TransferError.dropped(url, "closed after \(bodyBytes) of \(contentLength ?? 0) bytes")
        default:
            throw TransferError.dropped(url, "closed in the middle of a chunked body, after \(bodyBytes) bytes")
        }
    }

    private mutating func pass(_ input: UnsafeRawBufferPointer, _ index: inout Int, upTo limit: Int64,
                               _ body: (UnsafeRawBufferPointer) throws(SwrunError) -> Void) throws(SwrunError) -> Int {
        let count = Int(min(Int64(input.count - index), limit))
        try body(UnsafeRawBufferPointer(rebasing: input[index..<index + count]))
        index += count
        bodyBytes += Int64(count)
        return count
    }

    /// One line without its CR LF, or nil when the input ends before the line does.
    private mutating func takeLine(_ input: UnsafeRawBufferPointer, _ index: inout Int) throws(SwrunError) -> String? {
        let start = index
        while index < input.count && input[index] != UInt8(ascii: "\n") { index += 1 }
        line.append(contentsOf: input[start..<index])
        if state == .head { headSize += index - start }
        if line.count > HTTPResponseParser.maximumHeadSize || headSize > HTTPResponseParser.maximumHeadSize * 4 {
            throw TransferError.malformed(url, "the head or a chunk line is too long")
        }
        guard index < input.count else { return nil }
        index += 1  // the LF
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        defer { line.removeAll(keepingCapacity: true) }
        return String(decoding: line, as: UTF8.self)
    }

    /// Takes one line of the head; true when the head is complete.
    private mutating func headLine(_ text: String) throws(SwrunError) -> Bool {
        if !text.isEmpty {
            headLines.append(text)
            return false
        }
        if headLines.isEmpty { return false }  // tolerate blank lines before the status line
        let response = try parseHead(headLines)
        headLines = []
        headSize = 0
        // 1xx answers (100 Continue, 103 Early Hints) come before the real one.
        if response.status < 200 && response.status != 101 { return false }
        self.response = response
        state = try framing(of: response)
        return true
    }

    private func parseHead(_ lines: [String]) throws(SwrunError) -> HTTPResponse {
        let statusLine = lines[0]
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let status = Int(parts[1]) else {
            throw TransferError.malformed(url, "bad status line '\(statusLine.prefix(80))'")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += " " + line.trimmingSpaces  // obsolete line folding
                continue
            }
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw TransferError.malformed(url, "bad header line '\(line.prefix(80))'")
            }
            headers.append((String(line[..<colon]).trimmingSpaces, String(line[line.index(after: colon)...]).trimmingSpaces))
        }
        return HTTPResponse(status: status, reason: parts.count > 2 ? String(parts[2]) : "", headers: headers, url: url)
    }

    private mutating func framing(of response: HTTPResponse) throws(SwrunError) -> State {
        if response.status == 204 || response.status == 304 || !expectsBody { return .done }
        let codings = response.headers(named: "Transfer-Encoding").joined(separator: ",").lowercased()
        if codings.split(separator: ",").last?.trimmingSpaces == "chunked" { return .chunkSize }
        let lengths = Set(response.headers(named: "Content-Length").flatMap { $0.split(separator: ",").map(\.trimmingSpaces) })
        if lengths.isEmpty { return .untilClose }
        guard lengths.count == 1, let text = lengths.first, let length = Int64(text), length >= 0 else {
            throw TransferError.malformed(url, "bad Content-Length '\(lengths.sorted().joined(separator: ", "))'")
        }
        contentLength = length
        return length == 0 ? .done : .fixed(remaining: length)
    }
}

extension StringProtocol {
    /// Without the spaces, tabs and line ends around it.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
