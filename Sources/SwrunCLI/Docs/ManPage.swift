import SwrunConfig
import SwrunImages

/// Manual pages in roff with man(7)'s macros, made from the command table as `--help` is:
/// swrun(1), the overview, and swrun-COMMAND(1) for each visible command.
enum ManPage {
    /// The file a page is installed as: swrun.1, swrun-run.1.
    static func fileName(of command: String?) -> String {
        (command.map { "swrun-" + $0 } ?? "swrun") + ".1"
    }

    /// swrun(1): every visible command, the environment swrun reads and the files it uses.
    static func overview(_ commands: [any Command.Type]) -> String {
        var lines = header("swrun")
        lines += [".SH NAME", "swrun \\- " + escape("a small system-container runtime"),
                  ".SH SYNOPSIS", ".B swrun", "\\fICOMMAND\\fR [options]", ".br", ".B swrun \\-\\-help", ".br", ".B swrun \\-\\-version",
                  ".SH DESCRIPTION"]
        lines += body(Help.summary)
        lines += [".PP", "Each command is described in its own page, and by " + bold("swrun COMMAND \\-\\-help") + ".",
                  ".SH COMMANDS"]
        for command in commands where !command.spec.hidden {
            lines += [".TP", ".BR " + escape("swrun-" + command.spec.name) + " (1)", inline(command.spec.abstract)]
        }
        lines.append(".SH ENVIRONMENT")
        for variable in EnvironmentVariables.all {
            lines += [".TP", ".B " + escape(variable.name), inline(variable.help)]
        }
        lines.append(".SH FILES")
        for (path, help) in files {
            lines += [".TP", ".I " + escape(path), inline(help)]
        }
        let docker = commands.filter { !$0.spec.hidden && $0.spec.containerExitCodes }.map { bold(escape($0.spec.name)) }
        lines += [".SH EXIT STATUS", "Most commands exit 0 when they did their work and 1 when they could not (their pages say where"
                  + " they differ); " + docker.joined(separator: ", ") + " exit with the status of the command they run,"
                  + " or 125, 126 or 127 as Docker's do."]
        lines += seeAlso(["lxc.container.conf(5)", "lxc.system.conf(5)", "lxc(7)"])
        return lines.joined(separator: "\n") + "\n"
    }

    /// swrun-COMMAND(1): NAME, SYNOPSIS as `--help` shows it, DESCRIPTION, ARGUMENTS, OPTIONS
    /// and, for commands that run a command in a container, EXIT STATUS.
    static func page(_ command: any Command.Type) -> String {
        let spec = command.spec
        var lines = header("swrun-" + spec.name)
        lines += [".SH NAME", escape("swrun-" + spec.name) + " \\- " + escape(spec.abstract.replacing("`", with: "")), ".SH SYNOPSIS"]
        let usage = Help.usage(spec, required: command.requiredOptions)
        let commandName = "swrun " + spec.name
        lines.append(bold(escape(commandName)) + escape(String(usage.dropFirst(commandName.count))))
        lines += [".SH DESCRIPTION", inline(spec.abstract)]
        if !spec.discussion.isEmpty { lines += [".PP"] + body(spec.discussion) }
        var arguments = spec.arguments.map { ($0.name, $0.help) }
        if spec.trailingCommand { arguments.append(("COMMAND", "The command to run in the container, with its arguments.")) }
        if !arguments.isEmpty {
            lines.append(".SH ARGUMENTS")
            for (name, help) in arguments { lines += [".TP", ".I " + escape(name), inline(help)] }
        }
        lines.append(".SH OPTIONS")
        for option in spec.options {
            lines += [".TP", tag(option), inline(option.help + (option.repeats ? " May be given more than once." : ""))]
        }
        let help = spec.option(short: "h") == nil ? bold("\\-h") + ", " + bold("\\-\\-help") : bold("\\-\\-help")
        lines += [".TP", help, "Show the help and exit."]
        if spec.containerExitCodes {
            lines += [".SH EXIT STATUS", "The exit status of the command run in the container, or, as Docker's:",
                      ".TP", ".B 125", "swrun itself failed: a bad option, a missing image or container, a failed setup.",
                      ".TP", ".B 126", "The command was found but could not be executed.",
                      ".TP", ".B 127", "The command was not found."]
        }
        lines += seeAlso(["swrun(1)"])
        return lines.joined(separator: "\n") + "\n"
    }

