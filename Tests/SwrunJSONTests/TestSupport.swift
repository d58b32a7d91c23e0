import SwrunJSON

/// The error parsing `text` gives, or nil when it parses.
func parseError(_ text: String, maxDepth: Int = JSONValue.defaultMaxDepth) -> JSONError? {
    parseError(Array(text.utf8), maxDepth: maxDepth)
}

func parseError(_ bytes: [UInt8], maxDepth: Int = JSONValue.defaultMaxDepth) -> JSONError? {
    do {
        _ = try JSONValue(parsing: bytes, maxDepth: maxDepth)
        return nil
    } catch {
        return error
    }
}

/// A malformed input and the error it must give.
struct Malformed: Sendable, CustomStringConvertible {
    var bytes: [UInt8]
    var message: String
    var line = 1
    var column: Int

    init(_ text: String, _ message: String, line: Int = 1, column: Int) {
        self.init(bytes: Array(text.utf8), message, line: line, column: column)
    }

    init(bytes: [UInt8], _ message: String, line: Int = 1, column: Int) {
        self.bytes = bytes
        self.message = message
        self.line = line
        self.column = column
    }

    var description: String { String(decoding: bytes, as: UTF8.self) }
}
