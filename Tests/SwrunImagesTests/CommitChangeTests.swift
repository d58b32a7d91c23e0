@testable import SwrunImages
import SwrunJSON
import SwrunSystem
import Testing

/// `commit --change ENV/LABEL`, read as Docker reads a Dockerfile's ENV and LABEL.
@Suite struct CommitChangeTests {
    func config(env: [String] = []) -> JSONValue {
        .object(["config": .object(["Env": .array(env.map { .string($0) })])])
    }

    func environment(after change: String, env: [String] = []) throws -> [String] {
        try ImageCommit.apply(change, to: config(env: env)).object?["config"]?.object?["Env"]?.array?.compactMap(\.string) ?? []
    }

    func labels(after change: String, env: [String] = []) throws -> [String: String] {
        let labels = try ImageCommit.apply(change, to: config(env: env)).object?["config"]?.object?["Labels"]?.object ?? [:]
        return labels.compactMapValues(\.string)
    }

    @Test(arguments: [
        (#"ENV KEY=VALUE KEY2="a b""#, ["KEY=VALUE", "KEY2=a b"]),
        (#"ENV KEY value with spaces"#, ["KEY=value with spaces"]),
        (#"ENV KEY  "quoted value" "#, ["KEY=quoted value"]),
        (#"ENV A=a\ b B='single $HOME' C="x\"y""#, ["A=a b", "B=single $HOME", #"C=x"y"#]),
        (#"ENV EMPTY= NEXT=1"#, ["EMPTY=", "NEXT=1"]),
        (#"ENV D="tab\there""#, [#"D=tab\there"#]),
        (#"ENV "QUOTED KEY"=v"#, ["QUOTED KEY=v"]),
    ])
    func envTakesDockersForms(_ change: String, _ expected: [String]) throws {
        #expect(try environment(after: change) == expected)
    }

    /// Variables are the values before the instruction; a key set again stays where it was.
    @Test func envReplacesVariablesWithTheValuesBeforeIt() throws {
        let env = try environment(after: #"ENV PATH=/opt/bin:$PATH HOME=${USER_HOME}/x OLD=$PATH LIT=\$PATH"#,
                                  env: ["PATH=/usr/bin", "USER_HOME=/home/u"])
        #expect(env == ["PATH=/opt/bin:/usr/bin", "USER_HOME=/home/u", "HOME=/home/u/x", "OLD=/usr/bin", "LIT=$PATH"])
    }

    @Test func labelTakesQuotedValuesWithSpaces() throws {
        #expect(try labels(after: #"LABEL a="x y" b=z "c d"='e f'"#) == ["a": "x y", "b": "z", "c d": "e f"])
        #expect(try labels(after: "LABEL maintainer Jane Doe <jane@example.org>") == ["maintainer": "Jane Doe <jane@example.org>"])
        #expect(try labels(after: #"LABEL version="$V-1""#, env: ["V=2"]) == ["version": "2-1"])
    }

    @Test(arguments: [
        (#"ENV KEY="open"#, "a \" quote is not closed"),
        (#"ENV KEY='open"#, "a ' quote is not closed"),
        (#"ENV A=1 lonely"#, "'lonely' is not KEY=VALUE"),
        (#"ENV =v"#, "'=v' is not KEY=VALUE"),
        ("ENV KEY", "give KEY=VALUE (or KEY VALUE)"),
        (#"LABEL a=${b"#, "a ${ is not closed by }"),
    ])
    func malformedPairsAreNamed(_ change: String, _ message: String) {
        #expect {
            _ = try ImageCommit.apply(change, to: config())
        } throws: { error in
            (error as? SwrunError)?.message == "--change '\(change)': \(message)"
        }
    }
}
