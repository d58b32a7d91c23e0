/// Why a document is not JSON, and where.
public struct JSONError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What was wrong or expected, e.g. "expected ':' after object key".
    public let message: String
    /// 1-based; lines end at '\n'.
    public let line: Int
    /// 1-based, in characters (Unicode scalars), not bytes.
    public let column: Int
    /// 0-based byte offset into the input.
    public let offset: Int

    public var description: String { "\(message) at line \(line), column \(column)" }
}

extension JSONValue {
    /// Nesting allowed by default: deep enough for any real document, shallow enough
    /// that hostile input cannot overflow the stack of this recursive parser.
    public static let defaultMaxDepth = 512

    /// Parses one JSON document (RFC 8259). A leading UTF-8 byte order mark is ignored.
    public init(parsing bytes: some Collection<UInt8>, maxDepth: Int = defaultMaxDepth) throws(JSONError) {
        let result = bytes.withContiguousStorageIfAvailable { JSONParser.parse($0, maxDepth: maxDepth) }
            ?? Array(bytes).withUnsafeBufferPointer { JSONParser.parse($0, maxDepth: maxDepth) }
        self = try result.get()
    }

    public init(parsing text: String, maxDepth: Int = defaultMaxDepth) throws(JSONError) {
        try self.init(parsing: text.utf8, maxDepth: maxDepth)
    }
}

