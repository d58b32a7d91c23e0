import SwrunSystem

// Manual pages, made from the command table by the binary they describe
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
