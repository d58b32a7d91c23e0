import SwrunSystem

// Pages and completion scripts, made from the command table by the binary they describe
// (`make install` runs these); hidden from `swrun --help`.

/// The commands that have pages and completions: those `swrun --help` lists.
private var visibleCommands: [any Command.Type] {
    SwrunCLI.commands.map(\.type).filter { !$0.spec.hidden }
}

enum ManCommand: Command {
    static let spec = CommandSpec(
        name: "man",
        abstract: "Print swrun's manual page in roff, or a command's; with --dir, write them all.",
        discussion: "Read one with `swrun man run | man -l -`. `make install` writes them with --dir.",
        options: [.init(short: nil, long: "dir", value: "DIR", help: "Write swrun.1 and swrun-COMMAND.1 for every command into DIR (made if missing).",
                        completes: .directory)],
        arguments: [.init(name: "COMMAND", help: "The command whose page to print (default: swrun(1), the overview).", optional: true)],
        hidden: true)

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        if let directory = arguments.value("dir") {
            guard arguments.arguments.isEmpty else {
                throw SwrunError(.invalidArgument, "swrun man: --dir writes every page; it takes no COMMAND", hint: "drop the COMMAND, or --dir")
            }
            try write(into: directory)
            return 0
        }
        guard let name = arguments.arguments.first else {
            print(ManPage.overview(visibleCommands), terminator: "")
            return 0
        }
        guard let command = visibleCommands.first(where: { $0.spec.name == name }) else {
            throw SwrunError(.notFound, "swrun man: no command '\(name)'", hint: "`swrun --help` lists the commands")
        }
        print(ManPage.page(command), terminator: "")
        return 0
    }

    private static func write(into directory: String) throws(SwrunError) {
        try FileSystem.makeDirectories(directory)
        try FileSystem.writeAtomically(FileSystem.join(directory, ManPage.fileName(of: nil)), ManPage.overview(visibleCommands))
        for command in visibleCommands {
            try FileSystem.writeAtomically(FileSystem.join(directory, ManPage.fileName(of: command.spec.name)), ManPage.page(command))
        }
    }
}

enum CompletionCommand: Command {
    static let spec = CommandSpec(
        name: "completion",
        abstract: "Print a script that completes swrun's commands, options, containers and images in a shell.",
        discussion: """
        Load it for this shell with `source <(swrun completion bash)`; `make install` puts it
        where bash-completion, zsh and fish find it.
        """,
        arguments: [.init(name: "SHELL", help: "bash, zsh or fish.", choices: ShellCompletion.Shell.allCases.map(\.rawValue))],
        hidden: true)

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        guard let shell = ShellCompletion.Shell(rawValue: arguments.arguments[0]) else {
            throw SwrunError(.invalidArgument, "swrun completion: no completions for '\(arguments.arguments[0])'", hint: "use bash, zsh or fish")
        }
        print(ShellCompletion.script(for: shell, commands: visibleCommands.map { $0.spec }), terminator: "")
        return 0
    }
}
