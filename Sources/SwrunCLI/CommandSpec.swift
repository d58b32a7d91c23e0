import SwrunRuntime
import SwrunSystem
/// What a command accepts, written once: the parser reads it, and so does the help.
/// (A small table instead of swift-argument-parser: its reflection costs about 1.5 ms
/// at every start, a quarter of `swrun execute`, and `make bench` counts that.)
struct CommandSpec {
    /// What a value names, for the shell completions: they offer the existing ones.
    enum Names {
        /// A container of LXCPATH (`swrun ls -1`).
        case container
        /// A cached image (`swrun images`).
        case image
        /// CONTAINER:PATH or a host path (cp).
        case containerPath
        case file
        case directory
    }

    struct Option {
        var short: Character?
        var long: String
        /// The value's name in help ("NAME"); nil for a flag.
        var value: String?
        var help: String
        var repeats = false
        /// The values the option takes, when they are a fixed set: completions offer them.
        var choices: [String] = []
        /// What the value names, for completions.
        var completes: Names? = nil
    }

    struct Argument {
        var name: String
        var help: String
        var optional = false
        /// The last argument may be given more than once (IMAGE...).
        var repeats = false
        /// The words the argument takes, when they are a fixed set (an ACTION).
        var choices: [String] = []
        /// What the argument names, for completions.
        var completes: Names? = nil
    }

    var name: String
    var abstract: String
    var discussion = ""
    var options: [Option] = []
    var arguments: [Argument] = []
    /// Everything after the arguments (or after `--`) is a command to run, kept verbatim.
    var trailingCommand = false
    /// Options end at the first argument, as in `docker run [OPTIONS] IMAGE [COMMAND]`: what
    /// follows the last argument is the command, however it looks (`run IMG --verbose`).
    var optionsBeforeArguments = false
    /// Exit codes as Docker's: 125 for swrun's own errors, 126 and 127 for the command.
    var containerExitCodes = false
    /// Internal commands (the monitor) are left out of `swrun --help`.
    var hidden = false
    /// The command runs swrun's code inside containers: it first re-execs from a sealed
    /// view of its binary (SealedExecutable), so the container cannot rewrite it.
    var entersContainers = false

    func option(long: String) -> Option? { options.first { $0.long == long } }
    func option(short: Character) -> Option? { options.first { $0.short == short } }
}

/// Options every command that touches containers shares.
enum CommonOptions {
    static let lxcPath = CommandSpec.Option(short: "P", long: "lxcpath", value: "LXCPATH",
                                            help: "Where containers live (default: lxc.lxcpath of /etc/lxc/lxc.conf, else /var/lib/lxc).",
                                            completes: .directory)
    static let name = CommandSpec.Option(short: "n", long: "name", value: "NAME", help: "The container's name.", completes: .container)
    static let config = CommandSpec.Option(short: "f", long: "config", value: "FILE",
                                           help: "Initial config for a new container, instead of lxc.default_config (/etc/lxc/default.conf).",
                                           completes: .file)
    /// -n of create: a new name, so completions offer none of the existing ones.
    static let newName = CommandSpec.Option(short: "n", long: "name", value: "NAME", help: "The container's name.")
    /// --format text|json.
    static func format(_ help: String) -> CommandSpec.Option {
        .init(short: nil, long: "format", value: "FORMAT", help: help, choices: OutputFormat.allCases.map(\.rawValue))
    }
    /// Ports published on the host, kept in the container's swrun.json (create, run).
    static let publish = CommandSpec.Option(short: "p", long: "publish", value: "[IP:][HOSTPORT:]PORT[/tcp|udp]",
                                            help: "Forward a host port (on every host address, 127.0.0.1 included, or on IP) to the container's first IPv4 address while it runs, as docker run -p: 8080:80, 127.0.0.1:8080:80, 8080-8081:80-81; PORT alone takes a free host port at each start (see `swrun port`).",
                                            repeats: true)

    /// The ports of -p options, checked before anything is made.
    static func publishedPorts(_ arguments: ParsedArguments) throws(SwrunError) -> [PortPublication] {
        var ports: [PortPublication] = []
        for text in arguments.values("publish") { ports += try PortPublication.parse(text) }
        return ports
    }

    /// Records `ports` in the new container's swrun.json.
    static func record(_ ports: [PortPublication], store: ContainerStore, name: String) throws(SwrunError) {
        guard !ports.isEmpty else { return }
        var sidecar = try ContainerSidecar.load(from: store.directory(of: name))
        sidecar.ports = ports
        try sidecar.write(to: store.directory(of: name))
    }

    /// Resource limits, as lxc.cgroup2 keys (run, execute, start).
    static let limits: [CommandSpec.Option] = [
        .init(short: "m", long: "memory", value: "SIZE", help: "Memory limit (memory.max), e.g. 512M."),
        .init(short: nil, long: "cpus", value: "N", help: "CPU time limit in CPUs (cpu.max), e.g. 1.5."),
        .init(short: nil, long: "pids", value: "N", help: "Most processes at once (pids.max)."),
        .init(short: nil, long: "cpuset", value: "CPUS", help: "CPUs the container may use (cpuset.cpus), e.g. 0-1."),
    ]

    /// How a command starts in a container (run and execute).
    static let start: [CommandSpec.Option] = [
        .init(short: nil, long: "explain", value: nil, help: "Print each step as it happens, with the real system call and why it is made."),
        .init(short: "t", long: "tty", value: nil, help: "Give the command a pty even when none of stdin, stdout, stderr is a terminal."),
        .init(short: "T", long: "no-tty", value: nil, help: "Never allocate a pty: plain pipes (relayed by swrun where it has a terminal)."),
        .init(short: "s", long: "define", value: "KEY=VALUE", help: "Set a config key for this start only, as lxc-execute -s does.", repeats: true),
    ]
}
