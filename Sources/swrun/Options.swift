import ArgumentParser
import SwrunConfig
import SwrunRuntime
import SwrunSystem

/// -P LXCPATH, as every lxc-* tool takes it.
struct LXCPathOption: ParsableArguments {
    @Option(name: [.customShort("P"), .customLong("lxcpath")], help: "Where containers live (default: lxc.lxcpath from /etc/lxc/lxc.conf, else /var/lib/lxc).")
    var lxcPath: String?

    func store() throws(SwrunError) -> ContainerStore {
        if let lxcPath { return ContainerStore(lxcPath: lxcPath) }
        return ContainerStore(lxcPath: try SystemConfig.load().lxcPath)
    }
}

/// What run and execute share: how the command starts.
struct StartOptions: ParsableArguments {
    @Flag(name: .long, help: "Print each step as it happens, with the real system call and why it is made.")
    var explain = false

    @Flag(name: [.customShort("t"), .long], help: "Give the command a pty even when stdin is not a terminal.")
    var tty = false

    @Flag(name: [.customShort("T"), .customLong("no-tty")], help: "Never allocate a pty: plain pipes, even on a terminal.")
    var noTTY = false

    @Option(name: [.customShort("s"), .customLong("define")], help: ArgumentHelp("Set a config key for this start only, as lxc-execute -s does.", valueName: "KEY=VALUE"))
    var defines: [String] = []

    var useTerminal: Bool {
        if noTTY { return false }
        return tty || Terminal.isTerminal(0)
    }

    /// The -s settings, with their place on the command line for error messages.
    func definedSettings() throws(SwrunError) -> [ConfigSetting] {
        var settings: [ConfigSetting] = []
        for (index, define) in defines.enumerated() {
            guard let equals = define.firstIndex(of: "=") else {
                throw SwrunError(.invalidArgument, "-s \(define): expected KEY=VALUE", hint: "for example: -s lxc.uts.name=web")
            }
            let key = define[..<equals].trimmingCharacters(in: " ")
            let value = define[define.index(after: equals)...].trimmingCharacters(in: " ")
            settings.append(ConfigSetting(key: key, value: value, location: ConfigLocation(file: "command line (-s)", line: index + 1)))
        }
        return settings
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String { String(self).trimmingCharacters(in: set) }
}

/// The config a new container starts from: -f FILE, else lxc.default_config.
func initialConfig(_ file: String?) throws(SwrunError) -> String {
    if let file { return file }
    return try SystemConfig.load().defaultConfigPath
}
