import SwrunRuntime
import SwrunSystem
import Testing
@testable import SwrunCLI

@Suite struct ParsedArgumentsTests {
    @Test(arguments: [
        ["-n", "web", "--", "sh", "-c", "echo hi"],
        ["--name", "web", "sh", "-c", "echo hi"],
        ["--name=web", "--", "sh", "-c", "echo hi"],
        ["-nweb", "sh", "-c", "echo hi"],
    ])
    func optionsThenTheCommandVerbatim(words: [String]) throws {
        let parsed = try ParsedArguments(words, spec: ExecuteCommand.spec)
        #expect(parsed.value("name") == "web")
        #expect(parsed.command == ["sh", "-c", "echo hi"])
    }

    @Test func runTakesTheImageThenEverythingAfterItAsTheCommand() throws {
        let parsed = try ParsedArguments(["--rm", "-P", "/tmp/x", "busybox", "ls", "-l", "--rm"], spec: RunCommand.spec)
        #expect(parsed.arguments == ["busybox"])
        #expect(parsed.command == ["ls", "-l", "--rm"])
        #expect(parsed.flag("rm") && parsed.value("lxcpath") == "/tmp/x")
    }

    @Test func repeatableOptionsKeepEveryValue() throws {
        let parsed = try ParsedArguments(["-n", "web", "-s", "lxc.init.uid=1", "--define", "lxc.init.gid=2"], spec: ExecuteCommand.spec)
        #expect(parsed.values("define") == ["lxc.init.uid=1", "lxc.init.gid=2"])
    }

    @Test(arguments: [
        (["--bogus"], "unknown option --bogus"),
        (["-x"], "unknown option -x"),
        (["-n"], "--name needs a value"),
        (["-n", "a", "-n", "b"], "--name is given twice"),
        (["--explain=yes"], "--explain takes no value"),
    ])
    func badOptionsNameTheProblemAndTheCommand(words: [String], message: String) {
        #expect {
            try ParsedArguments(words, spec: ExecuteCommand.spec)
        } throws: { error in
            let text = "\(error)"
            return text.contains(message) && text.contains("swrun execute --help")
        }
    }

    @Test func missingAndExtraArgumentsAreErrors() {
        #expect(throws: SwrunError.self) { try ParsedArguments(["--rm"], spec: RunCommand.spec) }
        #expect(throws: SwrunError.self) { try ParsedArguments(["a", "b"], spec: ConfigCommand.spec) }
    }

    @Test func aRepeatingLastArgumentTakesEveryWord() throws {
        let parsed = try ParsedArguments(["rm", "alpine", "debian12"], spec: ImageCommand.spec)
        #expect(parsed.arguments == ["rm", "alpine", "debian12"])
        #expect(Help.text(ImageCommand.spec, required: []).contains("ACTION [IMAGE...]"))
    }

    @Test func requiredOptionIsReportedWithItsShortSpelling() throws {
        let parsed = try ParsedArguments([], spec: ExecuteCommand.spec)
        #expect {
            try parsed.required("name", of: ExecuteCommand.spec)
        } throws: { error in
            "\(error)".contains("-n is required")
        }
    }

    @Test func helpNeedsNoOtherArgument() throws {
        #expect(try ParsedArguments(["--help"], spec: RunCommand.spec).wantsHelp)
    }
}

