import SwrunRuntime
import SwrunSystem

enum ConsoleCommand: Command {
    static let spec = CommandSpec(
        name: "console",
        abstract: "Attach this terminal to a started container's console or a tty (lxc-console).",
        discussion: "Ctrl+a q detaches; Ctrl+a Ctrl+a sends a Ctrl+a.",
        options: [
            CommonOptions.name, CommonOptions.lxcPath,
            .init(short: "t", long: "tty", value: "N", help: "The tty: 0 is the console (the default), 1 to lxc.tty.max the ttys."),
        ])
    static let requiredOptions = ["name"]

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let name = try arguments.required("name", of: spec)
        try requireRoot("swrun console")
        var client = ConsoleClient(store: try arguments.store(), name: name)
        guard let terminal = Int(arguments.value("tty") ?? "0"), terminal >= 0 else {
            throw SwrunError(.invalidArgument, "-t \(arguments.value("tty") ?? ""): not a tty number", hint: "0 is the console; 1 to lxc.tty.max the ttys")
        }
        client.terminal = terminal
        try client.run(tell: { printError($0) })
        return 0
    }
}
