import SwrunJSON
import SwrunSystem

/// A Dockerfile (Containerfile) read into instructions, as Docker's parser reads it: parser
/// directives at the top (`# escape=`, `# syntax=`), comments, line continuations with the
/// escape character, JSON (exec) forms, `--flag=value` options, and heredocs (`<<EOF`).
/// Variables are not expanded here: that needs the build's state (see BuildVariables).
public struct Dockerfile: Sendable {
    public struct Instruction: Sendable, Equatable {
        /// Upper case: "RUN", "COPY" ...
        public var keyword: String
        /// --from=stage, --chown=..., as given (the values unexpanded).
        public var flags: [(name: String, value: String)]
        /// The rest of the line, continuations joined (the escape and newline dropped).
        public var arguments: String
        /// The exec form's words when the arguments are a JSON array of strings.
        public var execForm: [String]?
        /// Heredocs of the instruction, in order (`<<EOF` ... `EOF`).
        public var heredocs: [Heredoc]
        /// Where it starts: 1-based line and column of its keyword.
        public var line: Int
        public var column: Int
        /// The instruction as written on its first line, for messages and history.
        public var original: String

        public static func == (a: Instruction, b: Instruction) -> Bool {
            a.keyword == b.keyword && a.flags.map { "\($0.name)=\($0.value)" } == b.flags.map { "\($0.name)=\($0.value)" }
                && a.arguments == b.arguments && a.execForm == b.execForm && a.heredocs == b.heredocs && a.line == b.line
        }

        public func flag(_ name: String) -> String? { flags.last { $0.name == name }?.value }
    }

    public struct Heredoc: Sendable, Equatable {
        public var name: String
        public var body: String
        /// `<<-EOF` strips leading tabs; a quoted name ('EOF' or "EOF") means no expansion.
        public var expands: Bool
    }

    public var instructions: [Instruction]
    /// The escape character (`\`, or `` ` `` by directive).
    public var escape: Character
    /// Notes for the user (an ignored `# syntax=` directive).
    public var notes: [String] = []
    /// Where it was read from, for messages.
    public var path: String

    public static let keywords: Set<String> = ["FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
                                                "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"]

    /// The error for something wrong at `line`:`column` of the file.
    public static func error(_ path: String, _ line: Int, _ column: Int, _ message: String, hint: String) -> SwrunError {
        SwrunError(.invalidConfig, "\(path):\(line):\(column): \(message)", hint: hint)
    }

    public init(text: String, path: String = "Dockerfile") throws(SwrunError) {
        self.path = path
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
        if lines.last == "" { lines.removeLast() }
        escape = "\\"
        var index = 0
        // Directives: `# name=value` lines before anything else.
        var seenDirectives: Set<String> = []
        while index < lines.count {
            let line = lines[index].trimmingCharacters(in: " \t")
            guard line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { break }
            let name = String(line[line.index(after: line.startIndex)..<equals]).trimmingCharacters(in: " \t").lowercased()
            let value = String(line[line.index(after: equals)...]).trimmingCharacters(in: " \t")
            guard name == "escape" || name == "syntax" || name == "check" else { break }
            guard seenDirectives.insert(name).inserted else {
                throw Self.error(path, index + 1, 1, "the parser directive '\(name)' is given twice", hint: "keep one")
            }
            if name == "escape" {
                guard value == "\\" || value == "`" else {
                    throw Self.error(path, index + 1, 1, "'\(value)' is not an escape character", hint: "use # escape=\\ or # escape=`")
                }
                escape = Character(value)
            } else if name == "syntax" {
                notes.append("\(path):\(index + 1): the syntax directive (\(value)) is ignored: swrun reads Dockerfiles itself")
            }
            index += 1
        }
        instructions = []
        while index < lines.count {
            let raw = lines[index]
            let trimmed = raw.trimmingCharacters(in: " \t")
            if trimmed.isEmpty || trimmed.hasPrefix("#") {
                index += 1
                continue
            }
            let startLine = index + 1
            let column = raw.count - raw.drop { $0 == " " || $0 == "\t" }.count + 1
            // Join continuations; comment lines inside a continued instruction are dropped.
            var logical = ""
            while true {
                var line = lines[index]
                index += 1
                let stripped = line.trimmingTrailingBlanks()
                if stripped.last == escape {
                    line = String(stripped.dropLast())
                    logical += line
                    while index < lines.count {
                        let next = lines[index].trimmingCharacters(in: " \t")
                        if next.hasPrefix("#") || next.isEmpty { index += 1 } else { break }
                    }
                    if index >= lines.count { break }
                    continue
                }
                logical += line
                break
            }
            var instruction = try Self.instruction(logical.trimmingCharacters(in: " \t"), path: path, line: startLine, column: column,
                                                   escape: escape)
            // Heredocs: their bodies follow the instruction's line.
            for name in Self.heredocNames(in: instruction) {
                var body: [String] = []
                var closed = false
                while index < lines.count {
                    let line = lines[index]
                    index += 1
                    let candidate = name.stripsTabs ? String(line.drop { $0 == "\t" }) : line
                    if candidate == name.word {
                        closed = true
                        break
                    }
                    body.append(candidate)
                }
                guard closed else {
                    throw Self.error(path, startLine, column, "the heredoc <<\(name.word) is never closed", hint: "end it with a line holding only \(name.word)")
                }
                instruction.heredocs.append(Heredoc(name: name.word, body: body.map { $0 + "\n" }.joined(), expands: !name.quoted))
            }
            instructions.append(instruction)
        }
        guard let first = instructions.first(where: { $0.keyword != "ARG" }) else {
            throw Self.error(path, max(lines.count, 1), 1, "there is no FROM", hint: "start the Dockerfile with FROM IMAGE (ARG lines may come before it)")
        }
        guard first.keyword == "FROM" else {
            throw Self.error(path, first.line, first.column, "\(first.keyword) comes before any FROM",
                             hint: "start the Dockerfile with FROM IMAGE (only ARG may come before it)")
        }
    }

