/// The words of a Dockerfile instruction's argument, as Docker's parser and shell lexer
/// read them for ENV and LABEL: `KEY=VALUE KEY2="a b"` (words split at blanks outside
/// quotes, each at its first '='), or the old form `KEY value with spaces` (the rest of the
/// line is the value); then each key and value is one shell word: quotes removed, backslash
/// escapes applied ('\' takes the next character as it is; inside double quotes only before
/// '"', '$' and '\'; nothing inside single quotes), and $NAME or ${NAME} replaced by the
/// value the environment has so far (nothing where it has none), as `docker commit
/// --change` and `docker build` do.
enum DockerfileWords {
    enum Failure: Error, Equatable {
        case unterminatedQuote(Character)
        case unterminatedBrace
        case notAPair(String)
        case missingValue
    }

    /// KEY=VALUE pairs or the old "KEY VALUE" form, keys and values processed.
    static func pairs(_ argument: String, environment: [String: String]) throws(Failure) -> [(key: String, value: String)] {
        let words = try split(argument)
        guard let first = words.first, first.contains("=") else {
            // The old form: the first word is the key, everything after the blanks the value.
            let trimmed = argument.drop { $0 == " " || $0 == "\t" }
            let key = trimmed.prefix { $0 != " " && $0 != "\t" }
            let rest = trimmed.dropFirst(key.count).drop { $0 == " " || $0 == "\t" }
            guard !key.isEmpty, !rest.isEmpty else { throw .missingValue }
            return [(try process(String(key), environment: environment), try process(String(rest), environment: environment))]
        }
        return try words.map { (word) throws(Failure) -> (key: String, value: String) in
            guard let equals = word.firstIndex(of: "="), equals != word.startIndex else { throw .notAPair(word) }
            return (try process(String(word[..<equals]), environment: environment),
                    try process(String(word[word.index(after: equals)...]), environment: environment))
        }
    }

    /// The argument split at blanks outside quotes; quotes and escapes are kept in the words.
    static func split(_ text: String) throws(Failure) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in text {
            if escaped {
                word.append(character)
                escaped = false
                continue
            }
            if let open = quote {
                if character == open { quote = nil } else if character == "\\" && open == "\"" { escaped = true }
                word.append(character)
                continue
            }
            switch character {
            case " ", "\t":
                if inWord { words.append(word) }
                word = ""
                inWord = false
            case "\"", "'":
                quote = character
                word.append(character)
                inWord = true
            case "\\":
                escaped = true
                word.append(character)
                inWord = true
            default:
                word.append(character)
                inWord = true
            }
        }
        if let quote { throw .unterminatedQuote(quote) }
        if inWord { words.append(word) }
        return words
    }

    /// One shell word: quotes removed, escapes applied, variables replaced; blanks stay.
    static func process(_ word: String, environment: [String: String]) throws(Failure) -> String {
        var result = ""
        var characters = Array(word)[...]
        while let character = characters.popFirst() {
            switch character {
            case "'":
                guard let end = characters.firstIndex(of: "'") else { throw .unterminatedQuote("'") }
                result += String(characters[..<end])
                characters = characters[(end + 1)...]
            case "\"":
                var closed = false
                while let inner = characters.popFirst() {
                    if inner == "\"" {
                        closed = true
                        break
                    }
                    if inner == "\\", let next = characters.first, next == "\"" || next == "$" || next == "\\" {
                        result.append(next)
                        characters = characters.dropFirst()
                    } else if inner == "$" {
                        result += try variable(&characters, environment)
                    } else {
                        result.append(inner)
                    }
                }
                guard closed else { throw .unterminatedQuote("\"") }
            case "\\":
                if let next = characters.popFirst() { result.append(next) }
            case "$":
                result += try variable(&characters, environment)
            default:
                result.append(character)
            }
        }
        return result
    }

    /// After a '$': ${NAME} or $NAME replaced; a '$' before anything else stays.
    private static func variable(_ characters: inout ArraySlice<Character>, _ environment: [String: String]) throws(Failure) -> String {
        if characters.first == "{" {
            guard let end = characters.firstIndex(of: "}") else { throw .unterminatedBrace }
            let name = String(characters[(characters.startIndex + 1)..<end])
            characters = characters[(end + 1)...]
            return environment[name] ?? ""
        }
        let name = String(characters.prefix { $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) })
        guard !name.isEmpty else { return "$" }
        characters = characters.dropFirst(name.count)
        return environment[name] ?? ""
    }
}

extension DockerfileWords.Failure: CustomStringConvertible {
    var description: String {
        switch self {
        case .unterminatedQuote(let quote): "a \(quote) quote is not closed"
        case .unterminatedBrace: "a ${ is not closed by }"
        case .notAPair(let word): "'\(word)' is not KEY=VALUE"
        case .missingValue: "give KEY=VALUE (or KEY VALUE)"
        }
    }
}
