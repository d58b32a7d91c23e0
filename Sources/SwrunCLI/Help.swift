/// Help text made from a CommandSpec, laid out like other Unix tools' --help.
enum Help {
    static func usage(_ spec: CommandSpec, required: [String]) -> String {
        var parts = ["swrun", spec.name]
        for long in required {
            if let option = spec.option(long: long) { parts.append((option.short.map { "-\($0)" } ?? "--\(long)") + " " + (option.value ?? "")) }
        }
        if spec.options.count > required.count { parts.append("[options]") }
        for argument in spec.arguments {
            let name = argument.repeats ? argument.name + "..." : argument.name
            parts.append(argument.optional ? "[\(name)]" : name)
        }
        if spec.trailingCommand { parts.append("[--] [COMMAND [ARG...]]") }
        return parts.joined(separator: " ")
    }

    static func text(_ spec: CommandSpec, required: [String]) -> String {
        var text = "USAGE: \(usage(spec, required: required))\n\n\(spec.abstract)\n"
        if !spec.discussion.isEmpty { text += "\n\(spec.discussion)\n" }
        var rows: [(String, String)] = spec.arguments.map { ($0.name, $0.help) }
        if spec.trailingCommand { rows.append(("COMMAND", "The command to run in the container, with its arguments.")) }
        if !rows.isEmpty { text += "\nARGUMENTS:\n" + table(rows) }
        let options = spec.options.map { option -> (String, String) in
            let names = (option.short.map { "-\($0), " } ?? "    ") + "--\(option.long)" + (option.value.map { " \($0)" } ?? "")
            return (names, option.help + (option.repeats ? " (repeatable)" : ""))
        } + [("-h, --help", "Show this help.")]
        text += "\nOPTIONS:\n" + table(options)
        return text
    }

    /// What swrun is, for `swrun --help` and swrun(1).
    static let summary = """
        A small system-container runtime: LXC's layout and config keys, namespaces and mounts made directly.
        Containers live in LXCPATH/NAME (default /var/lib/lxc), as LXC keeps them.
        """

    static func overview(_ commands: [any Command.Type]) -> String {
        var text = """
        USAGE: swrun COMMAND [options]

        \(summary)

        COMMANDS:

        """
        text += table(commands.filter { !$0.spec.hidden }.map { ($0.spec.name, $0.spec.abstract) })
        text += """

        Quick start:  swrun run busybox                      a shell in a busybox container
                      swrun run --explain --rm busybox true  see every namespace, mount and system call
        `swrun COMMAND --help` describes a command.

        """
        return text
    }

    private static func table(_ rows: [(String, String)]) -> String {
        let width = min((rows.map(\.0.count).max() ?? 0) + 2, 30)
        return rows.map { left, right in
            let gap = left.count + 2 <= width ? String(repeating: " ", count: width - left.count) : "\n" + String(repeating: " ", count: width + 2)
            return "  " + left + gap + right + "\n"
        }.joined()
    }
}
