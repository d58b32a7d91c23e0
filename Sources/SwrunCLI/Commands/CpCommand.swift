import SwrunRuntime
import SwrunSystem

enum CpCommand: Command {
    static let spec = CommandSpec(
        name: "cp",
        abstract: "Copy files between a container and the host (docker cp).",
        discussion: """
        One of SOURCE and DESTINATION is CONTAINER:PATH, the other a host path. A running
        container is copied from or into as its processes see their root; a stopped one through
        its rootfs (its overlay or image mounted meanwhile). Paths in the container are resolved
        inside its root, and a link there is never followed out of it. Into a directory, the
        source keeps its name. What lands in the container belongs to its root.
        Examples:  swrun cp web:/etc/nginx/nginx.conf ./nginx.conf
                   swrun cp ./site web:/usr/share/nginx/html
        """,
        options: [CommonOptions.lxcPath],
        arguments: [.init(name: "SOURCE", help: "CONTAINER:PATH or a host path.", completes: .containerPath),
                    .init(name: "DESTINATION", help: "A host path or CONTAINER:PATH.", completes: .containerPath)])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        try requireRoot("swrun cp")
        let store = try arguments.store()
        let (source, destination) = (arguments.arguments[0], arguments.arguments[1])
        switch (containerPath(source, store: store), containerPath(destination, store: store)) {
        case let ((name, path)?, nil):
            try store.withRoot(of: name) { (root, _) throws(SwrunError) in try ContainerCopy.copyOut(path, root: root, to: destination) }
        case let (nil, (name, path)?):
            guard FileSystem.exists(source) || FileSystem.kind(of: source) != nil else {
                throw SwrunError(.notFound, "\(source) does not exist on the host", hint: "check the path")
            }
            try store.withRoot(of: name) { (root, owner) throws(SwrunError) in try ContainerCopy.copyIn(source, root: root, to: path, owner: owner) }
        case (.some, .some):
            throw SwrunError(.invalidArgument, "swrun cp copies between a container and the host, not between two containers",
                             hint: "copy out to the host first, then in")
        case (nil, nil):
            throw SwrunError(.invalidArgument, "swrun cp: neither \(source) nor \(destination) names a container (CONTAINER:PATH)",
                             hint: "for example swrun cp web:/etc/hosts ./hosts; `swrun ps -a` lists the containers")
        }
        return 0
    }

    /// "NAME:PATH" where NAME is a container of the store.
    private static func containerPath(_ text: String, store: ContainerStore) -> (String, String)? {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return nil }
        let name = String(text[..<colon])
        guard !name.contains("/"), store.exists(name) else { return nil }
        let path = String(text[text.index(after: colon)...])
        return (name, path.isEmpty ? "/" : path)
    }
}