    /// One logical line: keyword, flags, arguments, exec form.
    static func instruction(_ text: String, path: String, line: Int, column: Int, escape: Character) throws(SwrunError) -> Instruction {
        let keyword = String(text.prefix { $0 != " " && $0 != "\t" }).uppercased()
        guard keywords.contains(keyword) else {
            let near = nearest(keyword)
            throw error(path, line, column, "unknown instruction \(keyword)" + (near.map { "; did you mean \($0)?" } ?? ""),
                        hint: "the instructions are " + keywords.sorted().joined(separator: ", "))
        }
        var rest = Substring(text.dropFirst(keyword.count)).drop { $0 == " " || $0 == "\t" }
        var flags: [(String, String)] = []
        let takesFlags: Set<String> = ["FROM", "RUN", "COPY", "ADD", "HEALTHCHECK"]
        while takesFlags.contains(keyword), rest.hasPrefix("--") {
            let word = rest.prefix { $0 != " " && $0 != "\t" }
            let body = word.dropFirst(2)
            guard let equals = body.firstIndex(of: "=") else {
                if keyword == "HEALTHCHECK" || body.isEmpty { break }
                flags.append((String(body), "true"))
                rest = rest.dropFirst(word.count).drop { $0 == " " || $0 == "\t" }
                continue
            }
            flags.append((String(body[..<equals]), String(body[body.index(after: equals)...])))
            rest = rest.dropFirst(word.count).drop { $0 == " " || $0 == "\t" }
        }
        let arguments = String(rest).trimmingTrailingBlanks()
        var execForm: [String]?
        if arguments.hasPrefix("["), let array = (try? JSONValue(parsing: Array(arguments.utf8)))?.array, array.allSatisfy({ $0.string != nil }) {
            execForm = array.compactMap(\.string)
        }
        let needsArguments: Set<String> = ["FROM", "RUN", "COPY", "ADD", "ENV", "LABEL", "EXPOSE", "USER", "WORKDIR", "ARG", "ONBUILD",
                                           "STOPSIGNAL", "VOLUME", "MAINTAINER", "SHELL", "HEALTHCHECK"]
        if arguments.isEmpty && needsArguments.contains(keyword) {
            throw error(path, line, column, "\(keyword) needs arguments", hint: "see the Dockerfile reference for \(keyword)")
        }
        return Instruction(keyword: keyword, flags: flags.map { (name: $0.0, value: $0.1) }, arguments: arguments, execForm: execForm,
                           heredocs: [], line: line, column: column, original: text)
    }

    struct HeredocName { var word: String; var stripsTabs: Bool; var quoted: Bool }

    /// The `<<NAME` / `<<-NAME` / `<<"NAME"` markers of a RUN, COPY or ADD.
    static func heredocNames(in instruction: Instruction) -> [HeredocName] {
        guard ["RUN", "COPY", "ADD"].contains(instruction.keyword), instruction.execForm == nil else { return [] }
        var names: [HeredocName] = []
        var rest = Substring(instruction.arguments)
        while let start = rest.indices.first(where: { rest[$0...].hasPrefix("<<") }) {
            var after = rest[rest.index(start, offsetBy: 2)...]
            // "<<<" is a here-string of the shell, not a heredoc.
            if after.hasPrefix("<") {
                rest = after.dropFirst()
                continue
            }
            let strips = after.hasPrefix("-")
            if strips { after = after.dropFirst() }
            var quoted = false
            if let quote = after.first, quote == "\"" || quote == "'" {
                quoted = true
                after = after.dropFirst()
                let word = after.prefix { $0 != quote }
                if !word.isEmpty { names.append(HeredocName(word: String(word), stripsTabs: strips, quoted: true)) }
                rest = after.dropFirst(word.count)
                continue
            }
            let word = after.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !word.isEmpty { names.append(HeredocName(word: String(word), stripsTabs: strips, quoted: quoted)) }
            rest = after.dropFirst(max(word.count, 1))
        }
        return names
    }

    private static func nearest(_ keyword: String) -> String? {
        keywords.min { editDistance($0, keyword) < editDistance($1, keyword) }.flatMap { editDistance($0, keyword) <= 2 ? $0 : nil }
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var previous = row[0]
            row[0] = i
            for j in 1...b.count {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return row[b.count]
    }
}

extension String {
    func trimmingTrailingBlanks() -> String {
        var text = Substring(self)
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
