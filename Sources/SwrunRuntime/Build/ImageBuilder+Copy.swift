import Glibc
import SwrunConfig
import SwrunImages
import SwrunJSON
import SwrunSystem

/// COPY and ADD: what they read (the context, or another stage's or image's files) written
/// into a fresh directory that becomes the step's layer.
extension ImageBuilder {
    func copyStep(_ instruction: Dockerfile.Instruction, in stage: inout Stage, stages: [Stage], words: BuildWords) throws(SwrunError) {
        let isAdd = instruction.keyword == "ADD"
        var items: [String]
        if let exec = instruction.execForm {
            items = exec
        } else {
            do { items = try words.words(instruction.arguments) } catch { throw fail(instruction, error.message, hint: error.hint ?? "") }
        }
        let heredocs = instruction.heredocs
        if !heredocs.isEmpty { items = items.filter { !$0.hasPrefix("<<") } }
        guard let rawDestination = items.last, items.count >= 2 || !heredocs.isEmpty else {
            throw fail(instruction, "\(instruction.keyword) needs a source and a destination", hint: "for example: \(instruction.keyword) app.conf /etc/app/")
        }
        let sources = Array(items.dropLast())
        var destination = rawDestination.hasPrefix("/") ? rawDestination : FileSystem.join(stage.image.workingDirectory, rawDestination)
        if rawDestination.hasSuffix("/") && !destination.hasSuffix("/") { destination += "/" }
        let owner = try instruction.flag("chown").map { text throws(SwrunError) in
            let account = try ImageUser.resolve(try words.expand(text), passwd: stage.image.file("/etc/passwd"),
                                                group: stage.image.file("/etc/group"), image: "the stage")
            return (uid: account.uid, gid: account.gid)
        }
        let mode = try instruction.flag("chmod").map { text throws(SwrunError) in
            guard let value = mode_t(text, radix: 8), value <= 0o7777 else { throw fail(instruction, "--chmod=\(text) is not an octal mode", hint: "for example --chmod=0755") }
            return value
        }
        // Where the sources are: the context, or another stage's (or image's) files.
        var root = options.context
        var ignore: DockerIgnore? = DockerIgnore(contextDirectory: options.context)
        var view: String?
        defer { if let view { BuildView.unmount(view) } }
        if let from = instruction.flag("from") {
            let name = try words.expand(from)
            let lowers: [String]
            if let index = stageIndex(name, in: stages, before: stage.index) {
                lowers = stages[index].image.lowers
            } else {
                lowers = try baseImage(name, instruction: instruction).lowers
            }
            let mounted = FileSystem.join(scratch, "from-\(monotonicMilliseconds())")
            try BuildView.mount(lowers, at: mounted)
            view = mounted
            (root, ignore) = (mounted, nil)
        }
        let copier = BuildCopy(root: root, ignore: ignore, lowers: stage.image.lowers, owner: owner, mode: mode)
        let urls = sources.filter { $0.hasPrefix("http://") || $0.hasPrefix("https://") }
        guard isAdd || urls.isEmpty else { throw fail(instruction, "COPY takes no URL", hint: "use ADD for a URL") }
        let local = sources.filter { !urls.contains($0) }
        let paths: [String]
        do { paths = try copier.sources(local) } catch { throw fail(instruction, error.message, hint: error.hint ?? "") }
        let checksum = instruction.flag("checksum")
        if let checksum, !(checksum.hasPrefix("sha256:") && checksum.count == 71) {
            throw fail(instruction, "--checksum=\(checksum) is not sha256:HEX", hint: "give the download's sha256 digest")
        }
        let content = try copier.contentDigest(paths)
        var keyText = "\(instruction.keyword) \(destination) owner=\(owner.map { "\($0.uid):\($0.gid)" } ?? "") mode=\(mode.map { String($0, radix: 8) } ?? "")"
        keyText += " from=\(view.map { _ in instruction.flag("from") ?? "" } ?? "") content=" + content
        keyText += " urls=\(urls.joined(separator: ",")) checksum=\(checksum ?? "")"
        keyText += " heredocs=" + heredocs.map { "\($0.name):\($0.body)" }.joined(separator: "\0")
        // As Docker and buildah name what was copied: file:, dir: or multi: and a digest of it.
        let kind = paths.count + urls.count + heredocs.count > 1 ? "multi" : paths.first.map { FileSystem.isDirectory(FileSystem.join(root, $0)) ? "dir" : "file" } ?? "file"
        let createdBy = "/bin/sh -c #(nop) \(instruction.keyword) \(kind):\(content.dropFirst("sha256:".count)) in \(rawDestination) "
        try cachedStep(&stage, key: keyText, createdBy: createdBy) { (layer) throws(SwrunError) in
            do throws(SwrunError) {
                if !paths.isEmpty { try copier.copy(paths, to: destination, into: layer, unpack: isAdd ? ArchiveOpener.inProcess : nil) }
                for heredoc in heredocs {
                    let target = destination.hasSuffix("/") ? destination + heredoc.name : destination
                    var body = heredoc.body
                    if heredoc.expands { body = try words.expandVariables(body) }
                    try copier.write(Array(body.utf8), to: target, into: layer)
                }
                for url in urls { try copier.download(url, to: destination, into: layer, checksum: checksum, caFile: options.caFile) }
            } catch {
                throw fail(instruction, error.message, hint: error.hint ?? "")
            }
        }
    }
}
