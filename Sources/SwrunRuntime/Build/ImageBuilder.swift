import Glibc
import SwrunConfig
import SwrunImages
import SwrunJSON
import SwrunSystem

/// `swrun build`: a Dockerfile's stages run in order, each instruction a step over the image
/// so far, with Docker's semantics. RUN runs as a container (an overlay of the image's layers
/// under a fresh upper directory, in a scratch LXCPATH) whose upper becomes the step's layer;
/// COPY and ADD fill a layer's directory directly; the other instructions change the config.
/// Each step is looked up first in the build cache, keyed as Docker keys it: the image before
/// it, the instruction, the files it reads, the build arguments in use.
public struct ImageBuilder {
    public struct Options {
        public var context: String
        public var dockerfile: Dockerfile
        public var tags: [ImageReference] = []
        public var buildArguments: [String: String] = [:]
        public var target: String?
        public var noCache = false
        public var pullAlways = false
        /// RUN on the default bridge (lxcbr0, made on demand), or with loopback only.
        public var network = true
        public var caFile: String?
        /// RUN's output goes to a log, shown only when the step fails (build -q).
        public var quiet = false

        public init(context: String, dockerfile: Dockerfile) {
            self.context = context
            self.dockerfile = dockerfile
        }
    }

    public let options: Options
    let store: BuildStore
    /// Pulls an image into the cache (in a child swrun: no network in a process that forks containers).
    let pull: (String) throws(SwrunError) -> Void
    /// Progress lines ("STEP 2/7: RUN ...") and notes.
    let report: (String) -> Void
    /// Where RUN's containers and COPY's layers are made; removed at the end.
    let scratch: String
    /// The step being made ("step 3/7"), for errors.
    let step = StepLabel()

    final class StepLabel { var text = "" }

