import Glibc
import SwrunCgroups
import SwrunConfig
import SwrunSystem

/// `swrun execute`: load a container's config, plan its start, hold its lock,
/// run the command in the foreground and return how it ended.
public struct ForegroundExecution {
    public let store: ContainerStore
    public let name: String
    public var command: [String]?
    /// Settings from the command line (-s KEY=VALUE), applied after the config's own.
    public var extraSettings: [ConfigSetting] = []
    public var useTerminal = false
    public var explain = false

    public init(store: ContainerStore, name: String) {
        self.store = store
        self.name = name
    }

    /// Runs the command; an ephemeral container (lxc.ephemeral) is destroyed after it.
    public func run(warn: (String) -> Void) throws(SwrunError) -> ProcessStatus {
        var ephemeral = false  // lxc.ephemeral, as the config the run loads says
        defer { if ephemeral { store.destroyIfStopped(name, warn: warn) } }  // once the run lock is let go
        let status = try runHoldingLock(ephemeral: &ephemeral, warn: warn)
        ExitRecord(code: status.shellExitCode).write(to: store.directory(of: name))
        return status
    }

    private func runHoldingLock(ephemeral: inout Bool, warn: (String) -> Void) throws(SwrunError) -> ProcessStatus {
        try store.requireExisting(name)
        // The command when none is given: lxc.execute.cmd, else lxc.init.cmd, else the image's
        // argv (swrun.json), else a shell.
        let (spec, sidecar, removedAfter) = try store.spec(of: name, adding: extraSettings, command: command, mode: .execute, terminal: useTerminal)
        ephemeral = removedAfter
        var request = LaunchRequest(containerName: name, containerDirectory: store.directory(of: name), spec: spec, mode: .execute,
                                    explain: explain, hostTerm: getenv("TERM").map { String(cString: $0) },
                                    hostEnvironment: HostEnvironment.current())
        request.publishedPorts = sidecar.ports
        let pipes = try StdioPipes(feedInput: !useTerminal)
        request.replacedStandardFDs = pipes.childEnds
        let lock = try store.lockForStart(name)
        defer { withExtendedLifetime(lock) {} }  // held until the command is over
        let sequence = LaunchSequence(request)
        defer { sequence.finish(warn: warn) }  // declared first, so it runs once all else is cleared
        var rawMode: RawTerminalMode?  // restores the user's terminal when this function returns
        defer { withExtendedLifetime(rawMode) {} }
        defer { store.clearRuntimeFiles(of: name) }
        let monitor = ProcessIdentity.current
        let launched = Result { () throws(SwrunError) in try sequence.launch(warn: warn,
            started: { (pid, made) throws(SwrunError) in
                try store.recordStarted(name, initPID: pid, mode: .execute, monitor: monitor, cgroup: made, signals: spec.signals)
            },
            beforeCommand: { (container) throws(SwrunError) in
                guard container.console >= 0, Terminal.isTerminal(0) else { return }
                rawMode = try RawTerminalMode.enter(fd: 0)
                if let size = Terminal.windowSize(of: 0) { Terminal.setWindowSize(size, on: container.console) }
            }) }
        pipes.closeChildEnds()  // init has them
        let container = try launched.get()
        // RUNNING only now: until the command runs, init may still be building the mount tree.
        do {
            try store.recordRunning(name, initPID: container.initPID, mode: .execute, monitor: monitor, cgroup: sequence.cgroup, signals: spec.signals)
        } catch {
            container.killInit()
            throw error
        }
        return try container.runInForeground(pipes: pipes)
    }
}

/// The environment swrun was started with.
public enum HostEnvironment {
    /// One variable of it.
    public static func value(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    static func current() -> [String: String] {
        var result: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            cursor += 1
        }
        return result
    }
}
