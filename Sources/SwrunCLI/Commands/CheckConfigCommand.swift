import SwrunRuntime
import SwrunSystem

enum CheckConfigCommand: Command {
    static let spec = CommandSpec(
        name: "checkconfig",
        abstract: "Check what this kernel and host offer containers (lxc-checkconfig).",
        discussion: "Exit status: 0 when every namespace a container needs is there, 1 otherwise.",
        options: [CommonOptions.format("text or json.")])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let format = try OutputFormat(arguments.value("format"))
        let items = HostCheck().items()
        if format == .json {
            print(JSON.array(items.map { item in
                .object([("section", .string(item.section)), ("name", .string(item.name)), ("result", .string(item.result.rawValue)),
                         ("needed_for", .string(item.neededFor)), ("detail", .string(item.detail))])
            }).text)
        } else {
            var section = ""
            for item in items {
                if item.section != section {
                    section = item.section
                    print("--- \(section) ---")
                }
                var line = (item.name + ":").padding(to: 34) + item.result.rawValue + " (\(item.detail))"
                if item.result == .missing { line += "; needed for \(item.neededFor)" }
                print(line)
            }
        }
        let essential = items.filter { $0.section == "Namespaces" && $0.neededFor.hasPrefix("every container") }
        return essential.allSatisfy { $0.result == .enabled } ? 0 : 1
    }
}
