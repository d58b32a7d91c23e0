// A small JSON reader and writer (RFC 8259), without Foundation, for simplestreams
// indexes, OCI/Docker manifests and image configs, registry token replies, and the
// small documents swrun writes itself (such as its image cache index).

/// One JSON value. Parse with `init(parsing:)`, read with the subscripts and typed
/// accessors, write with `serialized`.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// The number's literal text, so 64-bit sizes and long decimals lose nothing;
    /// read it with `int`, `int64` or `double`. Numbers compare by text ("1.0" != "1").
    /// When building one by hand, give valid JSON number text (or use an integer literal).
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Duplicate keys in parsed input: the last one wins (RFC 8259 leaves this open).
    case object([String: JSONValue])
}

extension JSONValue {
    /// The member named `key`; nil when this is not an object or has no such member.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    /// The element at `index`; nil when this is not an array or the index is out of range.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    public var string: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }

    /// Exact integers only: "12" and "-3" but not "1.5", "1e3" or values out of range.
    public var int: Int? { numberText.flatMap { Int($0) } }

    /// As `int`, but 64 bits on every platform (blob sizes).
    public var int64: Int64? { numberText.flatMap { Int64($0) } }

    /// The nearest Double; large integers may lose precision, use `int64` for sizes.
    public var double: Double? { numberText.flatMap { Double($0) } }

    public var bool: Bool? {
        guard case .bool(let value) = self else { return nil }
        return value
    }

    public var array: [JSONValue]? {
        guard case .array(let elements) = self else { return nil }
        return elements
    }

    public var object: [String: JSONValue]? {
        guard case .object(let members) = self else { return nil }
        return members
    }

    public var isNull: Bool { self == .null }

    /// A number as written, for callers that need its exact width.
    public var numberText: String? {
        guard case .number(let text) = self else { return nil }
        return text
    }
}

// Literals make documents to write (and test expectations) read like JSON.
extension JSONValue: ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .number(String(value)) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }

    /// Repeated keys: the last one wins, as when parsing.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
