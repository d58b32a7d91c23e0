import SwrunImages
import SwrunRuntime
import SwrunSystem

enum RunCommand: Command {
    static let spec = CommandSpec(
        name: "run",
        abstract: "Create a container from an image when needed, then run a command in it (like docker run).",
        discussion: """
        IMAGE is busybox (built from the host's busybox), a name given to `swrun import`, a short name
        (\(ImageCatalog.aliases.keys.sorted().joined(separator: ", "))) or an OCI reference (alpine:3.20,
        docker.io/library/centos:7, localhost:5000/NAME); images not cached yet are pulled first.
        With --name, an existing container of that name is reused. Without a command: /bin/sh.
        Exit status as for `swrun execute`.
        Examples:  swrun run busybox
                   swrun run --rm busybox sh -c 'echo hi' | cat
        """,
        options: [
            .init(short: nil, long: "name", value: "NAME", help: "The container's name (default: IMAGE-xxxxxx)."),
            .init(short: nil, long: "rm", value: nil, help: "Destroy the container when the command ends (if this run created it)."),
            CommonOptions.config, CommonOptions.lxcPath, CommonOptions.publish,
            .init(short: nil, long: "ca-file", value: "FILE", help: "Trust the CA certificates in FILE (PEM) when the image must be pulled."),
        ] + CommonOptions.start + CommonOptions.limits,
        arguments: [.init(name: "IMAGE", help: "The image (template) to build the container from.")],
        trailingCommand: true,
        containerExitCodes: true,
        entersContainers: true)

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        try requireRoot("swrun run")
        let image = arguments.arguments[0]
        let store = try arguments.store()
        AbandonedRuns(store: store).destroy(warn: warn)  // what earlier `run --rm`s killed before their end left
        let name = arguments.value("name") ?? ContainerName.generate(prefix: imageNamePrefix(image))
        let created = !store.exists(name)
        let ports = try CommonOptions.publishedPorts(arguments)
        if created {
            let template = try localTemplate(image, caFile: arguments.value("ca-file"))
            var creator = ContainerCreator(store: store, defaultConfigPath: try arguments.initialConfig(),
                                           report: { printError("swrun: \($0)") })
            if arguments.flag("rm") { creator.removeWith = ProcessIdentity.current }
            try creator.create(name: name, from: template)
            try CommonOptions.record(ports, store: store, name: name)
        } else if !ports.isEmpty {
            throw SwrunError(.invalidArgument, "-p applies to a new container; '\(name)' exists",
                             hint: "edit the ports in \(store.directory(of: name))/swrun.json, or run a new container")
        }
        var execution = ForegroundExecution(store: store, name: name)
        let result = Result { () throws(SwrunError) in
            try arguments.configure(&execution)
            // As `docker run IMAGE CMD`: a given command goes after the image's entrypoint.
            let sidecar = try ContainerSidecar.load(from: store.directory(of: name))
            if let command = execution.command, !command.isEmpty { execution.command = sidecar.entrypoint + command }
            return try execution.run(warn: warn)
        }
        if arguments.flag("rm") && created {
            do { try store.destroy(name) } catch { warn("could not remove container \(name): \(error)") }
        }
        return try result.get().shellExitCode
    }

    /// The image from the local caches, pulled first when missing. The pull runs in a child
    /// swrun: network work never happens in the process that goes on to fork the container.
    static func localTemplate(_ image: String, caFile: String?) throws(SwrunError) -> any RootfsTemplate {
        let catalog = imageCatalog()
        if let template = try catalog.localTemplate(image) { return template }
        let pull = [Subprocess.currentExecutable, "pull"] + (caFile.map { ["--ca-file", $0] } ?? []) + [image]
        let status = try Subprocess.run(pull).status
        guard status == 0, let template = try catalog.localTemplate(image) else {
            throw SwrunError(.notFound, "cannot get the image '\(image)'", hint: "see the error above; `swrun images` lists what is cached")
        }
        return template
    }

    /// "docker.io/library/alpine:3.20" names its containers alpine-xxxxxx.
    static func imageNamePrefix(_ image: String) -> String {
        let last = image.split(separator: "/").last.map(String.init) ?? image
        let base = last.split(separator: "@").first.flatMap { $0.split(separator: ":").first }.map(String.init) ?? last
        let cleaned = base.filter { $0.isLetter || $0.isNumber || $0 == "-" }
        return cleaned.isEmpty ? "image" : cleaned
    }
}
