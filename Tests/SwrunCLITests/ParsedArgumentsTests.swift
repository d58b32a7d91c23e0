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
