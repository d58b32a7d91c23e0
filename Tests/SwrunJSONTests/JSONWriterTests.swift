import Testing
import SwrunJSON

@Suite struct JSONWriterTests {
    @Test func outputIsCompactWithKeysSorted() {
        let value: JSONValue = ["schemaVersion": 2, "manifests": [["size": 7, "digest": "sha256:ab"]], "a": [true, false, .null]]
        #expect(value.serialized == #"{"a":[true,false,null],"manifests":[{"digest":"sha256:ab","size":7}],"schemaVersion":2}"#)
    }

    @Test func keysSortByCodePoint() {
        let value: JSONValue = ["é": 1, "b": 2, "B": 3, "a": 4, "z": 5]
        #expect(value.serialized == #"{"B":3,"a":4,"b":2,"z":5,"é":1}"#)
    }

    @Test func stringsAreEscapedAsRFC8259Asks() {
        let value = JSONValue.string("q\"b\\s/\n\r\t\u{8}\u{C}\u{1}\u{1F}\u{7F}é😀")
        #expect(value.serialized == #""q\"b\\s/\n\r\t\b\f\u0001\u001f"# + "\u{7F}é😀\"")
    }

    @Test func scalarsAndEmptyContainers() {
        #expect(JSONValue.null.serialized == "null")
        #expect(JSONValue.number("-1.5e3").serialized == "-1.5e3")
        #expect(JSONValue.array([]).serialized == "[]")
        #expect(JSONValue.object([:]).serialized == "{}")
    }

    @Test func parsingTheOutputGivesTheValueBack() throws {
        let value: JSONValue = [
            "text": "line\nbreak \u{0} \u{1F} \"quoted\" back\\slash 😀 é",
            "numbers": [0, -1, .number("18446744073709551615"), .number("-2.5E-3")],
            "nested": ["deeper": [["x": .null], [], [:]]],
            "flags": [true, false],
            "": "empty key",
        ]
        #expect(try JSONValue(parsing: value.serialized) == value)
    }

    @Test func reserializingParsedTextIsCompact() throws {
        let text = "{ \"b\" : [ 1 , 2.50 , \"\\u00e9\\/\" ] ,\n \"a\" : { } }"
        #expect(try JSONValue(parsing: text).serialized == #"{"a":{},"b":[1,2.50,"é/"]}"#)
    }
}
