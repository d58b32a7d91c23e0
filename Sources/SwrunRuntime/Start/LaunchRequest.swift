import Glibc
import SwrunConfig

/// What PID 1 of the container is.
public enum LaunchMode: Sendable {
    /// swrun's init, which forks the command, reaps orphans and forwards signals (lxc-execute).
    case execute
    /// The command itself, usually the rootfs's /sbin/init (lxc-start): a system container.
    /// Its console and lxc.tty.max ttys are ptys whose masters swrun keeps.
    case boot
    /// No new container: the command joins a running one's namespaces (lxc-attach), and
    /// only the payload's steps apply.
    case attach
}

/// Everything that decides how one container starts: its spec, and who it is on this host.
public struct LaunchRequest: Sendable {
    public var containerName: String
    /// The container's directory (LXCPATH/NAME): relative rootfs paths and the lock live there.
    public var containerDirectory: String
    public var mode: LaunchMode = .execute
    /// What the container is, from its LXC config or an OCI bundle.
    public var spec: ContainerSpec
    /// argv of the payload; argv[0] is searched in the container's PATH when it has no slash.
    public var command: [String] { spec.process.args }
    /// Give the payload a pty from the container's devpts and relay it to our stdin/stdout.
    public var useTerminal: Bool { spec.process.terminal }
    /// Print every step, with the real system call, as it happens.
    public var explain: Bool
    /// The host's TERM, passed on when a terminal is used.
    public var hostTerm: String?
    /// Host environment, for attach --keep-env.
    public var hostEnvironment: [String: String]
    /// NAME=VALUE pairs set last (attach -v).
    public var environmentOverrides: [String] = []
    /// Pass the whole host environment on (attach --keep-env); the default is a clean one.
    public var keepHostEnvironment = false
    /// Ports published on the host (swrun.json), forwarded to the container's first IPv4 address.
    public var publishedPorts: [PortPublication] = []
    /// For each of stdin, stdout and stderr, the fd the container's processes get in its place
    /// (a pipe swrun relays, where swrun's is a terminal), or -1 to pass swrun's own on.
    public var replacedStandardFDs: [Int32] = [-1, -1, -1]
    /// The host as the plan takes it; nil: read from this host when the plan is made.
    public var hostFacts: HostFacts?
    /// OCI create: a listening socket (SOCK_SEQPACKET) the container's init waits on, set up,
    /// until `start` connects and says go; swrun returns once init is there. -1: none.
    public var startGate: Int32 = -1
    /// The container's state as OCI hooks read it on stdin, given init's pid (OCI bundles only).
    public var stateDocument: (@Sendable (pid_t) -> String)?
    /// attach: the running container, and what its processes run with (never re-read from the config).
    var attachTarget: AttachTarget?
    var attachProfile: ProcessProfile?

    public init(containerName: String, containerDirectory: String, spec: ContainerSpec, mode: LaunchMode,
                explain: Bool, hostTerm: String? = nil, hostEnvironment: [String: String] = [:]) {
        self.containerName = containerName
        self.containerDirectory = containerDirectory
        self.spec = spec
        self.mode = mode
        self.explain = explain
        self.hostTerm = hostTerm
        self.hostEnvironment = hostEnvironment
    }
}
