import SwrunImages
import SwrunRuntime
import SwrunSystem

enum SnapshotCommand: Command {
    static let spec = CommandSpec(
        name: "snapshot",
        abstract: "Snapshot a container, list, restore and destroy its snapshots (lxc-snapshot).",
        discussion: """
        Snapshots live in LXCPATH/NAME/snaps/snapN (config, rootfs or overlay/delta, ts, comment), as
        LXC keeps them: `lxc-snapshot -L` lists them too. A directory container's snapshot is a copy
        of its files; an overlay container's is its layers under a copy of its changes. The
        container must be stopped. Restoring without a new name replaces the container's files.
        Examples:  swrun snapshot -n web -c note.txt
                   swrun snapshot -n web -L -C
                   swrun snapshot -n web -r snap0 -N web-old
                   swrun snapshot -n web -d ALL
        """,
        options: [
            CommonOptions.name, CommonOptions.lxcPath,
            .init(short: "c", long: "comment", value: "FILE", help: "A file whose text is kept with the new snapshot."),
            .init(short: "L", long: "list", value: nil, help: "List the snapshots."),
            .init(short: "C", long: "showcomments", value: nil, help: "With -L: show each snapshot's comment."),
            .init(short: "r", long: "restore", value: "SNAPSHOT", help: "Restore this snapshot (snapN)."),
            .init(short: "N", long: "newname", value: "NEWNAME", help: "With -r: restore as a new container instead of over this one."),
            .init(short: "d", long: "destroy", value: "SNAPSHOT", help: "Destroy this snapshot, or ALL of them."),
        ],
        arguments: [.init(name: "NEWNAME", help: "With -r: the new container's name, as -N.", optional: true)])
    static let requiredOptions = ["name"]

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let name = try arguments.required("name", of: spec)
        let actions = ["list", "restore", "destroy"].filter(arguments.flag)
        guard actions.count <= 1 else {
            throw SwrunError(.invalidArgument, "give one of -L, -r and -d", hint: "without any, a snapshot is taken")
        }
        for (flag, needs) in [("showcomments", "list"), ("newname", "restore")] where arguments.flag(flag) && actions.first != needs {
            throw SwrunError(.invalidArgument, "--\(flag) goes with --\(needs)", hint: "see `swrun snapshot --help`")
        }
        if !arguments.arguments.isEmpty && (actions.first != "restore" || arguments.flag("newname")) {
            throw SwrunError(.invalidArgument, "swrun snapshot takes a NEWNAME only with -r, and once", hint: "see `swrun snapshot --help`")
        }
        let store = try arguments.store()
        try store.requireExisting(name)
        let snapshots = ContainerSnapshots(store: store, name: name, layerStore: LayerStore(store: imageCatalog().ociStore),
                                           report: { printError("swrun: \($0)") })
        switch actions.first {
        case "list":
            let list = snapshots.list()
            if list.isEmpty { print("No snapshots") }
            for snapshot in list {
                print("\(snapshot.name) (\(snapshot.lxcPath)) \(snapshot.timestamp)")
                if arguments.flag("showcomments"), let comment = snapshot.comment { print(comment, terminator: "") }
            }
        case "restore":
            try requireRoot("swrun snapshot -r")
            let snapshot = arguments.value("restore") ?? ""
            let newName = arguments.value("newname") ?? arguments.arguments.first
            try snapshots.restore(snapshot, as: newName)
            print("Restored \(snapshot) of \(name) as \(newName ?? name)")
        case "destroy":
            try requireRoot("swrun snapshot -d")
            let snapshot = arguments.value("destroy") ?? ""
            try snapshots.destroy(snapshot)
            print("Destroyed \(snapshot == "ALL" ? "every snapshot" : snapshot) of \(name)")
        default:
            try requireRoot("swrun snapshot")
            let made = try snapshots.create(commentFile: arguments.value("comment"))
            print("Created snapshot \(made) of \(name)")
        }
        return 0
    }
}
