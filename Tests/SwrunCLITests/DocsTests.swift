import Glibc
import SwrunSystem
import Testing
@testable import SwrunCLI

private var visibleCommands: [any Command.Type] { SwrunCLI.commands.map(\.type).filter { !$0.spec.hidden } }
private var visibleNames: [String] { SwrunCLI.commands.filter { !$0.type.spec.hidden }.map(\.name) }

private func installed(_ program: String) -> Bool {
    ["/usr/bin/", "/bin/", "/usr/local/bin/"].contains { access($0 + program, X_OK) == 0 }
}

/// A fresh, empty temporary directory; remove it with `FileSystem.removeTree`.
private func makeTemporaryDirectory() throws -> String {
    var template = Array("/tmp/swrun-docs-test-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) } != nil
    try #require(made)
    return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Runs `script` with `shell -c`, stderr with stdout; the status and the output.
private func run(_ shell: String, _ script: String) throws -> (status: Int32, output: String) {
    let result = try Subprocess.run([shell, "-c", script + " 2>&1"])
    return (result.status, String(decoding: result.output, as: UTF8.self))
}

@Suite struct ManPageTests {
    @Test(arguments: visibleNames)
    func everyVisibleCommandHasAPageNamingEachOption(name: String) throws {
        let command = try #require(SwrunCLI.command(named: name))
        let page = ManPage.page(command)
        #expect(page.contains(".TH SWRUN\\-\(ManPage.escape(name.uppercased())) 1 "))
        #expect(page.contains(".SH NAME\nswrun\\-\(ManPage.escape(name)) \\- "))
        #expect(page.contains(".SH SYNOPSIS\n\\fBswrun \(name)\\fR"))
        for option in command.spec.options {
            #expect(page.contains("\\fB\\-\\-\(ManPage.escape(option.long))\\fR"), "swrun-\(name)(1) lacks --\(option.long)")
            if let short = option.short { #expect(page.contains("\\fB\\-\(short)\\fR, "), "swrun-\(name)(1) lacks -\(short)") }
        }
        for argument in command.spec.arguments { #expect(page.contains(".I \(argument.name)\n")) }
    }

    @Test func theSynopsisIsTheUsageLineOfHelp() throws {
        let page = ManPage.page(ExecuteCommand.self)
        #expect(page.contains("\\fBswrun execute\\fR \\-n NAME [options] [\\-\\-] [COMMAND [ARG...]]\n"))
    }

    @Test func exitStatusIsDockersWhereTheSpecSaysSo() {
        let run = ManPage.page(RunCommand.self)
        #expect(run.contains(".SH EXIT STATUS"))
        for code in ["125", "126", "127"] { #expect(run.contains(".B \(code)\n")) }
        #expect(!ManPage.page(ListCommand.self).contains(".SH EXIT STATUS"))
    }

    @Test func theOverviewListsTheVisibleCommandsTheEnvironmentAndTheFiles() {
        let page = ManPage.overview(SwrunCLI.commands.map(\.type))
        for name in visibleNames { #expect(page.contains(".BR swrun\\-\(name) (1)\n")) }
        for hidden in ["monitor", "man", "completion"] { #expect(!page.contains("swrun\\-\(hidden) ")) }
        for variable in ["LXC_CACHE_PATH", "SWRUN_CACHE_PATH", "SWRUN_KEYS_DIR", "SWRUN_INSECURE_REGISTRIES", "REGISTRY_AUTH_FILE"] {
            #expect(page.contains(".B \(variable)\n"))
        }
        for path in ["/var/lib/lxc", "/etc/lxc/lxc.conf", "/etc/lxc/default.conf", "/var/cache/swrun"] {
            #expect(page.contains(".I \(ManPage.escape(path))\n"))
        }
    }

    @Test func theManCommandAndCompletionAreHiddenFromHelp() {
        let help = Help.overview(SwrunCLI.commands.map(\.type))
        #expect(!help.contains("  man ") && !help.contains("  completion "))
        #expect(SwrunCLI.command(named: "man") != nil && SwrunCLI.command(named: "completion") != nil)
    }

    @Test(arguments: [
        ("-n NAME", "\\-n NAME"),
        ("C:\\dir", "C:\\edir"),
        (".lxc.conf is read", "\\&.lxc.conf is read"),
        ("'quoted' first", "\\&'quoted' first"),
        ("a.b 'c'", "a.b 'c'"),
    ])
    func escapingDashesBackslashesAndLeadingControlCharacters(text: String, roff: String) {
        #expect(ManPage.escape(text) == roff)
    }

    @Test func codeSpansAreBoldAndAnUnpairedBacktickStays() {
        #expect(ManPage.inline("see `swrun ls -1` first") == "see \\fBswrun ls \\-1\\fR first")
        // A font escape first: the line no longer starts with a dot.
        #expect(ManPage.inline("`.hidden` file") == "\\fB.hidden\\fR file")
        #expect(ManPage.inline(".hidden and `code`") == "\\&.hidden and \\fBcode\\fR")
        #expect(ManPage.inline("a ` alone") == "a ` alone")
    }

    @Test func examplesAndIndentedLinesAreNotFilled() {
        let lines = ManPage.body("Text here.\nExamples:  swrun run busybox\n           swrun run -d busybox\nMore text.")
        #expect(lines == ["Text here.", ".nf", "Examples:  swrun run busybox", "           swrun run \\-d busybox", ".fi", "More text."])
    }

    /// Every line that starts with a control character is a request the generator means.
    @Test func noTextLineIsReadAsARequest() throws {
        let requests: Set<String> = [".\\\"", ".TH", ".SH", ".TP", ".PP", ".B", ".BR", ".I", ".br", ".nf", ".fi", ".nh", ".ad"]
        let pages = [ManPage.overview(SwrunCLI.commands.map(\.type))] + visibleCommands.map(ManPage.page)
        for page in pages {
            for line in page.split(separator: "\n") where line.hasPrefix(".") || line.hasPrefix("'") {
                let request = String(line.prefix { $0 != " " })
                #expect(requests.contains(request), "unexpected request: \(line)")
            }
        }
    }

    @Test(.enabled(if: installed("groff"), "needs groff (groff-base)"))
    func groffRendersEveryPageWithoutAWarning() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileSystem.removeTree(directory) }
        #expect(try ManCommand.run(ParsedArguments(["--dir", directory], spec: ManCommand.spec)) == 0)
        let files = try FileSystem.listDirectory(directory)
        #expect(Set(files) == Set(["swrun.1"] + visibleNames.map { "swrun-\($0).1" }))
        for file in files {
            let result = try run("sh", "groff -man -Tutf8 -ww -z \(directory)/\(file)")
            #expect(result.status == 0 && result.output.isEmpty, "\(file): \(result.output)")
        }
    }
}

@Suite struct CompletionTests {
    private var specs: [CommandSpec] { visibleCommands.map { $0.spec } }

    @Test func theFixedValuesComeFromTheSpecs() throws {
        let run = RunCommand.spec
        #expect(try #require(run.option(long: "pull")).choices == ["always", "missing", "never"])
        #expect(try #require(run.option(long: "network")).choices == ["none", "host", "bridge"])
        #expect(try #require(run.option(long: "restart")).choices.contains("unless-stopped"))
        #expect(try #require(CreateCommand.spec.option(long: "bdev")).choices == ["dir", "overlay", "btrfs", "loop", "lvm", "zfs"])
        for spec in specs {
            if let format = spec.option(long: "format") { #expect(format.choices == ["text", "json"], "swrun \(spec.name) --format") }
        }
    }

    @Test func containerAndImageNamesAreMarkedWhereTheyAreTaken() throws {
        for name in ["rm", "kill", "restart", "inspect", "pause", "unpause", "logs", "exec"] {
            #expect(try #require(SwrunCLI.command(named: name)).spec.arguments.first?.completes == .container, "swrun \(name)")
        }
        for name in ["run", "pull", "push", "save"] {
            #expect(try #require(SwrunCLI.command(named: name)).spec.arguments.first?.completes == .image, "swrun \(name)")
        }
        #expect(CreateCommand.spec.option(long: "template")?.completes == .image)
        #expect(CreateCommand.spec.option(long: "name")?.completes == nil)  // a new name
        #expect(AttachCommand.spec.option(long: "name")?.completes == .container)
        #expect(CpCommand.spec.arguments.map(\.completes) == [.containerPath, .containerPath])
    }

    /// The words bash's completion offers for `words` (the last is the one being typed), from
    /// the generated script; `swrun` is found as `program`.
    private func bashCompletes(_ words: [String]) throws -> [String] {
        let directory = try makeTemporaryDirectory()
        defer { try? FileSystem.removeTree(directory) }
        try FileSystem.writeAtomically(directory + "/swrun.bash", BashCompletion.script(specs))
        let quoted = words.map { "'" + $0 + "'" }.joined(separator: " ")
        let result = try run("bash", """
            source \(directory)/swrun.bash
            COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1)
            _swrun; printf '%s\\n' "${COMPREPLY[@]}"
            """)
        #expect(result.status == 0)
        return result.output.split(separator: "\n").map(String.init)
    }

    @Test func theBashScriptIsValid() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileSystem.removeTree(directory) }
        try FileSystem.writeAtomically(directory + "/swrun.bash", BashCompletion.script(specs))
        let result = try run("bash", "bash -n \(directory)/swrun.bash")
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func bashCompletesCommandsOptionsAndTheirValues() throws {
        #expect(try bashCompletes(["swrun", "ru"]) == ["run"])
        #expect(try bashCompletes(["swrun", "run", "--net"]) == ["--network"])
        #expect(try bashCompletes(["swrun", "run", "--network", ""]) == ["none", "host", "bridge"])
        #expect(try bashCompletes(["swrun", "run", "--pull", "m"]) == ["missing"])
        #expect(try bashCompletes(["swrun", "create", "-B", "l"]) == ["loop", "lvm"])
        #expect(try bashCompletes(["swrun", "ls", "--format", ""]) == ["text", "json"])
        #expect(try bashCompletes(["swrun", "image", ""]) == ["rm", "prune"])
        #expect(try bashCompletes(["swrun", "stop", "--ti"]) == ["--timeout"])
    }

    /// A stand-in swrun that lists two containers (one in /srv/lxc) and two images.
    private func fakeSwrun(in directory: String) throws -> String {
        let path = directory + "/swrun"
        try FileSystem.writeAtomically(path, """
            #!/bin/sh
            case "$*" in
              "ls -1") printf 'web\\ndb\\n' ;;
              "ls -1 -P /srv/lxc") printf 'elsewhere\\n' ;;
              "images --format json") printf '[{"name":"busybox","kind":"busybox","detail":""},{"name":"alpine:3.20","kind":"oci","detail":""}]\\n' ;;
            esac
            """, mode: 0o755)
        return path
    }

    @Test func bashCompletesContainersAndImagesFromSwrunItself() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileSystem.removeTree(directory) }
        let swrun = try fakeSwrun(in: directory)
        #expect(try bashCompletes([swrun, "rm", "-f", ""]) == ["web", "db"])
        #expect(try bashCompletes([swrun, "rm", "-P", "/srv/lxc", ""]) == ["elsewhere"])
        #expect(try bashCompletes([swrun, "attach", "-n", "w"]) == ["web"])
        #expect(try bashCompletes([swrun, "run", "--rm", ""]) == ["busybox", "alpine:3.20"])
        #expect(try bashCompletes([swrun, "create", "-t", "a"]) == ["alpine:3.20"])
        #expect(try bashCompletes([swrun, "create", "-n", ""]) == [])
        // After the image comes the command to run in the container: nothing of swrun's.
        #expect(try bashCompletes([swrun, "run", "busybox", ""]) == [])
        #expect(try bashCompletes([swrun, "exec", "web", "--"]) == [])
    }

    @Test(.enabled(if: installed("zsh"), "needs zsh"))
    func theZshScriptIsValidAndDefinesTheCompletion() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileSystem.removeTree(directory) }
        try FileSystem.writeAtomically(directory + "/_swrun", ZshCompletion.script(specs))
        #expect(try run("zsh", "zsh -n \(directory)/_swrun").status == 0)
        let loaded = try run("zsh", "autoload -U compinit; compinit -u -D; source \(directory)/_swrun; print -r -- $_comps[swrun]")
        #expect(loaded.output == "_swrun\n")
    }

    @Test func zshSpecsEscapeQuotesBracketsAndColons() {
        let option = CommandSpec.Option(short: "p", long: "publish", value: "HOST:PORT", help: "Don't [really] do it.", repeats: true)
        #expect(ZshCompletion.option(option) == "'*'{-p+,--publish=}'[Don'\\''t \\[really\\] do it]:HOST\\:PORT: '")
    }

    @Test(.enabled(if: installed("fish"), "needs fish"))
    func theFishScriptIsValidAndCompletes() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileSystem.removeTree(directory) }
        try FileSystem.writeAtomically(directory + "/swrun.fish", FishCompletion.script(specs))
        #expect(try run("fish", "fish -n \(directory)/swrun.fish").status == 0)
        let swrun = try fakeSwrun(in: directory)
        func completes(_ line: String) throws -> [String] {
            let result = try run("fish", "source \(directory)/swrun.fish; complete -C '\(line)'")
            return result.output.split(separator: "\n").map { String($0.prefix { $0 != "\t" }) }
        }
        #expect(try completes("swrun ru") == ["run"])
        #expect(try completes("swrun run --netw") == ["--network"])
        #expect(try completes("swrun run --network ") == ["bridge", "host", "none"])
        #expect(try completes("\(swrun) rm -P /srv/lxc ") == ["elsewhere"])
        #expect(try completes("\(swrun) save ") == ["alpine:3.20", "busybox"])
    }
}
