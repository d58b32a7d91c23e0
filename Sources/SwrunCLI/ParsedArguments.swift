import SwrunConfig
import SwrunSystem

/// A command line read against a `CommandSpec`.
struct ParsedArguments {
    private(set) var values: [String: [String]] = [:]
    private(set) var arguments: [String] = []
    /// The command to run in the container, for specs with a trailing command.
    private(set) var command: [String] = []
    private(set) var wantsHelp = false

    func value(_ long: String) -> String? { values[long]?.last }
    func values(_ long: String) -> [String] { values[long] ?? [] }
    func flag(_ long: String) -> Bool { values[long] != nil }

    /// Options first (`-n NAME`, `-nNAME`, `--name NAME`, `--name=NAME`), then the arguments;
    /// `--` ends the options. With a trailing command, the first word after the arguments starts it.
    init(_ words: [String], spec: CommandSpec) throws(SwrunError) {
        var index = 0
        func usageError(_ message: String) -> SwrunError {
            SwrunError(.invalidArgument, "swrun \(spec.name): \(message)", hint: "see `swrun \(spec.name) --help`")
        }
        while index < words.count {
            let word = words[index]
            index += 1
            if word == "--" {
                if spec.trailingCommand {
                    command = Array(words[index...])
                } else {
                    arguments += words[index...]
                }
                break
            }
            // -h is help unless the command gives the letter a meaning (run's --hostname, as Docker's).
            if word == "--help" || (word == "-h" && spec.option(short: "h") == nil) {
                wantsHelp = true
                continue
            }
            guard word.hasPrefix("-"), word.count > 1 else {
                if spec.trailingCommand && arguments.count == spec.arguments.count {
                    command = Array(words[(index - 1)...])
                    break
                }
                arguments.append(word)
                if spec.optionsBeforeArguments && spec.trailingCommand && arguments.count == spec.arguments.count {
                    // `run IMG -- CMD` reads as `run IMG CMD`: the "--" only marks where the command starts.
                    let rest = words[index...]
                    command = Array(rest.first == "--" ? rest.dropFirst() : rest)
                    break
                }
                continue
            }
            let option: CommandSpec.Option
            var inlineValue: String?
            if word.hasPrefix("--") {
                let body = word.dropFirst(2)
                let name = body.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
                guard let match = spec.option(long: name) else {
                    let near = Suggestions.closest(to: name, among: spec.options.map(\.long))
                    throw usageError("unknown option --\(name)" + (near.map { "; did you mean --\($0)?" } ?? ""))
                }
                option = match
                if let equals = body.firstIndex(of: "=") { inlineValue = String(body[body.index(after: equals)...]) }
            } else {
                let letter = word[word.index(after: word.startIndex)]
                guard let match = spec.option(short: letter) else { throw usageError("unknown option -\(letter)") }
                option = match
                let rest = word.dropFirst(2)
                if !rest.isEmpty { inlineValue = String(rest) }
            }
            if option.value == nil {
                if inlineValue != nil { throw usageError("--\(option.long) takes no value") }
                values[option.long, default: []].append("")
                continue
            }
            if inlineValue == nil {
                guard index < words.count else { throw usageError("--\(option.long) needs a value (\(option.value ?? "VALUE"))") }
                inlineValue = words[index]
                index += 1
            }
            if !option.repeats && values[option.long] != nil { throw usageError("--\(option.long) is given twice") }
            values[option.long, default: []].append(inlineValue ?? "")
        }
        if wantsHelp {
            // Help beside work to do would exit 0 without doing it: a silent pass in a script.
            guard values.isEmpty && arguments.isEmpty && command.isEmpty else {
                throw SwrunError(.invalidArgument, "swrun \(spec.name): --help asks for the help text, and the rest of the command line for work; nothing was done",
                                 hint: "drop --help (or -h) to run it, or ask for the help alone: `swrun \(spec.name) --help`")
            }
            return
        }
        let required = spec.arguments.filter { !$0.optional }.count
        if arguments.count < required {
            throw usageError("missing \(spec.arguments[arguments.count].name)")
        }
        if arguments.count > spec.arguments.count && spec.arguments.last?.repeats != true {
            throw usageError("unexpected argument '\(arguments[spec.arguments.count])'")
        }
    }

    /// The value of an option the command cannot do without.
    func required(_ long: String, of spec: CommandSpec) throws(SwrunError) -> String {
        guard let value = value(long) else {
            let spelling = spec.option(long: long).map { option in option.short.map { "-\($0)" } ?? "--\(option.long)" } ?? "--\(long)"
            throw SwrunError(.invalidArgument, "swrun \(spec.name): \(spelling) is required", hint: "see `swrun \(spec.name) --help`")
        }
        return value
    }
}
