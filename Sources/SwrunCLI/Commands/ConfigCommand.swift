import SwrunConfig
import SwrunSystem

enum ConfigCommand: Command {
    static let spec = CommandSpec(
        name: "config",
        abstract: "Print a system setting, as lxc-config does (read from /etc/lxc/lxc.conf).",
        options: [.init(short: "l", long: "list", value: nil, help: "List the keys.")],
        arguments: [.init(name: "KEY", help: "The key, e.g. lxc.lxcpath or lxc.default_config.", optional: true)])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        guard let key = arguments.arguments.first, !arguments.flag("list") else {
            print(SystemConfig.keys.joined(separator: "\n"))
            return 0
        }
        guard let value = try SystemConfig.load().value(key) else {
            throw SwrunError(.invalidArgument, "unknown or unset system setting '\(key)'", hint: "`swrun config -l` lists the keys")
        }
        print(value)
        return 0
    }
}
