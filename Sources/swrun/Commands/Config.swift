import ArgumentParser
import SwrunConfig
import SwrunSystem

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a system setting, as lxc-config does (read from /etc/lxc/lxc.conf).")

    @Flag(name: [.customShort("l"), .long], help: "List the keys.")
    var list = false

    @Argument(help: "The key, e.g. lxc.lxcpath or lxc.default_config.")
    var key: String?

    func run() throws {
        try reportingErrors { () throws(SwrunError) -> Int32 in
            if list || key == nil {
                print(SystemConfig.keys.joined(separator: "\n"))
                return 0
            }
            let key = self.key ?? ""
            guard let value = try SystemConfig.load().value(key) else {
                throw SwrunError(.invalidArgument, "unknown system setting '\(key)'", hint: "`swrun config -l` lists them")
            }
            print(value)
            return 0
        }
    }
}
