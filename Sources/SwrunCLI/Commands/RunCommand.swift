import SwrunImages
import SwrunRuntime
import SwrunSystem

enum RunCommand: Command {
    static let spec = CommandSpec(
        name: "run",
        abstract: "Create a container from an image, then run a command in it (like docker run).",
        discussion: """
        IMAGE is busybox (built from the host's busybox), a name given to `swrun import`, a short name
        (\(ImageCatalog.aliases.keys.sorted().joined(separator: ", "))) or an OCI reference (alpine:3.20,
        docker.io/library/centos:7, localhost:5000/NAME); images not cached yet are pulled first.
        As with Docker, options come before IMAGE: everything after it is the command and its arguments.
        Each run makes a new container; --name of an existing one is an error unless --replace.
        Without a command: the image's, else /bin/sh. With -d the container is started (as
        `swrun start`) and its name printed; `swrun logs` shows its output. Exit status as for
        `swrun execute`; 125 when swrun itself fails.
        \(ContainerOptions.privilegedNote)
        Examples:  swrun run busybox
                   swrun run --rm -e GREETING=hi busybox sh -c 'echo $GREETING' | cat
                   swrun run -d --name web -p 8080:80 -v /srv/www:/www:ro busybox httpd -f -h /www
        """,
        options: [
            .init(short: nil, long: "name", value: "NAME", help: "The container's name (default: IMAGE-xxxxxx)."),
            .init(short: nil, long: "rm", value: nil, help: "Destroy the container when the command ends (with -d: when it stops)."),
            .init(short: nil, long: "replace", value: nil, help: "With --name: stop and destroy an existing container of that name first."),
            .init(short: "d", long: "detach", value: nil, help: "Start the container in the background and print its name."),
            .init(short: "i", long: "interactive", value: nil, help: "Keep stdin attached (swrun always does; accepted for Docker's command lines)."),
            .init(short: "h", long: "hostname", value: "NAME", help: "The container's hostname (lxc.uts.name)."),
            .init(short: "q", long: "quiet", value: nil, help: "No progress while the image is pulled and unpacked."),
            .init(short: nil, long: "pull", value: "always|missing|never", help: "When to pull the image (default missing).",
                  choices: ["always", "missing", "never"]),
            .init(short: nil, long: "init", value: nil,
                  help: "Accepted: in the foreground swrun's own init is always PID 1 (it reaps and forwards signals); with -d the command is."),
            CommonOptions.config, CommonOptions.lxcPath, CommonOptions.publish,
            .init(short: nil, long: "ca-file", value: "FILE", help: "Trust the CA certificates in FILE (PEM) when the image must be pulled.", completes: .file),
        ] + ContainerOptions.options.filter { $0.long != "hostname" } + CommonOptions.start + CommonOptions.limits,
        arguments: [.init(name: "IMAGE", help: "The image (template) to build the container from.", completes: .image)],
        trailingCommand: true,
        optionsBeforeArguments: true,
        containerExitCodes: true,
        entersContainers: true)

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        try requireRoot("swrun run")
        let image = arguments.arguments[0]
        let store = try arguments.store()
        // Everything the command line says is checked before anything is pulled or made.
        if let name = arguments.value("name") { try ContainerName.validate(name) }
        let name = arguments.value("name") ?? ContainerName.generate(prefix: imageNamePrefix(image))
        let pull = try PullPolicy(arguments.value("pull") ?? "missing")
        var customization = try ContainerOptions.customization(arguments, volumes: volumesDirectory())
        customization.ephemeral = arguments.flag("detach") && arguments.flag("rm")
        customization.keepsConsoleLog = true  // for `swrun logs`, as Docker keeps every container's output
        if !arguments.command.isEmpty { customization.command = arguments.command }
        let settings = try arguments.definedSettings()
        try ContainerSpec.check(limits: settings)
        // The limits stay with the container (a restart keeps them), as Docker's do.
        customization.limits = try arguments.limitSettings().map { ($0.key, $0.value) }
        let quiet = arguments.flag("quiet")
        let report: (String) -> Void = quiet ? { _ in } : { printError("swrun: \($0)") }

