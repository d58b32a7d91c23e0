/// Completion scripts for bash, zsh and fish, made from the command table: command names,
/// each command's options, the fixed values of an option (`choices`), and the containers,
/// images and files its values and arguments name (`completes`). The scripts ask swrun
/// itself for the names: `swrun ls -1` (with the -P already typed) and `swrun images --format json`.
enum ShellCompletion {
    enum Shell: String, CaseIterable {
        case bash, zsh, fish
    }

    static func script(for shell: Shell, commands: [CommandSpec]) -> String {
        switch shell {
        case .bash: BashCompletion.script(commands)
        case .zsh: ZshCompletion.script(commands)
        case .fish: FishCompletion.script(commands)
        }
    }

    /// What an option's value is completed with, nil for a flag: its choices, else the names
    /// it `completes`; a value shown as FILE is a file.
    static func values(of option: CommandSpec.Option) -> Values? {
        guard let value = option.value else { return nil }
        if !option.choices.isEmpty { return .choices(option.choices) }
        return (option.completes ?? (value == "FILE" ? .file : nil)).map(Values.names) ?? .anything
    }

    static func values(of argument: CommandSpec.Argument) -> Values {
        if !argument.choices.isEmpty { return .choices(argument.choices) }
        return argument.completes.map(Values.names) ?? .anything
    }

    enum Values: Equatable {
        case choices([String])
        case names(CommandSpec.Names)
        /// Free text: nothing to offer.
        case anything
    }

    /// The spellings of an option: -n and --name.
    static func spellings(_ option: CommandSpec.Option) -> [String] {
        (option.short.map { ["-" + String($0)] } ?? []) + ["--" + option.long]
    }

    /// The help options every command takes (-h unless the command gives the letter a meaning).
    static func helpSpellings(_ spec: CommandSpec) -> [String] {
        spec.option(short: "h") == nil ? ["-h", "--help"] : ["--help"]
    }

    /// The first sentence of a help text, for the shells that show one line per candidate.
    static func summary(_ help: String) -> String {
        let text = help.replacing("`", with: "").split(separator: "\n").joined(separator: " ")
        guard let end = text.firstRange(of: ". ") else { return text.hasSuffix(".") ? String(text.dropLast()) : text }
        return String(text[..<end.lowerBound])
    }
}
