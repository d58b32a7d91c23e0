import SwrunImages
import SwrunRuntime
import SwrunSystem

enum CopyCommand: Command {
    static let spec = CommandSpec(
        name: "copy",
        abstract: "Copy a container, whole or as a snapshot (lxc-copy).",
        discussion: """
        The copy gets its own hostname and MAC addresses (keep them with -K, -M), and the
        original's config with its paths moved to the copy's directory. A whole copy has the
        original's backing store unless -B says otherwise; a snapshot (-s) is an overlay over the
        original's files (lxc.rootfs.path = overlay:ORIGINAL/rootfs:COPY/overlay/delta), in
        LXC's layout and files (lxc_snapshots, lxc_rdepends): the original cannot be destroyed
        while a snapshot stands on it. -e makes an ephemeral snapshot (lxc.ephemeral = 1,
        destroyed when it stops) and starts it; with -D it stays; with -t its changes go to a
        tmpfs (an lxc.hook.pre-mount script, as lxc-copy writes it). -m binds a host directory
        into an ephemeral copy, or (overlay=) lays the copy's own upper directory over it.
        -R renames a stopped container in place (as lxc-copy -R: its MAC addresses kept, its
        hostname renamed unless -K); one with snapshots or snapshot clones is refused.
        Examples:  swrun copy -n web -N web2
                   swrun copy -n web -N try -s
                   swrun copy -n web -e -m bind=/srv/data:/data:ro
                   swrun copy -n web -e -t -m overlay=/srv/site:/var/www
                   swrun copy -n web -N www -R
        """,
        options: [
            CommonOptions.name, CommonOptions.lxcPath,
            .init(short: "N", long: "newname", value: "NEWNAME", help: "The copy's name (with -e, a random one by default)."),
            .init(short: "p", long: "newpath", value: "NEWPATH", help: "The copy's LXCPATH (default: the original's)."),
            .init(short: "R", long: "rename", value: nil, help: "Rename the container to NEWNAME instead of copying it."),
            .init(short: "s", long: "snapshot", value: nil, help: "An overlay over the original's files instead of a copy of them."),
            .init(short: "B", long: "backingstorage", value: "BACKINGSTORE", help: "dir or overlay (overlay needs -s for a directory container)."),
            .init(short: "K", long: "keepname", value: nil, help: "Keep the original's hostname."),
            .init(short: "M", long: "keepmac", value: nil, help: "Keep the original's MAC addresses."),
            .init(short: "e", long: "ephemeral", value: nil, help: "Make an ephemeral snapshot and start it; it is destroyed when it stops."),
            .init(short: "D", long: "keepdata", value: nil, help: "With -e: the snapshot stays after it stops."),
            .init(short: "d", long: "daemon", value: nil, help: "With -e: return once it runs (the default)."),
            .init(short: "F", long: "foreground", value: nil, help: "With -e: stay on its console until it stops."),
            .init(short: "t", long: "tmpfs", value: nil, help: "With -e: the copy's changes on a tmpfs, lost when it stops."),
            .init(short: "m", long: "mount", value: "{bind,overlay}=SRC[:DEST]", help: "With -e: bind a host directory into the copy (bind=SRC[:DEST][:ro]), or an overlay of it written in the copy (overlay=SRC[:DEST]); comma-separated, repeatable.", repeats: true),
            .init(short: "a", long: "allowrunning", value: nil, help: "Copy a running container (its files may change meanwhile)."),
        ])
    static let requiredOptions = ["name"]

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let name = try arguments.required("name", of: spec)
        if arguments.flag("rename") { return try rename(name, arguments) }
        let ephemeral = arguments.flag("ephemeral")
        for flag in ["keepdata", "daemon", "foreground", "mount", "tmpfs"] where arguments.flag(flag) && !ephemeral {
            throw SwrunError(.invalidArgument, "--\(flag) goes with -e (an ephemeral copy that is started)", hint: "add -e, or drop --\(flag)")
        }
        guard let newName = arguments.value("newname") ?? (ephemeral ? randomName(for: name) : nil) else {
            throw SwrunError(.invalidArgument, "swrun copy needs the copy's name", hint: "give -N NEWNAME (or -e for a started ephemeral copy)")
        }
        try requireRoot("swrun copy")
        var options = ContainerCopier.Options(newName: newName)
        options.newPath = arguments.value("newpath")
        options.snapshot = arguments.flag("snapshot") || ephemeral
        options.backingStore = try arguments.value("backingstorage").map { value throws(SwrunError) in try BackingStore(option: value) }
        options.keepName = arguments.flag("keepname")
        options.keepMAC = arguments.flag("keepmac")
        options.ephemeral = ephemeral && !arguments.flag("keepdata")
        options.allowRunning = arguments.flag("allowrunning")
        options.tmpfs = arguments.flag("tmpfs")
        for value in arguments.values("mount") { options.mounts += try CopyMount.parse(value) }
        let store = try arguments.store()
        let copier = ContainerCopier(store: store, name: name, layerStore: LayerStore(store: imageCatalog().ociStore),
                                     report: { printError("swrun: \($0)") })
        let target = try copier.copy(options)
        print("Created container \(newName) as \(options.snapshot ? "a snapshot" : "a copy") of \(name)")
        guard ephemeral else { return 0 }
        if arguments.flag("foreground") {
            var monitor = ContainerMonitor(store: target, name: newName)
            monitor.foreground = true
            monitor.settleMilliseconds = 0
            var failure: SwrunError?
            let code = monitor.run(ready: { result in if case .failure(let error) = result { failure = error } }, warn: warn,
                                   log: { printError("swrun: \($0)") })
            if let failure { throw failure }
            return code
        }
        try ContainerMonitor.startDetached(MonitorRequest(name: newName, lxcPath: target.lxcPath, settings: [], command: [], explain: false,
                                                          settleMilliseconds: ContainerMonitor.defaultSettleMilliseconds))
        return 0
    }

    /// lxc-copy -R: only -N (and -K, to keep the hostname) go with it.
    static func rename(_ name: String, _ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let others = ["newpath", "snapshot", "backingstorage", "keepmac", "ephemeral", "keepdata", "daemon", "foreground", "tmpfs", "mount", "allowrunning"]
        if let other = others.first(where: arguments.flag) {
            throw SwrunError(.invalidArgument, "--\(other) does not go with -R (a rename in place)", hint: "drop --\(other), or copy without -R")
        }
        guard let newName = arguments.value("newname") else {
            throw SwrunError(.invalidArgument, "swrun copy -R needs the new name", hint: "give -N NEWNAME")
        }
        try requireRoot("swrun copy -R")
        let renamer = ContainerRenamer(store: try arguments.store(), name: name, layerStore: LayerStore(store: imageCatalog().ociStore))
        try renamer.rename(to: newName, keepHostname: arguments.flag("keepname"))
        print("Renamed container \(name) to \(newName)")
        return 0
    }

    /// lxc-copy -e's name when none is given: the original's and six random letters.
    static func randomName(for name: String) -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((name + "-").prefix(57)) + String((0..<6).map { _ in letters.randomElement()! })
    }
}
