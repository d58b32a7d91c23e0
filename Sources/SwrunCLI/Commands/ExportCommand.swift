import Glibc
import SwrunRuntime
import SwrunSystem

enum ExportCommand: Command {
    static let spec = CommandSpec(
        name: "export",
        abstract: "Write a container's files as a tar archive (docker export).",
        discussion: """
        The files as the container sees them: its image's layers and its own changes merged, with
        numeric owners and extended attributes. A running container is read through its root;
        /proc, /sys and /dev are left out. `swrun import` takes the archive back as an image.
        Examples:  swrun export web > web.tar
                   swrun export -n web -o web.tar
        """,
        options: [CommonOptions.name, CommonOptions.lxcPath,
                  .init(short: "o", long: "output", value: "FILE", help: "Write the archive to FILE instead of standard output.")],
        arguments: [.init(name: "CONTAINER", help: "The container, as -n names it.", optional: true, completes: .container)])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        guard let name = arguments.value("name") ?? arguments.arguments.first, arguments.arguments.count <= 1,
              arguments.value("name") == nil || arguments.arguments.isEmpty else {
            throw SwrunError(.invalidArgument, "swrun export needs one container, as -n NAME or CONTAINER", hint: "swrun export web > web.tar")
        }
        try requireRoot("swrun export")
        let store = try arguments.store()
        guard let path = arguments.value("output") else {
            if Terminal.isTerminal(1) {
                throw SwrunError(.invalidArgument, "refusing to write a tar archive to the terminal", hint: "redirect it (> FILE) or give -o FILE")
            }
            try ContainerExport.export(name, of: store, to: 1)
            return 0
        }
        let partial = path + ".partial"
        let fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SwrunError.system("cannot write \(partial)", Errno.current) }
        do throws(SwrunError) {
            defer { close(fd) }
            try ContainerExport.export(name, of: store, to: fd)
        } catch {
            unlink(partial)
            throw error
        }
        guard rename(partial, path) == 0 else { throw SwrunError.system("cannot move \(partial) to \(path)", Errno.current) }
        return 0
    }
}
