import ArgumentParser

@main
struct Swrun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swrun",
        abstract: "A small system-container runtime: LXC's layout and config keys, namespaces and mounts made directly.",
        discussion: """
        Containers live in LXCPATH/NAME (default /var/lib/lxc), as LXC keeps them.
        Quick start:  swrun run busybox            a shell in a throwaway-style busybox container
                      swrun run --explain busybox -- true   see every namespace, mount and call it takes
        """,
        version: "0.1.0",
        subcommands: [Run.self, Create.self, Execute.self, Destroy.self, List.self, Config.self]
    )
}
