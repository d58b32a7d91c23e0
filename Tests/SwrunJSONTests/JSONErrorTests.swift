import Testing
import SwrunJSON

@Suite struct JSONErrorTests {
    static let syntax: [Malformed] = [
        Malformed("{\n  \"a\": 1,\n  \"b\" 2\n}", "expected ':' after object key", line: 3, column: 7),
        Malformed("", "unexpected end of input, expected a JSON value", column: 1),
        Malformed("   \n ", "unexpected end of input, expected a JSON value", line: 2, column: 2),
        Malformed("{} x", "unexpected text after the JSON value", column: 4),
        Malformed("1 2", "unexpected text after the JSON value", column: 3),
        Malformed("[1, 2,]", "trailing comma before ']'", column: 7),
        Malformed(#"{"a":1,}"#, "trailing comma before '}'", column: 8),
        Malformed("[\r\n1,\r\n]", "trailing comma before ']'", line: 3, column: 1),
        Malformed("[1 2]", "expected ',' or ']' after array element", column: 4),
        Malformed(#"{"a":1 "b":2}"#, "expected ',' or '}' after object member", column: 8),
        Malformed("{a:1}", "expected a string as object key", column: 2),
        Malformed("[,1]", "expected a JSON value", column: 2),
        Malformed("[1", "unexpected end of input, expected ',' or ']' after array element", column: 3),
        Malformed("[tru]", "expected 'true'", column: 5),
        Malformed(#"{"a" : nul"#, "unexpected end of input, expected 'null'", column: 11),
        Malformed("True", "expected a JSON value", column: 1),
        Malformed("\"é\" x", "unexpected text after the JSON value", column: 5),  // columns count characters
    ]

    static let numbers: [Malformed] = [
        Malformed("01", "leading zeros are not allowed in numbers", column: 2),
        Malformed("-01", "leading zeros are not allowed in numbers", column: 3),
        Malformed("-", "unexpected end of input, expected a digit", column: 2),
        Malformed("-a", "expected a digit", column: 2),
        Malformed("1.", "unexpected end of input, expected a digit after the decimal point", column: 3),
        Malformed("1.e3", "expected a digit after the decimal point", column: 3),
        Malformed("1e", "unexpected end of input, expected a digit in the exponent", column: 3),
        Malformed("[1e+]", "expected a digit in the exponent", column: 5),
        Malformed(".5", "expected a JSON value", column: 1),
        Malformed("+1", "expected a JSON value", column: 1),
    ]

    static let strings: [Malformed] = [
        Malformed("\"ab\tc\"", "control character byte 0x09 in string; it must be escaped", column: 4),
        Malformed("[\"a\nb\"]", "control character byte 0x0A in string; it must be escaped", column: 4),
        Malformed("[1, \"abc", "unterminated string", column: 5),
        Malformed(#""\x""#, "invalid escape '\\' followed by 'x' in string", column: 2),
        Malformed(#""\u12G4""#, "expected four hex digits after '\\u'", column: 6),
        Malformed(#""ab\uD800""#, "high surrogate \\uD800 without a low surrogate after it", column: 4),
        Malformed(#""\uD83Dx""#, "high surrogate \\uD83D without a low surrogate after it", column: 2),
        Malformed(#""\uD800\u0041""#, "high surrogate \\uD800 followed by \\u0041, not a low surrogate", column: 2),
        Malformed(#""\uDC00""#, "low surrogate \\uDC00 without a high surrogate before it", column: 2),
        Malformed(bytes: [0x22, 0x61, 0xFF, 0x22], "invalid UTF-8 in string", column: 3),
        Malformed(bytes: [0x22, 0x80, 0x22], "invalid UTF-8 in string", column: 2),  // stray continuation byte
        Malformed(bytes: [0x22, 0xC0, 0x80, 0x22], "invalid UTF-8 in string", column: 2),  // overlong NUL
        Malformed(bytes: [0x22, 0xE0, 0x80, 0x80, 0x22], "invalid UTF-8 in string", column: 2),  // overlong
        Malformed(bytes: [0x22, 0xED, 0xA0, 0x80, 0x22], "invalid UTF-8 in string", column: 2),  // encoded surrogate
        Malformed(bytes: [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], "invalid UTF-8 in string", column: 2),  // past U+10FFFF
        Malformed(bytes: [0x22, 0xE2, 0x82, 0x22], "invalid UTF-8 in string", column: 2),  // truncated
        Malformed(bytes: [0x22, 0xE2, 0x82], "invalid UTF-8 in string", column: 2),  // truncated at the end
        Malformed(bytes: [0xEF, 0xBB, 0xBF, 0x20, 0x78], "expected a JSON value", column: 2),  // the BOM is no column
    ]

    @Test(arguments: syntax + numbers + strings)
    func malformedInputIsRefusedWhereItGoesWrong(input: Malformed) throws {
        let error = try #require(parseError(input.bytes))
        #expect(error.message == input.message)
        #expect(error.line == input.line)
        #expect(error.column == input.column)
    }

    @Test func theDescriptionSaysWhatAndWhere() throws {
        let error = try #require(parseError("{\n  \"a\": 1,\n  \"b\" 2\n}"))
        #expect(error.description == "expected ':' after object key at line 3, column 7")
        #expect(error.offset == 18)
    }

    @Test func offsetsCountBytes() throws {
        let error = try #require(parseError("\"é\" x"))
        #expect(error.offset == 5)
        #expect(error.column == 5)
    }
}

@Suite struct JSONDepthTests {
    func nested(_ depth: Int) -> String {
        String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
    }

    @Test func theDefaultLimitIsAllowed() throws {
        var value = try JSONValue(parsing: nested(JSONValue.defaultMaxDepth))
        var levels = 0
        while let inner = value.array {
            levels += 1
            value = inner.first ?? .null
        }
        #expect(levels == JSONValue.defaultMaxDepth)
    }

    @Test func oneLevelMoreIsRefused() throws {
        let error = try #require(parseError(nested(513)))
        #expect(error.message == "nesting deeper than 512 levels")
        #expect(error.column == 513)
    }

    @Test func hostileNestingFailsWithoutOverflowingTheStack() throws {
        let error = try #require(parseError(String(repeating: "[{\"a\":", count: 100_000)))
        #expect(error.message == "nesting deeper than 512 levels")
    }

    @Test func theLimitCanBeLowered() throws {
        #expect(try JSONValue(parsing: "[[1]]", maxDepth: 2) == [[1]])
        let error = try #require(parseError(#"[{"a":[]}]"#, maxDepth: 2))
        #expect(error.message == "nesting deeper than 2 levels")
        #expect(error.column == 7)
    }
}
