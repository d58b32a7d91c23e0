import Testing
import SwrunJSON

@Suite struct JSONNumberTests {
    @Test func integersKeepTheirTextAndReadAsInt() throws {
        for (text, value) in [("0", 0), ("-0", 0), ("12", 12), ("-42", -42), ("9223372036854775807", Int.max)] {
            let parsed = try JSONValue(parsing: text)
            #expect(parsed == .number(text))
            #expect(parsed.int == value, "\(text)")
            #expect(parsed.int64 == Int64(value), "\(text)")
        }
    }

    @Test func fractionsAndExponentsAreNotInts() throws {
        let cases: [(String, Double)] = [("1.5", 1.5), ("-2.5E-3", -0.0025), ("1e3", 1000), ("1E+2", 100), ("0.0", 0)]
        for (text, value) in cases {
            let parsed = try JSONValue(parsing: text)
            #expect(parsed == .number(text))
            #expect(parsed.int == nil, "\(text)")
            #expect(parsed.int64 == nil, "\(text)")
            #expect(parsed.double == value, "\(text)")
        }
    }

    @Test func sizesPast64BitsStayExactAsText() throws {
        let parsed = try JSONValue(parsing: #"{"size": 18446744073709551615}"#)
        #expect(parsed["size"] == .number("18446744073709551615"))
        #expect(parsed["size"]?.int == nil)
        #expect(parsed["size"]?.int64 == nil)
        #expect(parsed.serialized == #"{"size":18446744073709551615}"#)
        #expect(try JSONValue(parsing: "-9223372036854775808").int64 == Int64.min)
    }

    @Test func otherKindsHaveNoNumber() {
        #expect(JSONValue.string("12").int == nil)
        #expect(JSONValue.bool(true).double == nil)
        #expect(JSONValue.null.int64 == nil)
    }
}

@Suite struct JSONStringTests {
    @Test func everyEscapeDecodes() throws {
        let parsed = try JSONValue(parsing: #""\"\\\/\b\f\n\r\t\u0041\u00E9\u20ac\u0000""#)
        #expect(parsed == .string("\"\\/\u{8}\u{C}\n\r\tAé€\u{0}"))
    }

    @Test func surrogatePairsMakeOneScalar() throws {
        let parsed = try JSONValue(parsing: #"["\uD83D\uDE00", "a\ud834\udd1eb"]"#)
        #expect(parsed[0]?.string == "😀")
        #expect(parsed[1]?.string == "a𝄞b")
        #expect(parsed[1]?.string?.unicodeScalars.count == 3)
    }

    @Test func rawUTF8PassesThrough() throws {
        #expect(try JSONValue(parsing: "\"héllo €𝄞\"").string == "héllo €𝄞")
        #expect(try JSONValue(parsing: #""plain""#).string == "plain")
        #expect(try JSONValue(parsing: #""""#).string == "")
    }
}

@Suite struct JSONStructureTests {
    let document = """
        {"a": [{"b": 7}, "two", null, true], "empty": {}, "none": [], "nested": {"x": {"y": {"z": "deep"}}}}
        """

    @Test func nestedValuesAreReachedBySubscripts() throws {
        let parsed = try JSONValue(parsing: document)
        #expect(parsed["a"]?[0]?["b"]?.int == 7)
        #expect(parsed["a"]?[1]?.string == "two")
        #expect(parsed["a"]?[2]?.isNull == true)
        #expect(parsed["a"]?[3]?.bool == true)
        #expect(parsed["nested"]?["x"]?["y"]?["z"]?.string == "deep")
        #expect(parsed["empty"] == .object([:]))
        #expect(parsed["none"] == .array([]))
        #expect(parsed["a"]?.array?.count == 4)
        #expect(parsed.object?.keys.sorted() == ["a", "empty", "nested", "none"])
    }

    @Test func subscriptsGiveNilOnTheWrongKindOrOutOfRange() throws {
        let parsed = try JSONValue(parsing: document)
        #expect(parsed["missing"] == nil)
        #expect(parsed[0] == nil)
        #expect(parsed["a"]?["b"] == nil)
        #expect(parsed["a"]?[4] == nil)
        #expect(parsed["a"]?[-1] == nil)
        #expect(parsed["a"]?[1]?.int == nil)
        #expect(parsed["a"]?.object == nil)
        #expect(parsed.array == nil)
    }

    @Test func aRepeatedKeyKeepsTheLastValue() throws {
        #expect(try JSONValue(parsing: #"{"a": 1, "b": 2, "a": 3}"#) == ["a": 3, "b": 2])
    }

    @Test func whitespaceAndAByteOrderMarkAreIgnored() throws {
        #expect(try JSONValue(parsing: " \t\r\n{ \"a\" : [ 1 , 2 ] } \n") == ["a": [1, 2]])
        #expect(try JSONValue(parsing: [0xEF, 0xBB, 0xBF] + Array(#"{"a":1}"#.utf8)) == ["a": 1])
    }

    @Test func scalarsAreDocumentsToo() throws {
        #expect(try JSONValue(parsing: "null") == .null)
        #expect(try JSONValue(parsing: " false ") == .bool(false))
        #expect(try JSONValue(parsing: "42") == 42)
    }

    @Test func anyByteCollectionParses() throws {
        let scattered = Array("[1, {\"k\": \"v\"}]".utf8).lazy.map { $0 }  // not contiguous: takes the copying path
        #expect(try JSONValue(parsing: scattered) == [1, ["k": "v"]])
        let slice = Array("xx[true]yy".utf8)[2..<8]
        #expect(try JSONValue(parsing: slice) == [true])
    }
}
