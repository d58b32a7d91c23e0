import Glibc
import SwrunConfig
import SwrunRuntime
import SwrunSystem

// Docker's everyday verbs, where they are the same thing as an LXC-style command: the
// containers are named as arguments (docker rm web), not with -n.

/// The NAME... argument of the verbs below.
private let containerNames = CommandSpec.Argument(name: "NAME", help: "A container's name.", repeats: true, completes: .container)

enum ExecCommand: Command {
    static let spec = CommandSpec(
        name: "exec",
        abstract: "Run a command in a running container (docker exec; swrun attach underneath).",
        discussion: "As `swrun attach -n NAME -- COMMAND`, with Docker's options. Exit status: the command's; 125 when swrun fails.",
        options: [
            .init(short: "e", long: "env", value: "NAME=VALUE", help: "Set a variable for the command.", repeats: true),
            .init(short: "w", long: "workdir", value: "DIR", help: "The command's working directory."),
            .init(short: "u", long: "user", value: "USER[:GROUP]", help: "Run as USER: a name of the container's /etc/passwd or a uid."),
            .init(short: "i", long: "interactive", value: nil, help: "Keep stdin attached (swrun always does)."),
            .init(short: "t", long: "tty", value: nil, help: "Give the command a pty even when none of stdin, stdout, stderr is a terminal."),
            .init(short: "T", long: "no-tty", value: nil, help: "Never allocate a pty."),
            .init(short: "d", long: "detach", value: nil, help: "Start the command and return at once; it runs on in the container."),
            CommonOptions.lxcPath,
        ],
        arguments: [.init(name: "NAME", help: "The running container.", completes: .container)],
        trailingCommand: true,
        optionsBeforeArguments: true,
        containerExitCodes: true,
        entersContainers: true)

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        try requireRoot("swrun exec")
        guard !arguments.command.isEmpty else {
            throw SwrunError(.invalidArgument, "swrun exec: no command to run", hint: "for example: swrun exec \(arguments.arguments[0]) ps")
        }
        var attacher = ContainerAttacher(store: try arguments.store(), name: arguments.arguments[0])
        attacher.environment = try arguments.values("env").map { text throws(SwrunError) in try ContainerOptions.environment(text) }
            .compactMap { variable in variable.contains("=") ? variable : HostEnvironment.value(variable).map { variable + "=" + $0 } }
        attacher.workingDirectory = arguments.value("workdir")
        attacher.user = arguments.value("user")
        attacher.useTerminal = arguments.wantsTerminal && !arguments.flag("detach")
        if arguments.flag("detach") {
            // The command's stdio is /dev/null and swrun does not wait: it runs under the container's init.
            attacher.command = ["/bin/sh", "-c", "\"$@\" </dev/null >/dev/null 2>&1 &", "sh"] + arguments.command
        } else {
            attacher.command = arguments.command
        }
        return try attacher.run(warn: warn).shellExitCode
    }
}

enum RmCommand: Command {
    static let spec = CommandSpec(
        name: "rm",
        abstract: "Remove containers (docker rm; swrun destroy underneath).",
        options: [.init(short: "f", long: "force", value: nil, help: "Kill a running container first."),
                  .init(short: "v", long: "volumes", value: nil, help: "Accepted: swrun makes no anonymous volumes, and named ones outlive their containers."),
                  CommonOptions.lxcPath],
        arguments: [containerNames])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        try requireRoot("swrun rm")
        let store = try arguments.store()
        return eachContainer(arguments.arguments) { name throws(SwrunError) in
            try store.requireExisting(name)
            guard arguments.flag("force") || store.status(of: name).state == .stopped else {
                throw SwrunError(.busy, "container '\(name)' is running", hint: "stop it first (swrun stop \(name)), or use rm -f")
            }
            try store.destroyKillingIt(name, warn: warn)
            print(name)
        }
    }
}

enum KillCommand: Command {
    static let spec = CommandSpec(
        name: "kill",
        abstract: "Send a signal to containers' init (docker kill).",
        discussion: "Without -s: SIGKILL, which ends every process of the container. Returns at once.",
        options: [.init(short: "s", long: "signal", value: "SIGNAL", help: "The signal (name or number; default KILL)."), CommonOptions.lxcPath],
        arguments: [containerNames])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        try requireRoot("swrun kill")
        let text = arguments.value("signal") ?? "SIGKILL"
        guard let signal = SignalNames.parse(text) ?? SignalNames.parse("SIG" + text.uppercased()) else {
            throw SwrunError(.invalidArgument, "-s \(text): not a signal", hint: "for example -s HUP, -s SIGTERM or -s 15")
        }
        let store = try arguments.store()
        return eachContainer(arguments.arguments) { name throws(SwrunError) in
            try ContainerStopper(store: store, name: name).kill(signal: signal)
            print(name)
        }
    }
}

enum RestartCommand: Command {
    static let spec = CommandSpec(
        name: "restart",
        abstract: "Stop containers, then start them again (docker restart).",
        options: [.init(short: "t", long: "time", value: "SECONDS", help: "How long to wait after the halt signal (default: the container's stop timeout)."),
                  CommonOptions.lxcPath],
        arguments: [containerNames])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        try requireRoot("swrun restart")
        let given = try arguments.seconds("time")
        let store = try arguments.store()
        return eachContainer(arguments.arguments) { name throws(SwrunError) in
            try store.requireExisting(name)
            if store.status(of: name).state != .stopped {
                try ContainerStopper(store: store, name: name).stop(timeout: given ?? store.stopTimeout(of: name), killAtOnce: false, warn: warn)
            }
            try ContainerMonitor.startDetached(MonitorRequest(name: name, lxcPath: store.lxcPath))
            print(name)
        }
    }
}

enum PauseCommand: Command {
    static let spec = CommandSpec(name: "pause", abstract: "Freeze every process of containers (docker pause; swrun freeze underneath).",
                                  options: [CommonOptions.lxcPath], arguments: [containerNames])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 { try setFrozen(arguments, true) }

    static func setFrozen(_ arguments: ParsedArguments, _ frozen: Bool) throws(SwrunError) -> Int32 {
        try requireRoot(frozen ? "swrun pause" : "swrun unpause")
        let store = try arguments.store()
        return eachContainer(arguments.arguments) { name throws(SwrunError) in
            try ContainerFreezer(store: store, name: name).set(frozen: frozen)
            print(name)
        }
    }
}

enum UnpauseCommand: Command {
    static let spec = CommandSpec(name: "unpause", abstract: "Thaw paused containers (docker unpause; swrun unfreeze underneath).",
                                  options: [CommonOptions.lxcPath], arguments: [containerNames])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 { try PauseCommand.setFrozen(arguments, false) }
}

/// Runs `body` for each name; an error is reported and the others go on, as Docker's verbs
/// do. Exit status: 1 when any failed.
func eachContainer(_ names: [String], _ body: (String) throws(SwrunError) -> Void) -> Int32 {
    var failed = false
    for name in names {
        do { try body(name) } catch {
            printError("swrun: error: \(error)")
            failed = true
        }
    }
    return failed ? 1 : 0
}