@Suite struct HelpAndOutputTests {
    @Test func usageShowsRequiredOptionsArgumentsAndTheCommand() {
        #expect(Help.usage(ExecuteCommand.spec, required: ExecuteCommand.requiredOptions) ==
                "swrun execute -n NAME [options] [--] [COMMAND [ARG...]]")
        #expect(Help.usage(RunCommand.spec, required: []) == "swrun run [options] IMAGE [--] [COMMAND [ARG...]]")
    }

    @Test func helpListsEveryOption() {
        let text = Help.text(CreateCommand.spec, required: CreateCommand.requiredOptions)
        for option in CreateCommand.spec.options { #expect(text.contains("--\(option.long)")) }
        #expect(text.contains("-h, --help"))
    }

    @Test func everyCommandIsFoundByItsName() {
        for (name, type) in SwrunCLI.commands {
            #expect(type.spec.name == name)
            #expect(SwrunCLI.command(named: name) != nil)
        }
        #expect(SwrunCLI.command(named: "frob") == nil)
    }

    @Test(arguments: [
        (JSON.string("a\"b\\c\n"), #""a\"b\\c\n""#),
        (JSON.object([("n", .number(3)), ("ok", .bool(true)), ("pid", .null)]), #"{"n":3,"ok":true,"pid":null}"#),
        (JSON.array([.string("\u{1}")]), #"["\u0001"]"#),
    ])
    func jsonIsWellFormed(value: JSON, expected: String) {
        #expect(value.text == expected)
    }

    @Test func tableAlignsColumns() {
        #expect(table(["NAME", "STATE"], [["a", "RUNNING"], ["long-name", "STOPPED"]]) ==
                "NAME       STATE\na          RUNNING\nlong-name  STOPPED\n")
    }
}

/// Docker's command line for run, and what every command does with help beside work.
@Suite struct DockerCommandLineTests {
    @Test func everythingAfterTheImageIsTheCommand() throws {
        let parsed = try ParsedArguments(["-h", "myhost", "--rm", "busybox", "--verbose", "--name", "x"], spec: RunCommand.spec)
        #expect(parsed.value("hostname") == "myhost" && parsed.value("name") == nil)
        #expect(parsed.command == ["--verbose", "--name", "x"])
        #expect(try ParsedArguments(["busybox", "--", "echo"], spec: RunCommand.spec).command == ["echo"], "-- only marks the command's start")
        #expect(try ParsedArguments(["-n", "web", "sh", "--rm"], spec: ExecuteCommand.spec).command == ["sh", "--rm"])
    }

    @Test func helpBesideWorkIsAnError() throws {
        #expect(throws: SwrunError.self) { try ParsedArguments(["--rm", "--help", "busybox", "true"], spec: RunCommand.spec) }
        #expect(throws: SwrunError.self) { try ParsedArguments(["-n", "web", "-h"], spec: StartCommand.spec) }
        #expect(try ParsedArguments(["-h"], spec: StartCommand.spec).wantsHelp, "-h alone is still LXC's help")
    }

    @Test func typosGetASuggestion() {
        #expect {
            try ParsedArguments(["--nmae", "x", "busybox"], spec: RunCommand.spec)
        } throws: { "\($0)".contains("did you mean --name?") }
    }

    @Test func shortOptionsAreUniqueInEveryCommand() {
        for (name, type) in SwrunCLI.commands {
            let shorts = type.spec.options.compactMap(\.short)
            #expect(Set(shorts).count == shorts.count, "\(name) has a short option twice: \(shorts)")
            let longs = type.spec.options.map(\.long)
            #expect(Set(longs).count == longs.count, "\(name) has a long option twice: \(longs)")
        }
    }

    @Test func badFlagValuesAreRefusedBeforeAnythingIsMade() throws {
        let cases: [([String], String)] = [
            (["-v", "bad/name:/x"], "not a volume name"), (["-v", "/nonexistent-swrun:/x"], "no such file"),
            (["-v", "/tmp:x"], "not a volume"), (["--mount", "type=nfs,target=/x"], "type nfs"),
            (["--ulimit", "bogus=1"], "not a resource limit"), (["--cap-add", "NET_ADMN"], "did you mean NET_ADMIN"),
            (["-w", "rel"], "not an absolute path"), (["--restart", "sometimes"], "not a restart policy"),
            (["--platform", "linux/arm64"], "this host runs"), (["--add-host", "db"], "NAME:ADDRESS"),
            (["--stop-signal", "SIGNOPE"], "not a signal"), (["-e", "A B=1"], "not a variable"),
        ]
        for (words, message) in cases {
            let parsed = try ParsedArguments(words + ["busybox"], spec: RunCommand.spec)
            #expect {
                try ContainerOptions.customization(parsed, volumes: "/tmp/volumes")
            } throws: { "\($0)".contains(message) }
        }
        let parsed = try ParsedArguments(["-v", "data:/data:ro", "--tmpfs", "/run:size=1m", "--mount", "type=bind,source=/tmp,target=/t,readonly",
                                          "-e", "A=1", "--label", "tier=web", "busybox"], spec: RunCommand.spec)
        let flags = try ContainerOptions.customization(parsed, volumes: "/tmp/volumes")
        #expect(flags.mounts == [VolumeMount(source: .volume(name: "data", directory: "/tmp/volumes/data"), target: "/data", readOnly: true),
                                 VolumeMount(source: .bind("/tmp"), target: "/t", readOnly: true),
                                 VolumeMount(source: .tmpfs(options: ["size=1m"]), target: "/run")])
        #expect(flags.environment == ["A=1"] && flags.labels == ["tier": "web"])
    }

    @Test func logsPrintTheLastLinesWithTheirTimes() {
        let log = Array("one\ntwo\nthree\n".utf8)
        #expect(LogPrinter.startOfLast(2, lines: log) == 4)
        #expect(LogPrinter.startOfLast(5, lines: log) == 0)
        #expect(LogPrinter.startOfLast(0, lines: log) == log.count)
        #expect(ConsoleLogTimes.format(seconds: 0, nanoseconds: 5) == "1970-01-01T00:00:00.000000005Z")
    }
}