        AbandonedRuns(store: store).destroy(warn: warn)  // what earlier `run --rm`s killed before their end left
        if store.exists(name) {
            guard arguments.flag("replace") else {
                throw SwrunError(.alreadyExists, "a container named '\(name)' exists in \(store.lxcPath)",
                                 hint: "pick another --name, remove it (swrun rm \(name)), add --replace, or run a command in it with swrun exec \(name) CMD")
            }
            try store.destroyKillingIt(name, warn: warn)
        }
        let template = try localTemplate(image, caFile: arguments.value("ca-file"), pull: pull, quiet: quiet)
        if !arguments.command.isEmpty && !(template is OCITemplate) {
            // An application in a system template's rootfs (busybox), not its init: it stops on
            // SIGTERM within Docker's 10 s. An image says so itself (its StopSignal, else SIGTERM).
            if customization.stopSignal == nil { customization.stopSignal = "SIGTERM" }
            if customization.stopTimeout == nil { customization.stopTimeout = ContainerSidecar.applicationStopTimeout }
        }
        var creator = ContainerCreator(store: store, defaultConfigPath: try arguments.initialConfig(), report: report)
        // -d --rm is lxc.ephemeral: the monitor destroys it at its stop, and no run waits for it.
        if arguments.flag("rm") && !arguments.flag("detach") { creator.removeWith = ProcessIdentity.current }
        try creator.create(name: name, from: template, customization: customization)
        // As `docker run IMAGE CMD`: a given command goes after the image's entrypoint (the
        // container keeps it: see ContainerCustomization.command).
        let command = arguments.command.isEmpty ? [] : try ContainerSidecar.load(from: store.directory(of: name)).argv ?? []
        if arguments.flag("detach") {
            do {
                try ContainerMonitor.startDetached(MonitorRequest(name: name, lxcPath: store.lxcPath, settings: settings, command: command,
                                                                  explain: arguments.flag("explain"),
                                                                  // As Docker's: a command that ends at once is no failed start.
                                                                  settleMilliseconds: 0))
            } catch {
                if arguments.flag("rm") { try? store.destroy(name) }
                throw error
            }
            print(name)
            return 0
        }
        var execution = ForegroundExecution(store: store, name: name)
        let result = Result { () throws(SwrunError) in
            try arguments.configure(&execution)
            execution.command = command.isEmpty ? nil : command
            return try execution.run(warn: warn)
        }
        if arguments.flag("rm") {
            do { try store.destroy(name) } catch { warn("could not remove container \(name): \(error)") }
            if case .failure(var error) = result, error.hint?.contains(name) == true {
                // Its hint would send the user to a container that is gone.
                error.hint = "the container \(name) was removed (--rm); run without --rm to keep it for a look"
                throw error
            }
        }
        return try result.get().shellExitCode
    }

    /// --pull: when the image is fetched from its registry.
    enum PullPolicy {
        case always, missing, never

        init(_ text: String) throws(SwrunError) {
            switch text {
            case "always": self = .always
            case "missing": self = .missing
            case "never": self = .never
            default: throw SwrunError(.invalidArgument, "--pull \(text): not a pull policy", hint: "use always, missing or never")
            }
        }
    }

    /// The image from the local caches, pulled first when missing (or always, or never). The
    /// pull runs in a child swrun: network work never happens in the process that goes on to
    /// fork the container.
    static func localTemplate(_ image: String, caFile: String?, pull: PullPolicy = .missing, quiet: Bool = false) throws(SwrunError) -> any RootfsTemplate {
        let catalog = imageCatalog(quiet: quiet)
        if pull != .always, let template = try catalog.localTemplate(image) { return template }
        guard pull != .never else {
            throw SwrunError(.notFound, "the image '\(image)' is not cached, and --pull never forbids pulling it",
                             hint: "pull it first (swrun pull \(image)), or drop --pull never; `swrun images` lists what is cached")
        }
        let command = [Subprocess.currentExecutable, "pull"] + (quiet ? ["-q"] : []) + (caFile.map { ["--ca-file", $0] } ?? []) + [image]
        let status = try Subprocess.run(command).status
        guard status == 0, let template = try catalog.localTemplate(image) else {
            throw SwrunError(.notFound, "cannot get the image '\(image)'", hint: "see the error above; `swrun images` lists what is cached")
        }
        return template
    }

    /// Named volumes (-v NAME:/path) live beside the image cache.
    static func volumesDirectory() -> String {
        FileSystem.join(OCIStore.defaultRoot(environment: cacheEnvironment), "volumes")
    }

    /// "docker.io/library/alpine:3.20" names its containers alpine-xxxxxx.
    static func imageNamePrefix(_ image: String) -> String {
        let last = image.split(separator: "/").last.map(String.init) ?? image
        let base = last.split(separator: "@").first.flatMap { $0.split(separator: ":").first }.map(String.init) ?? last
        let cleaned = base.filter { $0.isLetter || $0.isNumber || $0 == "-" }
        return cleaned.isEmpty ? "image" : cleaned
    }
}
