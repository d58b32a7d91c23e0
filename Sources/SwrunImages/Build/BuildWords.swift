import SwrunSystem

/// Docker's word processing of instruction arguments: variables ($NAME, ${NAME},
/// ${NAME:-default}, ${NAME:+alternative}) expanded from the build's ARG and ENV values,
/// single quotes taken literally, double quotes and the escape character as a shell has them,
/// and words split at unquoted blanks.
public struct BuildWords {
    public var values: [String: String]
    public var escape: Character

    public init(values: [String: String], escape: Character = "\\") {
        self.values = values
        self.escape = escape
    }

    /// `text` expanded as one word (quotes removed), as WORKDIR, USER, FROM and the like take it.
    public func expand(_ text: String) throws(SwrunError) -> String {
        try lex(text, split: false).joined()
    }

    /// Only the variables of `text` replaced (a heredoc's body): quotes stay as they are.
    public func expandVariables(_ text: String) throws(SwrunError) -> String {
        let characters = Array(text)
        var result = ""
        var index = 0
        while index < characters.count {
            if characters[index] == escape, index + 1 < characters.count, characters[index + 1] == "$" {
                result.append("$")
                index += 2
            } else if characters[index] == "$" {
                result += try variable(characters, &index)
            } else {
                result.append(characters[index])
                index += 1
            }
        }
        return result
    }

    /// `text` split into words, each expanded (COPY sources, EXPOSE, VOLUME, the KEY=VALUE pairs).
    public func words(_ text: String) throws(SwrunError) -> [String] {
        try lex(text, split: true)
    }

    /// ENV, LABEL and ARG arguments: KEY=VALUE pairs, or the older `KEY VALUE...` form (one
    /// pair, the value the rest of the line). A pair without `=` (ARG NAME) has no value.
    public func pairs(_ text: String, allowsBareKey: Bool = false) throws(SwrunError) -> [(key: String, value: String?)] {
        let words = try lex(text, split: true, keepEqualsPosition: true)
        guard let first = words.first else { return [] }
        if !first.contains("=") && !allowsBareKey {
            // The legacy form: the key, then everything after the first blank.
            let key = String(text.prefix { $0 != " " && $0 != "\t" })
            let rest = text.dropFirst(key.count).drop { $0 == " " || $0 == "\t" }
            guard !rest.isEmpty else {
                throw SwrunError(.invalidConfig, "give KEY=VALUE (or KEY VALUE)", hint: "a value with spaces goes in quotes: KEY=\"a b\"")
            }
            return [(try expand(key), try expand(String(rest)))]
        }
        return try words.map { (word) throws(SwrunError) -> (key: String, value: String?) in
            guard let equals = word.firstIndex(of: "=") else {
                guard allowsBareKey else { throw SwrunError(.invalidConfig, "'\(word)' is not KEY=VALUE", hint: "write KEY=VALUE; quote values with spaces") }
                return (word, nil)
            }
            guard equals != word.startIndex else { throw SwrunError(.invalidConfig, "'\(word)' is not KEY=VALUE", hint: "write KEY=VALUE") }
            return (String(word[..<equals]), String(word[word.index(after: equals)...]))
        }
    }

    private func lex(_ text: String, split: Bool, keepEqualsPosition: Bool = false) throws(SwrunError) -> [String] {
        let characters = Array(text)
        var words: [String] = []
        var current = ""
        var inWord = false
        var index = 0
        func finish() {
            if inWord { words.append(current) }
            current = ""
            inWord = false
        }
        while index < characters.count {
            let character = characters[index]
            switch character {
            case " " where split, "\t" where split, "\n" where split:
                finish()
                index += 1
            case "'":
                inWord = true
                index += 1
                while index < characters.count && characters[index] != "'" {
                    current.append(characters[index])
                    index += 1
                }
                guard index < characters.count else { throw unclosed("'", text) }
                index += 1
            case "\"":
                inWord = true
                index += 1
                while index < characters.count && characters[index] != "\"" {
                    if characters[index] == escape, index + 1 < characters.count, ["\"", "$", escape].contains(characters[index + 1]) {
                        current.append(characters[index + 1])
                        index += 2
                    } else if characters[index] == "$" {
                        current += try variable(characters, &index)
                    } else {
                        current.append(characters[index])
                        index += 1
                    }
                }
                guard index < characters.count else { throw unclosed("\"", text) }
                index += 1
            case escape where index + 1 < characters.count:
                inWord = true
                current.append(characters[index + 1])
                index += 2
            case "$":
                // Unquoted, an expansion's blanks split words, as a shell splits them.
                let value = try variable(characters, &index)
                for character in value {
                    if split && (character == " " || character == "\t" || character == "\n") {
                        finish()
                    } else {
                        inWord = true
                        current.append(character)
                    }
                }
                if value.isEmpty && index < characters.count && characters[index] != " " { inWord = true }
            default:
                inWord = true
                current.append(character)
                index += 1
            }
        }
        finish()
        return split ? words : [words.joined(separator: " ")]
    }

    private func unclosed(_ quote: String, _ text: String) -> SwrunError {
        SwrunError(.invalidConfig, "a \(quote) quote is not closed", hint: "close the quote, or escape it: \(text)")
    }

    /// A variable at `index` (which points at `$`); `index` moves past it.
    private func variable(_ characters: [Character], _ index: inout Int) throws(SwrunError) -> String {
        index += 1
        guard index < characters.count else { return "$" }
        if characters[index] == "{" {
            guard let close = characters[index...].firstIndex(of: "}") else {
                throw SwrunError(.invalidConfig, "a ${ is not closed by }", hint: "close it: \(String(characters))")
            }
            let body = String(characters[(index + 1)..<close])
            index = close + 1
            if let colon = body.firstIndex(of: ":") {
                let name = String(body[..<colon])
                let operation = body[body.index(after: colon)...]
                let word = try expand(String(operation.dropFirst()))
                let value = values[name] ?? ""
                switch operation.first {
                case "-": return value.isEmpty ? word : value
                case "+": return value.isEmpty ? "" : word
                default:
                    throw SwrunError(.invalidConfig, "${\(body)}: only ${NAME:-default} and ${NAME:+word} are supported", hint: "use one of those forms")
                }
            }
            return values[body] ?? ""
        }
        let name = characters[index...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        guard !name.isEmpty else { return "$" }
        index += name.count
        return values[String(name)] ?? ""
    }
}
