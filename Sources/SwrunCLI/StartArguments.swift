import SwrunConfig
import SwrunRuntime
import SwrunSystem

/// Readings of the options that several commands share.
extension ParsedArguments {
    /// The containers' home: -P, else lxc.lxcpath of the system config.
    func store() throws(SwrunError) -> ContainerStore {
        if let path = value(CommonOptions.lxcPath.long) { return ContainerStore(lxcPath: path) }
        return ContainerStore(lxcPath: try SystemConfig.load().lxcPath)
    }

    /// The config a new container starts from: -f FILE, else lxc.default_config.
    func initialConfig() throws(SwrunError) -> String {
        if let file = value(CommonOptions.config.long) {
            guard FileSystem.exists(file) else {
                throw SwrunError(.notFound, "config file \(file) does not exist", hint: "give the path of an LXC config file to -f")
            }
            return file
        }
        return try SystemConfig.load().defaultConfigPath
    }

    /// A pty for the command: with -t; never with -T; otherwise whenever stdin, stdout or
    /// stderr is a terminal, as LXC does: the command then has a terminal of its own, and never
    /// the caller's (which it could type into). Without -t or a terminal, plain pipes:
    /// `swrun run busybox -- sh -c 'echo hi' | cat` in a script gets plain bytes.
    var wantsTerminal: Bool {
        !flag("no-tty") && (flag("tty") || (0...2).contains { Terminal.isTerminal($0) })
    }

    /// Applies --explain, -t, -T and -s to an execution.
    func configure(_ execution: inout ForegroundExecution) throws(SwrunError) {
        execution.explain = flag("explain")
        execution.useTerminal = wantsTerminal
        execution.extraSettings = try definedSettings()
        execution.command = command
    }

    /// A number of seconds given to `option` (-t), or nil when it is not given.
    func seconds(_ option: String) throws(SwrunError) -> Int? {
        try value(option).map { text throws(SwrunError) in
            guard let seconds = Int(text), seconds >= 0 else {
                throw SwrunError(.invalidArgument, "-t \(text): not a number of seconds", hint: "for example: -t 10")
            }
            return seconds
        }
    }

    /// The -s KEY=VALUE settings, with their place on the command line for error messages.
    func definedSettings() throws(SwrunError) -> [ConfigSetting] {
        var settings: [ConfigSetting] = []
        for (index, define) in values("define").enumerated() {
            guard let equals = define.firstIndex(of: "=") else {
                throw SwrunError(.invalidArgument, "-s \(define): expected KEY=VALUE", hint: "for example: -s lxc.uts.name=web")
            }
            let key = String(define[..<equals]).trimmingCharacters(in: " ")
            let value = String(define[define.index(after: equals)...]).trimmingCharacters(in: " ")
            settings.append(ConfigSetting(key: key, value: value, location: ConfigLocation(file: "command line (-s)", line: index + 1)))
        }
        return settings + (try limitSettings())
    }

    /// --memory, --cpus, --pids and --cpuset: lxc.cgroup2 keys under other names.
    func limitSettings() throws(SwrunError) -> [ConfigSetting] {
        var settings: [ConfigSetting] = []
        let limitKeys = [("memory", "memory.max"), ("pids", "pids.max"), ("cpuset", "cpuset.cpus")]
        for (flag, key) in limitKeys {
            if let value = value(flag) ?? (flag == "pids" ? value("pids-limit") : nil) {
                settings.append(ConfigSetting(key: "lxc.cgroup2." + key, value: value, location: ConfigLocation(file: "command line (--\(flag))", line: 1)))
            }
        }
        if let cpus = value("cpus") {
            guard let amount = Double(cpus), amount > 0, amount <= 4096 else {
                throw SwrunError(.invalidArgument, "--cpus \(cpus): not a number of CPUs", hint: "for example --cpus 1.5")
            }
            settings.append(ConfigSetting(key: "lxc.cgroup2.cpu.max", value: "\(Int((amount * 100_000).rounded())) 100000",
                                          location: ConfigLocation(file: "command line (--cpus)", line: 1)))
        }
        return settings
    }
}