    /// Text for a line of roff: backslashes and dashes escaped (`-` is a hyphen to roff,
    /// `\-` the minus sign options are written with), and a leading `.` or `'`, which would
    /// start a request, neutralised with `\&`.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\e"
            case "-": out += "\\-"
            default: out.append(character)
            }
        }
        return out.hasPrefix(".") || out.hasPrefix("'") ? "\\&" + out : out
    }

    /// Escaped text with `code` spans in bold.
    static func inline(_ text: String) -> String {
        let parts = text.split(separator: "`", omittingEmptySubsequences: false)
        guard parts.count % 2 == 1 else { return escape(text) }  // an unpaired backtick stays as it is
        let marked = parts.enumerated().map { index, part in index % 2 == 1 ? bold(escapeInner(String(part))) : escapeInner(String(part)) }
        let line = marked.joined()
        return line.hasPrefix(".") || line.hasPrefix("'") ? "\\&" + line : line
    }

    /// Help's paragraphs: lines as they are, filled by roff; indented lines and examples kept
    /// as written (no fill); a blank line starts a new paragraph.
    static func body(_ text: String) -> [String] {
        var lines: [String] = []
        var literal = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let blank = line.allSatisfy { $0 == " " }
            let isLiteral = !blank && (line.hasPrefix(" ") || line.hasPrefix("Example"))
            if !blank && isLiteral != literal {
                lines.append(isLiteral ? ".nf" : ".fi")
                literal = isLiteral
            }
            lines.append(blank ? ".PP" : isLiteral ? escape(line) : inline(line))
        }
        if literal { lines.append(".fi") }
        while lines.last == ".PP" { lines.removeLast() }
        return lines
    }

    private static func escapeInner(_ text: String) -> String {
        var escaped = escape(text)
        if escaped.hasPrefix("\\&") { escaped.removeFirst(2) }
        return escaped
    }

    private static func bold(_ escaped: String) -> String { "\\fB" + escaped + "\\fR" }

    /// `-n, --name NAME` in bold and italics.
    private static func tag(_ option: CommandSpec.Option) -> String {
        var tag = option.short.map { bold(escape("-" + String($0))) + ", " } ?? ""
        tag += bold(escape("--" + option.long))
        if let value = option.value { tag += " \\fI" + escape(value) + "\\fR" }
        return tag
    }

    private static func header(_ name: String) -> [String] {
        [".\\\" Generated by `swrun man` from swrun's command table; edit the table, not this page.",
         ".TH \(escape(name.uppercased())) 1 \"\" \"swrun \(SwrunCLI.version)\" \"swrun manual\"",
         // Option names and paths read better unbroken, and ragged right than stretched.
         ".nh", ".ad l"]
    }

    private static func seeAlso(_ pages: [String]) -> [String] {
        [".SH SEE ALSO", pages.map { page in
            let open = page.firstIndex(of: "(") ?? page.endIndex
            return "\\fB" + escape(String(page[..<open])) + "\\fR" + page[open...]
        }.joined(separator: ", ")]
    }

    private static var files: [(String, String)] {
        let system = SystemConfig(path: SystemConfig.defaultPath, text: "")
        return [
            (system.lxcPath, "The containers, one directory each (NAME/config, NAME/rootfs), as LXC keeps them; lxc.lxcpath of lxc.conf or -P moves them."),
            (SystemConfig.defaultPath, "System settings read as LXC reads them: lxc.lxcpath, lxc.default_config, the storage defaults (`swrun config`)."),
            (system.defaultConfigPath, "The config a new container starts from (lxc.default_config), unless -f names another."),
            (OCIStore.defaultRoot(environment: [:]), "swrun's cache: OCI images and their blobs, unpacked layers shared between containers, named volumes (SWRUN_CACHE_PATH)."),
            (DownloadTemplate.defaultCacheRoot(environment: [:]), "LXC's image cache: the download template's images (LXC_CACHE_PATH)."),
            (DownloadTemplate.shippedKeys, "The image servers' signing keys (SWRUN_KEYS_DIR)."),
        ]
    }
}
