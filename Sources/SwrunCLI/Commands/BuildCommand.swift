import Glibc
import SwrunImages
import SwrunRuntime
import SwrunSystem

enum BuildCommand: Command {
    static let spec = CommandSpec(
        name: "build",
        abstract: "Build an image from a Dockerfile (Containerfile) and a context directory (docker build).",
        discussion: """
        Every instruction of Docker's is read with its semantics: FROM (an image, scratch, an
        earlier stage, ARG before FROM), RUN (shell and exec forms, SHELL, heredocs), COPY
        (--from, --chown, --chmod, globs, .dockerignore), ADD (local tar archives unpacked, URLs
        with --checksum), ENV, ARG, WORKDIR, USER, ENTRYPOINT, CMD, EXPOSE, LABEL, VOLUME,
        STOPSIGNAL, HEALTHCHECK, ONBUILD, MAINTAINER, and the escape directive. Each RUN runs as
        a container of the image so far, on the default bridge unless --network none, and its
        changes become a layer; COPY and ADD make a layer of what they copy. A step made before
        over the same image, with the same files and build arguments, is taken from the cache
        (`swrun image prune` empties it). The image goes to the local store under each -t (and
        is printed by its digest), ready for `swrun run`, `swrun push`, `swrun save`.
        Examples:  swrun build -t web:v1 .
                   swrun build -f Containerfile --build-arg VERSION=2 --target runtime -t app .
                   swrun build -t tools --output type=oci,dest=tools.tar .
        """,
        options: [
            .init(short: "t", long: "tag", value: "NAME[:TAG]", help: "Name the image (repeatable).", repeats: true, completes: .image),
            .init(short: "f", long: "file", value: "FILE", help: "The Dockerfile (default CONTEXT/Dockerfile, else CONTEXT/Containerfile; - for stdin).",
                  completes: .file),
            .init(short: nil, long: "build-arg", value: "NAME[=VALUE]", help: "A value for an ARG (without =VALUE: this environment's).", repeats: true),
            .init(short: nil, long: "target", value: "STAGE", help: "Build up to this stage (by name or number)."),
            .init(short: nil, long: "no-cache", value: nil, help: "Make every step again."),
            .init(short: nil, long: "pull", value: nil, help: "Pull the base images even where they are cached."),
            .init(short: nil, long: "network", value: "default|none", help: "RUN's network (default: a veth on the default bridge).",
                  choices: ["default", "none"]),
            .init(short: "q", long: "quiet", value: nil, help: "Print only the image's digest."),
            .init(short: nil, long: "output", value: "type=oci|docker|tar,dest=FILE", help: "Also write the image (or its files, tar) to FILE (- for stdout)."),
            .init(short: nil, long: "ca-file", value: "FILE", help: "Trust the CA certificates in FILE (PEM) for pulls and ADD URL.", completes: .file),
        ],
        arguments: [.init(name: "CONTEXT", help: "The directory COPY and ADD read from.", completes: .directory)],
        entersContainers: true)

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        try requireRoot("swrun build")
        let context = arguments.arguments[0]
        guard FileSystem.isDirectory(context) else {
            throw SwrunError(.notFound, "the build context \(context) is not a directory", hint: "give the directory COPY and ADD read from, e.g. .")
        }
        // Everything on the command line is checked before anything is pulled or made.
        let dockerfile = try readDockerfile(arguments.value("file"), context: context)
        var options = ImageBuilder.Options(context: absolute(context), dockerfile: dockerfile)
        options.tags = try arguments.values("tag").map { text throws(SwrunError) in
            let reference = try ImageReference(text)
            guard reference.digest == nil else { throw SwrunError(.invalidArgument, "-t \(text): a tag, not a digest", hint: "give NAME[:TAG]") }
            return reference
        }
        for text in arguments.values("build-arg") {
            guard let equals = text.firstIndex(of: "=") else {
                guard !text.isEmpty else { throw SwrunError(.invalidArgument, "--build-arg: no name", hint: "write --build-arg NAME=VALUE") }
                if let value = HostEnvironment.value(text) { options.buildArguments[text] = value }
                continue
            }
            let name = String(text[..<equals])
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw SwrunError(.invalidArgument, "--build-arg \(text): '\(name)' is not an ARG name", hint: "write --build-arg NAME=VALUE")
            }
            options.buildArguments[name] = String(text[text.index(after: equals)...])
        }
        options.target = arguments.value("target")
        options.noCache = arguments.flag("no-cache")
        options.pullAlways = arguments.flag("pull")
        options.caFile = arguments.value("ca-file")
        switch arguments.value("network") ?? "default" {
        case "default", "bridge": options.network = true
        case "none": options.network = false
        case let other: throw SwrunError(.invalidArgument, "--network \(other): RUN has the default bridge or none", hint: "use --network default or --network none")
        }
        let output = try arguments.value("output").map { text throws(SwrunError) in try Output(parsing: text) }
        let quiet = arguments.flag("quiet")
        options.quiet = quiet
        for note in dockerfile.notes where !quiet { printError("swrun: note: \(note)") }

        // RUN's commands read nothing of the build's stdin (a Dockerfile may have come from it).
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        if null >= 0 {
            dup2(null, 0)
            close(null)
        }
        let catalog = imageCatalog(quiet: quiet)
        let store = try BuildStore(store: catalog.ociStore)
        let builder = ImageBuilder(options: options, store: store, pull: { (image) throws(SwrunError) in
            let command = [Subprocess.currentExecutable, "pull"] + (quiet ? ["-q"] : []) + (options.caFile.map { ["--ca-file", $0] } ?? []) + [image]
            guard try Subprocess.run(command).status == 0 else {
                throw SwrunError(.notFound, "cannot get the image '\(image)'", hint: "see the error above; `swrun images` lists what is cached")
            }
        }, report: quiet ? { _ in } : { print($0); fflush(nil) })
        let built = try builder.build()
        var digest = built.digest
        if options.tags.isEmpty {
            // No name given: one made of the digest, so the image can be run and is not pruned.
            let named = try ImageReference("localhost/swrun-build:" + String(built.digest.dropFirst("sha256:".count).prefix(12)))
            digest = try store.write(built.image, tags: [named])
            if !quiet { print("named \(named)") }
        }
        if let output { try output.write(built.image, digest: digest, tags: options.tags, store: catalog.ociStore) }
        print(digest)
        return 0
    }

    /// -f FILE (- for stdin), else CONTEXT/Dockerfile, else CONTEXT/Containerfile.
    static func readDockerfile(_ option: String?, context: String) throws(SwrunError) -> Dockerfile {
        if option == "-" {
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while case let count = read(0, &chunk, chunk.count), count > 0 { bytes += chunk[0..<count] }
            return try Dockerfile(text: String(decoding: bytes, as: UTF8.self), path: "Dockerfile (stdin)")
        }
        let candidates = option.map { [$0] } ?? [FileSystem.join(context, "Dockerfile"), FileSystem.join(context, "Containerfile")]
        guard let path = candidates.first(where: { FileSystem.exists($0) }) else {
            throw SwrunError(.notFound, "no Dockerfile: \(candidates.joined(separator: " nor ")) exists",
                             hint: "write one, or name it with -f FILE")
        }
        guard FileSystem.kind(of: path) == .regular else {
            throw SwrunError(.invalidArgument, "\(path) is not a file (a directory?)", hint: "give the Dockerfile itself with -f")
        }
        return try Dockerfile(text: try FileSystem.readText(path), path: path)
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        return FileSystem.join(String(cString: buffer), path)
    }

    /// --output type=oci|docker|tar,dest=FILE
    struct Output {
        enum Kind: String { case oci, docker, tar }
        var kind: Kind
        var destination: String

        init(parsing text: String) throws(SwrunError) {
            var fields: [String: String] = [:]
            for item in text.split(separator: ",") {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw SwrunError(.invalidArgument, "--output \(text): '\(item)' is not KEY=VALUE", hint: "write type=oci,dest=FILE") }
                fields[parts[0]] = parts[1]
            }
            guard let type = fields["type"].flatMap(Kind.init(rawValue:)) else {
                throw SwrunError(.invalidArgument, "--output \(text): type is oci, docker or tar", hint: "write type=oci,dest=FILE")
            }
            guard let destination = fields["dest"], !destination.isEmpty else {
                throw SwrunError(.invalidArgument, "--output \(text): no dest", hint: "write type=\(type.rawValue),dest=FILE (- for stdout)")
            }
            if destination == "-" && Terminal.isTerminal(1) {
                throw SwrunError(.invalidArgument, "refusing to write a tar archive to the terminal", hint: "redirect it (> FILE) or give dest=FILE")
            }
            (kind, self.destination) = (type, destination)
        }

        func write(_ image: BuildImage, digest: String, tags: [ImageReference], store: OCIStore) throws(SwrunError) {
            switch kind {
            case .oci, .docker:
                // One archive serves both: an OCI layout that is also a docker save archive.
                let names = tags.isEmpty ? ["localhost/swrun-build:" + String(digest.dropFirst("sha256:".count).prefix(12))] : tags.map(\.description)
                try ImageArchive(store: store).save(names, to: destination)
            case .tar:
                try BuildExport.rootfs(of: image, to: destination)
            }
        }
    }
}
