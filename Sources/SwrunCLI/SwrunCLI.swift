import Glibc
import SwrunConfig
import SwrunSystem

/// One swrun command: its spec and what it does with the parsed arguments.
protocol Command {
    static var spec: CommandSpec { get }
    /// Options without which the command cannot run (shown in the usage line).
    static var requiredOptions: [String] { get }
    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32
}

extension Command {
    static var requiredOptions: [String] { [] }
}

/// The command line of swrun: pick the command, parse its arguments, run it,
/// and turn an error into a message and an honest exit code.
public enum SwrunCLI {
    public static let version = "0.1.0"

    /// By name, so that finding a command does not build every command's spec.
    static let commands: [(name: String, type: any Command.Type)] = [
        ("run", RunCommand.self), ("create", CreateCommand.self), ("execute", ExecuteCommand.self),
        ("start", StartCommand.self), ("stop", StopCommand.self), ("reboot", RebootCommand.self), ("info", InfoCommand.self),
        ("attach", AttachCommand.self), ("console", ConsoleCommand.self), ("wait", WaitCommand.self),
        ("freeze", FreezeCommand.self), ("unfreeze", UnfreezeCommand.self),
        ("autostart", AutostartCommand.self), ("cgroup", CgroupCommand.self), ("top", TopCommand.self), ("port", PortCommand.self), ("checkconfig", CheckConfigCommand.self), ("net", NetCommand.self),
        ("copy", CopyCommand.self), ("snapshot", SnapshotCommand.self), ("export", ExportCommand.self), ("destroy", DestroyCommand.self), ("ls", ListCommand.self), ("config", ConfigCommand.self),
        ("pull", PullCommand.self), ("push", PushCommand.self), ("login", LoginCommand.self), ("logout", LogoutCommand.self), ("images", ImagesCommand.self), ("image", ImageCommand.self), ("tag", TagCommand.self), ("commit", CommitCommand.self), ("build", BuildCommand.self), ("save", SaveCommand.self), ("load", LoadCommand.self), ("import", ImportCommand.self),
        // Docker's verbs, over the same containers.
        ("ps", PsCommand.self), ("exec", ExecCommand.self), ("logs", LogsCommand.self), ("rm", RmCommand.self), ("kill", KillCommand.self),
        ("restart", RestartCommand.self), ("inspect", InspectCommand.self), ("cp", CpCommand.self), ("pause", PauseCommand.self),
        ("unpause", UnpauseCommand.self), ("stats", StatsCommand.self), ("container", ContainerCommand.self), ("system", SystemCommand.self),
        ("monitor", MonitorCommand.self),
        ("man", ManCommand.self), ("completion", CompletionCommand.self),
    ]

    /// Runs `swrun WORDS...` (without argv[0]) and returns the exit code.
    public static func main(_ words: [String]) -> Int32 {
        Subprocess.setProcessName("swrun")
        let first = words.first ?? "--help"
        switch first {
        case "-h", "--help":
            print(Help.overview(commands.map(\.type)), terminator: "")
            return 0
        case "--version", "version":
            print("swrun \(version)")
            return 0
        case "oci":
            return OCICommandLine.main(Array(words.dropFirst()))
        case "help" where words.count > 1:
            guard let command = command(named: words[1]) else { return unknown(words[1]) }
            print(Help.text(command.spec, required: command.requiredOptions), terminator: "")
            return 0
        default:
            guard let command = command(named: first) else { return unknown(first) }
            return run(command, Array(words.dropFirst()))
        }
    }

    static func command(named name: String) -> (any Command.Type)? {
        commands.first { $0.name == name }?.type
    }

    private static func unknown(_ name: String) -> Int32 {
        let visible = commands.filter { !$0.type.spec.hidden }.map(\.name)
        if let near = Suggestions.closest(to: name, among: visible) {
            printError("swrun: error: unknown command '\(name)'; did you mean '\(near)'?\n  hint: see `swrun --help` for every command")
        } else {
            printError("swrun: error: unknown command '\(name)'\n  hint: the commands are \(visible.joined(separator: ", ")); see `swrun --help`")
        }
        return 1
    }

    private static func run(_ command: any Command.Type, _ words: [String]) -> Int32 {
        let spec = command.spec
        let code: Int32
        do {
            let arguments = try ParsedArguments(words, spec: spec)
            if arguments.wantsHelp {
                print(Help.text(spec, required: command.requiredOptions), terminator: "")
                return 0
            }
            if spec.entersContainers { try SealedExecutable.reexecIfNeeded() }
            code = try command.run(arguments)
        } catch {
            printError("swrun: error: \(error)")
            switch error.code {
            case .commandNotFound where spec.containerExitCodes: code = 127
            case .commandNotExecutable where spec.containerExitCodes: code = 126
            default: code = spec.containerExitCodes ? 125 : 1
            }
        }
        fflush(nil)
        return code
    }
}