    /// ARG names Docker knows without a declaration (and leaves out of the history).
    static let proxyArguments: Set<String> = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
                                              "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"]

    public init(options: Options, store: BuildStore, pull: @escaping (String) throws(SwrunError) -> Void, report: @escaping (String) -> Void) {
        self.options = options
        self.store = store
        self.pull = pull
        self.report = report
        scratch = FileSystem.join(store.store.root, "build/\(getpid())")
    }

    /// A stage: its FROM and instructions, its name, and what it made.
    struct Stage {
        var index: Int
        var name: String?
        var from: Dockerfile.Instruction
        var instructions: [Dockerfile.Instruction]
        var image = BuildImage.scratch
        var arguments: [String: String] = [:]
        var cacheKey = ""
        /// CMD and ENTRYPOINT as this stage gave them (an ENTRYPOINT keeps a CMD of the stage's own).
        var given: Set<String> = []
    }

    /// Builds the target stage (or the last) and the stages it needs; writes it under the
    /// tags and returns it with its digest.
    public func build() throws(SwrunError) -> (image: BuildImage, digest: String) {
        try? FileSystem.removeTree(scratch)
        try FileSystem.makeDirectories(scratch, mode: 0o700)
        defer {
            try? FileSystem.removeTree(scratch)
            rmdir(FileSystem.parentPath(scratch))  // CACHE/build, once no other build uses it
        }
        var (stages, globals) = try split(options.dockerfile)
        let target = try targetIndex(stages)
        let needed = try neededStages(stages, target: target, globals: globals)
        let total = needed.reduce(0) { $0 + 1 + stages[$1].instructions.count }
        var step = 0
        for index in needed.sorted() {
            try run(&stages, index, globals: &globals, step: &step, total: total)
        }
        let image = stages[target].image
        let digest = try store.write(image, tags: options.tags)
        return (image, digest)
    }

    // MARK: stages

    func split(_ file: Dockerfile) throws(SwrunError) -> ([Stage], [String: String]) {
        var stages: [Stage] = []
        var globals: [String: String] = [:]
        for instruction in file.instructions {
            if instruction.keyword == "FROM" {
                let words = instruction.arguments.split(separator: " ").map(String.init)
                var name: String?
                if words.count == 3 && words[1].uppercased() == "AS" {
                    name = words[2].lowercased()
                } else if words.count != 1 {
                    throw fail(instruction, "FROM takes IMAGE [AS NAME]", hint: "for example: FROM debian:12 AS build")
                }
                if let name, stages.contains(where: { $0.name == name }) {
                    throw fail(instruction, "a stage named '\(name)' is there already", hint: "give each stage a name of its own")
                }
                stages.append(Stage(index: stages.count, name: name, from: instruction, instructions: []))
            } else if stages.isEmpty {
                // ARG before the first FROM: a global, for FROM lines and for ARGs that name it again.
                for (key, value) in try declaredArguments(instruction, BuildWords(values: globals, escape: file.escape)) {
                    globals[key] = options.buildArguments[key] ?? value ?? ""
                }
            } else {
                stages[stages.count - 1].instructions.append(instruction)
            }
        }
        return (stages, globals)
    }

    func targetIndex(_ stages: [Stage]) throws(SwrunError) -> Int {
        guard let target = options.target else { return stages.count - 1 }
        guard let index = stages.firstIndex(where: { $0.name == target.lowercased() }) ?? Int(target).flatMap({ $0 < stages.count ? $0 : nil }) else {
            let names = stages.compactMap(\.name)
            throw SwrunError(.invalidArgument, "--target \(target): the Dockerfile has no such stage",
                             hint: names.isEmpty ? "its stages have no names: give them with FROM IMAGE AS NAME" : "its stages are " + names.joined(separator: ", "))
        }
        return index
    }

    /// The target and, transitively, the stages its FROM and COPY --from name.
    func neededStages(_ stages: [Stage], target: Int, globals: [String: String]) throws(SwrunError) -> Set<Int> {
        var needed: Set<Int> = []
        var pending = [target]
        while let index = pending.popLast() {
            guard needed.insert(index).inserted else { continue }
            let stage = stages[index]
            let base = try BuildWords(values: globals, escape: options.dockerfile.escape).expand(String(stage.from.arguments.split(separator: " ")[0]))
            if let named = stageIndex(base, in: stages, before: index) { pending.append(named) }
            for instruction in stage.instructions where instruction.keyword == "COPY" {
                if let from = instruction.flag("from"), let named = stageIndex(from, in: stages, before: index) { pending.append(named) }
            }
        }
        return needed
    }

    func stageIndex(_ reference: String, in stages: [Stage], before limit: Int) -> Int? {
        if let index = stages.prefix(limit).firstIndex(where: { $0.name == reference.lowercased() }) { return index }
        if let number = Int(reference), number >= 0, number < limit { return number }
        return nil
    }

    func run(_ stages: inout [Stage], _ index: Int, globals: inout [String: String], step: inout Int, total: Int) throws(SwrunError) {
        var stage = stages[index]
        step += 1
        let words = BuildWords(values: globals, escape: options.dockerfile.escape)
        let baseName = try words.expand(String(stage.from.arguments.split(separator: " ")[0]))
        report("STEP \(step)/\(total): FROM \(baseName)" + (stage.name.map { " AS \($0)" } ?? ""))
        if let platform = stage.from.flag("platform"), platform != "linux/\(ImageManifest.platform(machine: Architecture.hostMachine).architecture)" {
            throw fail(stage.from, "--platform \(platform): this host builds for linux/\(ImageManifest.platform(machine: Architecture.hostMachine).architecture) only",
                       hint: "drop --platform")
        }
        if baseName == "scratch" {
            stage.image = .scratch
        } else if let named = stageIndex(baseName, in: stages, before: index) {
            stage.image = stages[named].image
        } else {
            stage.image = try baseImage(baseName, instruction: stage.from)
        }
        // As Docker and buildah: an image without a PATH gets the default one in its config.
        if stage.image.environmentValues["PATH"] == nil { stage.image.setEnvironment("PATH", StartPlan.defaultPath) }
        stage.cacheKey = Self.digest("FROM " + stage.image.fingerprint)
        // The base image's ONBUILD triggers run first, and are not inherited further.
        let triggers = stage.image.onBuild
        if !triggers.isEmpty {
            stage.image.run["OnBuild"] = nil
            let text = triggers.joined(separator: "\n")
            let parsed = try Dockerfile(text: "FROM scratch\n" + text, path: "ONBUILD of \(baseName)")
            for trigger in parsed.instructions.dropFirst() {
                report("  ONBUILD \(trigger.original)")
                try perform(trigger, in: &stage, stages: stages, globals: globals)
            }
        }
        for instruction in stage.instructions {
            step += 1
            let started = monotonicMilliseconds()
            report("STEP \(step)/\(total): \(instruction.original)")
            self.step.text = "step \(step)/\(total)"
            try perform(instruction, in: &stage, stages: stages, globals: globals)
            let elapsed = monotonicMilliseconds() - started
            if elapsed >= 1000 { report("  done in \(elapsed / 1000).\((elapsed % 1000) / 100) s") }
        }
        stages[index] = stage
    }

    func baseImage(_ name: String, instruction: Dockerfile.Instruction) throws(SwrunError) -> BuildImage {
        if !options.pullAlways, let image = try store.image(name, report: report) { return image }
        try pull(name)
        guard let image = try store.image(name, report: report) else {
            throw fail(instruction, "cannot get the image '\(name)'", hint: "see the error above; `swrun images` lists what is cached")
        }
        return image
    }

    // MARK: instructions

    func perform(_ instruction: Dockerfile.Instruction, in stage: inout Stage, stages: [Stage], globals: [String: String]) throws(SwrunError) {
        let makesLayer = ["RUN", "COPY", "ADD", "WORKDIR"].contains(instruction.keyword)
        // A step that changes only the config is cached too, so that a rebuild with nothing
        // changed gives the very same image (same history times, same digest).
        let key = Self.digest(stage.cacheKey + "\n" + instruction.original + "\n"
                              + stage.arguments.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n"))
        try apply(instruction, in: &stage, stages: stages, globals: globals)
        guard !makesLayer else { return }
        if !options.noCache, let cached = store.cached(key) {
            stage.image = cached
        } else {
            try store.remember(stage.image, as: key)
        }
        stage.cacheKey = key
    }

    func apply(_ instruction: Dockerfile.Instruction, in stage: inout Stage, stages: [Stage], globals: [String: String]) throws(SwrunError) {
        var values = stage.image.environmentValues
        for (key, value) in stage.arguments { values[key] = value }
        let words = BuildWords(values: values, escape: options.dockerfile.escape)
        let now = WallClock.now("%Y-%m-%dT%H:%M:%SZ", utc: true)
        func nop(_ text: String) { stage.image.record("/bin/sh -c #(nop) " + text, layer: false, time: now) }
        func expanded(_ text: String) throws(SwrunError) -> String {
            do { return try words.expand(text) } catch { throw fail(instruction, error.message, hint: error.hint ?? "") }
        }
        switch instruction.keyword {
        case "ENV":
            for (key, value) in try pairs(instruction, words) { stage.image.setEnvironment(key, value) }
            nop("ENV " + instruction.arguments)
        case "ARG":
            for (key, value) in try declaredArguments(instruction, words) {
                stage.arguments[key] = options.buildArguments[key] ?? value ?? globals[key] ?? ""
            }
            nop("ARG " + instruction.arguments)
        case "LABEL":
            var labels = stage.image.run["Labels"]?.object ?? [:]
            for (key, value) in try pairs(instruction, words) { labels[key] = .string(value) }
            stage.image.run["Labels"] = .object(labels)
            nop("LABEL " + instruction.arguments)
        case "MAINTAINER":
            stage.image.document["author"] = .string(try expanded(instruction.arguments))
            nop("MAINTAINER " + instruction.arguments)
        case "EXPOSE":
            var ports: [String] = []
            for port in try words.words(instruction.arguments) {
                let spelled = port.contains("/") ? port.lowercased() : port + "/tcp"
                guard let number = UInt16(spelled.split(separator: "/")[0]), number > 0, ["tcp", "udp", "sctp"].contains(String(spelled.split(separator: "/").last ?? "")) else {
                    throw fail(instruction, "'\(port)' is not a port to expose", hint: "write PORT or PORT/tcp, PORT/udp")
                }
                ports.append(spelled)
            }
            stage.image.addKeys(ports, to: "ExposedPorts")
            nop("EXPOSE " + instruction.arguments)
        case "VOLUME":
            var named: [String]
            if let exec = instruction.execForm { named = exec } else { named = try words.words(instruction.arguments) }
            named = try named.map { volume throws(SwrunError) in try expanded(volume) }
            stage.image.addKeys(named, to: "Volumes")
            nop("VOLUME " + instruction.arguments)
        case "USER":
            stage.image.run["User"] = .string(try expanded(instruction.arguments))
            nop("USER " + instruction.arguments)
        case "STOPSIGNAL":
            let signal = try expanded(instruction.arguments)
            guard SignalNames.parse(signal) != nil else { throw fail(instruction, "'\(signal)' is not a signal", hint: "for example STOPSIGNAL SIGQUIT") }
            stage.image.run["StopSignal"] = .string(signal)
            nop("STOPSIGNAL " + signal)
        case "WORKDIR":
            let directory = try expanded(instruction.arguments)
            let absolute = directory.hasPrefix("/") ? directory : FileSystem.join(stage.image.workingDirectory, directory)
            stage.image.run["WorkingDir"] = .string(absolute)
            // Made now, as Docker makes it (a layer of one directory): a COPY or RUN may go there next.
            let lowers = stage.image.lowers
            if lowers.contains(where: { FileSystem.isDirectory($0 + absolute) }) {
                nop("WORKDIR " + absolute)
            } else {
                try cachedStep(&stage, key: "WORKDIR " + absolute, createdBy: "/bin/sh -c #(nop) WORKDIR " + absolute) { (layer) throws(SwrunError) in
                    try BuildCopy(root: options.context, lowers: lowers).makeDirectory(absolute, in: layer)
                }
            }
        case "ENTRYPOINT", "CMD":
            let argv = instruction.execForm ?? (stage.image.shell + [instruction.arguments])
            let key = instruction.keyword == "CMD" ? "Cmd" : "Entrypoint"
            stage.image.run[key] = .array(argv.map { .string($0) })
            // Docker: an ENTRYPOINT clears the CMD that came with the base image.
            if instruction.keyword == "ENTRYPOINT" && !stage.given.contains("CMD") { stage.image.run["Cmd"] = nil }
            stage.given.insert(instruction.keyword)
            // As buildah writes it: ["a", "b"].
            nop("\(instruction.keyword) [" + argv.map { JSONValue.string($0).serialized }.joined(separator: ", ") + "]")
        case "SHELL":
            guard let shell = instruction.execForm, !shell.isEmpty else {
                throw fail(instruction, "SHELL takes the JSON form", hint: "for example: SHELL [\"/bin/bash\", \"-c\"]")
            }
            stage.image.run["Shell"] = .array(shell.map { .string($0) })
            nop("SHELL " + instruction.arguments)
        case "HEALTHCHECK":
            stage.image.run["Healthcheck"] = try healthcheck(instruction)
            nop("HEALTHCHECK " + instruction.original.dropFirst("HEALTHCHECK".count).drop { $0 == " " })
        case "ONBUILD":
            let trigger = instruction.arguments
            let keyword = String(trigger.prefix { $0 != " " }).uppercased()
            guard Dockerfile.keywords.contains(keyword), !["ONBUILD", "FROM", "MAINTAINER"].contains(keyword) else {
                throw fail(instruction, "ONBUILD cannot take \(keyword)", hint: "ONBUILD takes any instruction but ONBUILD, FROM and MAINTAINER")
            }
            stage.image.run["OnBuild"] = .array((stage.image.onBuild + [trigger]).map { .string($0) })
            nop("ONBUILD " + trigger)
        case "RUN":
            try runStep(instruction, in: &stage)
        case "COPY", "ADD":
            try copyStep(instruction, in: &stage, stages: stages, words: words)
        default:
            throw fail(instruction, "\(instruction.keyword) is not built", hint: "see swrun build --help")
        }
    }

    /// ARG NAME[=DEFAULT]...
    func declaredArguments(_ instruction: Dockerfile.Instruction, _ words: BuildWords) throws(SwrunError) -> [(String, String?)] {
        do {
            return try words.pairs(instruction.arguments, allowsBareKey: true).map { ($0.key, $0.value) }
        } catch {
            throw fail(instruction, error.message, hint: error.hint ?? "")
        }
    }

    func pairs(_ instruction: Dockerfile.Instruction, _ words: BuildWords) throws(SwrunError) -> [(String, String)] {
        do {
            return try words.pairs(instruction.arguments).map { ($0.key, $0.value ?? "") }
        } catch {
            throw fail(instruction, error.message, hint: error.hint ?? "")
        }
    }

    func healthcheck(_ instruction: Dockerfile.Instruction) throws(SwrunError) -> JSONValue {
        if instruction.arguments.uppercased() == "NONE" { return .object(["Test": .array([.string("NONE")])]) }
        var check: [String: JSONValue] = [:]
        let rest = Substring(instruction.arguments)
        for (name, value) in instruction.flags {
            let parts = [name, value]
            let keys = ["interval": "Interval", "timeout": "Timeout", "start-period": "StartPeriod", "start-interval": "StartInterval", "retries": "Retries"]
            guard let key = keys[parts[0]] else { throw fail(instruction, "unknown option --\(parts[0])", hint: "HEALTHCHECK takes --interval, --timeout, --start-period, --start-interval, --retries") }
            if key == "Retries" {
                guard let count = Int(parts[1]) else { throw fail(instruction, "--retries \(parts[1]) is not a number", hint: "for example --retries=3") }
                check[key] = .number(String(count))
            } else {
                guard let nanoseconds = Self.duration(parts[1]) else { throw fail(instruction, "\(parts[1]) is not a duration", hint: "for example 30s, 1m30s, 500ms") }
                check[key] = .number(String(nanoseconds))
            }
        }
        guard rest.uppercased().hasPrefix("CMD") else { throw fail(instruction, "HEALTHCHECK needs CMD or NONE", hint: "for example HEALTHCHECK CMD curl -f http://localhost/") }
        let command = rest.dropFirst(3).drop { $0 == " " }
        if command.hasPrefix("["), let array = (try? JSONValue(parsing: Array(command.utf8)))?.array?.compactMap(\.string) {
            check["Test"] = .array(([JSONValue.string("CMD")] + array.map { JSONValue.string($0) }))
        } else {
            check["Test"] = .array([.string("CMD-SHELL"), .string(String(command))])
        }
        return .object(check)
    }

    /// Go's duration syntax (1h2m3s, 500ms) in nanoseconds.
    static func duration(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("ms", 1_000_000), ("us", 1_000), ("ns", 1), ("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000)]
        var total: Int64 = 0
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isNumber || $0 == "." }
            guard !digits.isEmpty, let value = Double(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            total += Int64(value * Double(unit.1))
            rest = rest.dropFirst(unit.0.count)
        }
        return total
    }

    // MARK: layers

    /// A step that makes a layer: from the cache when the same step was made over the same
    /// image before, else `make` fills a fresh directory that becomes the layer.
    func cachedStep(_ stage: inout Stage, key text: String, createdBy: String,
                            make: (String) throws(SwrunError) -> Void) throws(SwrunError) {
        let key = Self.digest(stage.cacheKey + "\n" + text)
        defer { stage.cacheKey = key }
        if !options.noCache, let cached = store.cached(key) {
            report("  using the cache")
            stage.image = cached
            return
        }
        let directory = FileSystem.join(scratch, "layer-\(stage.image.layers.count)-\(monotonicMilliseconds())")
        try FileSystem.makeDirectory(directory, mode: 0o755)
        defer { try? FileSystem.removeTree(directory) }
        try make(directory)
        try addLayer(from: directory, overlayMarks: false, to: &stage, createdBy: createdBy)
        try store.remember(stage.image, as: key)
    }

    func addLayer(from directory: String, overlayMarks: Bool, to stage: inout Stage, createdBy: String) throws(SwrunError) {
        let now = WallClock.now("%Y-%m-%dT%H:%M:%SZ", utc: true)
        let empty = ((try? FileSystem.listDirectory(directory)) ?? []).isEmpty
        if empty {
            stage.image.record(createdBy, layer: false, time: now)
            return
        }
        stage.image.append(try store.layer(from: directory, overlayMarks: overlayMarks))
        stage.image.record(createdBy, layer: true, time: now)
    }

    // MARK: helpers

    static func digest(_ text: String) -> String { BuildImage.digest(text) }

    /// An error at the instruction's place in the Dockerfile.
    func fail(_ instruction: Dockerfile.Instruction, _ message: String, hint: String) -> SwrunError {
        Dockerfile.error(options.dockerfile.path, instruction.line, instruction.column, "\(instruction.keyword): \(message)", hint: hint)
    }
}
