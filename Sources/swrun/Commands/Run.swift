import ArgumentParser
import SwrunConfig
import SwrunRuntime
import SwrunSystem

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a container from an image when needed, then run a command in it (like docker run).",
        discussion: """
        IMAGE is a template name; today: \(ContainerCreator.templates.joined(separator: ", ")).
        With --name, an existing container of that name is reused. Without a command: /bin/sh.
        Exit status as for `swrun execute`: the command's, 128+N for signal N, 125 for swrun's own failures.
        Examples:  swrun run busybox
                   swrun run --rm busybox -- sh -c 'echo hi' | cat
        """
    )

    @Option(name: .long, help: "The container's name (default: IMAGE-xxxxxx).")
    var name: String?

    @Flag(name: .long, help: "Destroy the container when the command ends.")
    var rm = false

    @Option(name: [.customShort("f"), .customLong("config")], help: "Initial config for a new container, instead of lxc.default_config.")
    var config: String?

    @OptionGroup var path: LXCPathOption
    @OptionGroup var start: StartOptions

    @Argument(help: "The image (template) to build the container from.")
    var image: String

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.")
    var command: [String] = []

    func run() throws {
        try reportingErrors(containerExitCodes: true) { () throws(SwrunError) -> Int32 in
            try requireRoot("swrun run")
            guard ContainerCreator.templates.contains(image) else {
                throw SwrunError(.notFound, "image '\(image)' is not available",
                                 hint: "swrun can build these so far: \(ContainerCreator.templates.joined(separator: ", "))")
            }
            let store = try path.store()
            let name = self.name ?? ContainerName.generate(prefix: image)
            if !store.exists(name) {
                let creator = ContainerCreator(store: store, defaultConfigPath: try initialConfig(config))
                try creator.create(name: name, template: image)
            }
            var execution = ForegroundExecution(store: store, name: name)
            execution.command = command.first == "--" ? Array(command.dropFirst()) : command
            execution.extraSettings = try start.definedSettings()
            execution.useTerminal = start.useTerminal
            execution.explain = start.explain
            let result = Result { () throws(SwrunError) in try execution.run(warn: warn) }
            if rm {
                do { try store.destroy(name) } catch { warn("could not remove container \(name): \(error)") }
            }
            return try result.get().shellExitCode
        }
    }
}
