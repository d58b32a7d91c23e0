import SwrunRuntime
import SwrunSystem

enum RunCommand: Command {
    static let spec = CommandSpec(
        name: "run",
        abstract: "Create a container from an image when needed, then run a command in it (like docker run).",
        discussion: """
        IMAGE is a template name; today: \(ContainerCreator.templates.joined(separator: ", ")).
        With --name, an existing container of that name is reused. Without a command: /bin/sh.
        Exit status as for `swrun execute`.
        Examples:  swrun run busybox
                   swrun run --rm busybox sh -c 'echo hi' | cat
        """,
        options: [
            .init(short: nil, long: "name", value: "NAME", help: "The container's name (default: IMAGE-xxxxxx)."),
            .init(short: nil, long: "rm", value: nil, help: "Destroy the container when the command ends (if this run created it)."),
            CommonOptions.config, CommonOptions.lxcPath,
        ] + CommonOptions.start + CommonOptions.limits,
        arguments: [.init(name: "IMAGE", help: "The image (template) to build the container from.")],
        trailingCommand: true,
        containerExitCodes: true)

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        try requireRoot("swrun run")
        let image = arguments.arguments[0]
        guard ContainerCreator.templates.contains(image) else {
            throw SwrunError(.notFound, "image '\(image)' is not available",
                             hint: "swrun can build these so far: \(ContainerCreator.templates.joined(separator: ", "))")
        }
        let store = try arguments.store()
        let name = arguments.value("name") ?? ContainerName.generate(prefix: image)
        let created = !store.exists(name)
        if created {
            try ContainerCreator(store: store, defaultConfigPath: try arguments.initialConfig()).create(name: name, template: image)
        }
        var execution = ForegroundExecution(store: store, name: name)
        let result = Result { () throws(SwrunError) in
            try arguments.configure(&execution)
            return try execution.run(warn: warn)
        }
        if arguments.flag("rm") && created {
            do { try store.destroy(name) } catch { warn("could not remove container \(name): \(error)") }
        }
        return try result.get().shellExitCode
    }
}