/// Recursive descent over a byte buffer with an index: no per-Character String work.
private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var position = 0
    var depth = 0
    /// Where the text starts after a byte order mark; columns count from here.
    var textStart = 0

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) -> Result<JSONValue, JSONError> {
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        return Result { () throws(JSONError) in try parser.parseDocument() }
    }

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { textStart = 3; position = 3 }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected text after the JSON value") }
        return value
    }

    // MARK: Values

    mutating func parseValue() throws(JSONError) -> JSONValue {
        guard let byte = peek() else { throw expected("a JSON value") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        case UInt8(ascii: "t"): return try parseLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try parseLiteral("false", .bool(false))
        case UInt8(ascii: "n"): return try parseLiteral("null", .null)
        default: throw expected("a JSON value")
        }
    }

    mutating func parseObject() throws(JSONError) -> JSONValue {
        try enterContainer()
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if take(UInt8(ascii: "}")) { return leaveContainer(.object(members)) }
        while true {
            skipWhitespace()
            // The empty object returned above, so a '}' here follows a comma.
            if peek() == UInt8(ascii: "}") { throw error("trailing comma before '}'") }
            guard peek() == UInt8(ascii: "\"") else { throw expected("a string as object key") }
            let key = try parseString()
            skipWhitespace()
            guard take(UInt8(ascii: ":")) else { throw expected("':' after object key") }
            skipWhitespace()
            members[key] = try parseValue()  // a repeated key replaces the earlier one
            skipWhitespace()
            if take(UInt8(ascii: "}")) { return leaveContainer(.object(members)) }
            guard take(UInt8(ascii: ",")) else { throw expected("',' or '}' after object member") }
        }
    }

    mutating func parseArray() throws(JSONError) -> JSONValue {
        try enterContainer()
        var elements: [JSONValue] = []
        skipWhitespace()
        if take(UInt8(ascii: "]")) { return leaveContainer(.array(elements)) }
        while true {
            skipWhitespace()
            // The empty array returned above, so a ']' here follows a comma.
            if peek() == UInt8(ascii: "]") { throw error("trailing comma before ']'") }
            elements.append(try parseValue())
            skipWhitespace()
            if take(UInt8(ascii: "]")) { return leaveContainer(.array(elements)) }
            guard take(UInt8(ascii: ",")) else { throw expected("',' or ']' after array element") }
        }
    }

    /// Steps over the opening bracket, refusing nesting past `maxDepth`.
    mutating func enterContainer() throws(JSONError) {
        guard depth < maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
        depth += 1
        position += 1
    }

    mutating func leaveContainer(_ value: JSONValue) -> JSONValue {
        depth -= 1
        return value
    }

    mutating func parseLiteral(_ word: String, _ value: JSONValue) throws(JSONError) -> JSONValue {
        for byte in word.utf8 {
            guard take(byte) else { throw expected("'\(word)'") }
        }
        return value
    }

    /// Keeps the number's text; checks the RFC 8259 grammar -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    mutating func parseNumber() throws(JSONError) -> String {
        let start = position
        _ = take(UInt8(ascii: "-"))
        if take(UInt8(ascii: "0")) {
            if let next = peek(), isDigit(next) { throw error("leading zeros are not allowed in numbers") }
        } else {
            try digits("a digit")
        }
        if take(UInt8(ascii: ".")) { try digits("a digit after the decimal point") }
        if take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) {
            _ = take(UInt8(ascii: "+")) || take(UInt8(ascii: "-"))
            try digits("a digit in the exponent")
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    }

    /// One or more digits.
    mutating func digits(_ what: String) throws(JSONError) {
        guard let first = peek(), isDigit(first) else { throw expected(what) }
        while let next = peek(), isDigit(next) { position += 1 }
    }

    // MARK: Strings

    /// Plain runs are copied in one go; only strings with escapes build a separate buffer.
    mutating func parseString() throws(JSONError) -> String {
        let opening = position
        position += 1
        var unescaped: [UInt8] = []
        var runStart = position
        while true {
            guard let byte = peek() else { throw error("unterminated string", at: opening) }
            switch byte {
            case UInt8(ascii: "\""):
                let run = UnsafeBufferPointer(rebasing: bytes[runStart..<position])
                position += 1
                if runStart == opening + 1 { return String(decoding: run, as: UTF8.self) }
                unescaped += run
                return String(decoding: unescaped, as: UTF8.self)
            case UInt8(ascii: "\\"):
                unescaped += UnsafeBufferPointer(rebasing: bytes[runStart..<position])
                try parseEscape(into: &unescaped)
                runStart = position
            case 0..<0x20:
                throw error("control character \(describe(byte)) in string; it must be escaped")
            case 0..<0x80:
                position += 1
            default:
                try skipMultibyteScalar()
            }
        }
    }

    mutating func parseEscape(into output: inout [UInt8]) throws(JSONError) {
        let backslash = position
        position += 1
        guard let letter = peek() else { throw expected("an escape after '\\'") }
        position += 1
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(letter)
        case UInt8(ascii: "b"): output.append(0x08)
        case UInt8(ascii: "f"): output.append(0x0C)
        case UInt8(ascii: "n"): output.append(0x0A)
        case UInt8(ascii: "r"): output.append(0x0D)
        case UInt8(ascii: "t"): output.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try hexQuad()
            var scalar = unit
            switch unit {
            case 0xD800...0xDBFF:
                // A high surrogate counts only with a low one right after it, as "\uD83D\uDE00".
                guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")) else {
                    throw error("high surrogate \\u\(hex(unit)) without a low surrogate after it", at: backslash)
                }
                let low = try hexQuad()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw error("high surrogate \\u\(hex(unit)) followed by \\u\(hex(low)), not a low surrogate", at: backslash)
                }
                scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            case 0xDC00...0xDFFF:
                throw error("low surrogate \\u\(hex(unit)) without a high surrogate before it", at: backslash)
            default:
                break
            }
            UTF8.encode(Unicode.Scalar(scalar)!) { output.append($0) }
        default:
            throw error("invalid escape '\\' followed by \(describe(letter)) in string", at: backslash)
        }
    }

    /// The four hex digits of a \u escape.
    mutating func hexQuad() throws(JSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek(), let digit = hexDigit(byte) else { throw expected("four hex digits after '\\u'") }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    /// Steps over one multi-byte UTF-8 sequence, refusing what RFC 3629 forbids:
    /// stray continuation bytes, overlong forms, encoded surrogates, values past U+10FFFF.
    mutating func skipMultibyteScalar() throws(JSONError) {
        let continuations: Int
        var second: ClosedRange<UInt8> = 0x80...0xBF
        switch bytes[position] {
        case 0xC2...0xDF: continuations = 1
        case 0xE0: continuations = 2; second = 0xA0...0xBF
        case 0xED: continuations = 2; second = 0x80...0x9F
        case 0xE1...0xEF: continuations = 2
        case 0xF0: continuations = 3; second = 0x90...0xBF
        case 0xF4: continuations = 3; second = 0x80...0x8F
        case 0xF1...0xF3: continuations = 3
        default: throw error("invalid UTF-8 in string")
        }
        for offset in 1...continuations {
            let allowed = offset == 1 ? second : 0x80...0xBF
            guard position + offset < bytes.count, allowed.contains(bytes[position + offset]) else {
                throw error("invalid UTF-8 in string")
            }
        }
        position += 1 + continuations
    }

    // MARK: Bytes

    func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    /// Steps over `byte` if it comes next.
    mutating func take(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        position += 1
        return true
    }

    mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
    }

    func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    func hexDigit(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    func hex(_ unit: UInt32) -> String {
        let digits = String(unit, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// A byte for a message: printable ASCII quoted, anything else in hex.
    func describe(_ byte: UInt8) -> String {
        guard !(0x21...0x7E).contains(byte) else { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16, uppercase: true)
    }

    // MARK: Errors

    /// "expected X" at the current position, saying so when the input simply ended.
    func expected(_ what: String) -> JSONError {
        error(position < bytes.count ? "expected \(what)" : "unexpected end of input, expected \(what)")
    }

    /// Line and column are worked out only here, so the happy path never counts lines.
    func error(_ message: String, at offset: Int? = nil) -> JSONError {
        let offset = offset ?? position
        var line = 1
        var column = 1
        for byte in bytes[min(textStart, offset)..<offset] {
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {  // continuation bytes belong to the character before
                column += 1
            }
        }
        return JSONError(message: message, line: line, column: column, offset: offset)
    }
}
