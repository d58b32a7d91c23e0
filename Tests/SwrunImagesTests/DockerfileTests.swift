import SwrunSystem
import Testing
@testable import SwrunImages

/// The Dockerfile as Docker's parser reads it, its words as Docker's shell-word processing
/// gives them, and .dockerignore as Docker matches it.
@Suite struct DockerfileTests {
    @Test func instructionsWithContinuationsCommentsFlagsAndForms() throws {
        let file = try Dockerfile(text: """
            # syntax=docker/dockerfile:1
            # a comment
            ARG BASE=alpine
            from ${BASE} AS build
            RUN apt-get update && \\
            # a comment inside is dropped
                apt-get install -y curl
            COPY --from=build --chown=1000:1000 ["a b", "/dst/"]
            CMD ["nginx", "-g", "daemon off;"]
            """)
        #expect(file.instructions.map(\.keyword) == ["ARG", "FROM", "RUN", "COPY", "CMD"])
        #expect(file.instructions[1].arguments == "${BASE} AS build" && file.instructions[1].line == 4)
        #expect(file.instructions[2].arguments == "apt-get update &&     apt-get install -y curl")
        #expect(file.instructions[3].flag("from") == "build" && file.instructions[3].flag("chown") == "1000:1000")
        #expect(file.instructions[3].execForm == ["a b", "/dst/"])
        #expect(file.instructions[4].execForm == ["nginx", "-g", "daemon off;"])
        #expect(file.notes.count == 1 && file.notes[0].contains("syntax directive"))
    }

    @Test func theEscapeDirectiveChangesTheContinuationCharacter() throws {
        let file = try Dockerfile(text: "# escape=`\nFROM scratch\nRUN dir c:\\ `\n  && echo done\n")
        #expect(file.escape == "`" && file.instructions[1].arguments == "dir c:\\   && echo done")
    }

    @Test func heredocsFollowTheirInstruction() throws {
        let file = try Dockerfile(text: """
            FROM scratch
            RUN <<EOF
            echo one
            echo two
            EOF
            COPY <<-"END" /etc/motd
            \thello $USER
            \tEND
            RUN echo after
            """)
        #expect(file.instructions.map(\.keyword) == ["FROM", "RUN", "COPY", "RUN"])
        #expect(file.instructions[1].heredocs == [Dockerfile.Heredoc(name: "EOF", body: "echo one\necho two\n", expands: true)])
        #expect(file.instructions[2].heredocs == [Dockerfile.Heredoc(name: "END", body: "hello $USER\n", expands: false)])
        #expect(file.instructions[3].arguments == "echo after")
    }

    @Test(arguments: [
        ("FROM scratch\nFOO bar\n", "2:1: unknown instruction FOO; did you mean FROM?"),
        ("RUN echo\n", "1:1: RUN comes before any FROM"),
        ("# just a comment\n", "there is no FROM"),
        ("FROM scratch\nRUN <<EOF\necho\n", "the heredoc <<EOF is never closed"),
        ("FROM scratch\n  ENV\n", "2:3: ENV needs arguments"),
        ("# escape=x\nFROM scratch\n", "'x' is not an escape character"),
    ])
    func badDockerfilesNameTheLineAndColumn(text: String, message: String) {
        #expect {
            try Dockerfile(text: text, path: "Dockerfile")
        } throws: { error in
            "\(error)".contains("Dockerfile:") && "\(error)".contains(message)
        }
    }

    @Test func wordsExpandAsDockersShellWordsDo() throws {
        let words = BuildWords(values: ["NAME": "web", "EMPTY": "", "SPACED": "a b"])
        #expect(try words.expand("/srv/$NAME/${NAME}") == "/srv/web/web")
        #expect(try words.expand("${EMPTY:-fallback} ${NAME:+set} ${MISSING:+x}") == "fallback set ")
        #expect(try words.expand("'$NAME' \"$NAME\" \\$NAME") == "$NAME web $NAME")
        #expect(try words.words("a \"b c\" 'd e' $SPACED") == ["a", "b c", "d e", "a", "b"])
        #expect(throws: SwrunError.self) { try words.expand("\"unclosed") }
        let pairs = try words.pairs("A=1 B=\"two words\" C=$NAME")
        #expect(pairs.map(\.key) == ["A", "B", "C"] && pairs.map(\.value) == ["1", "two words", "web"])
        let legacy = try words.pairs("GREETING hello there $NAME")
        #expect(legacy.count == 1 && legacy[0].key == "GREETING" && legacy[0].value == "hello there web")
        let declared = try words.pairs("VERSION FLAVOR=slim", allowsBareKey: true)
        #expect(declared.map(\.key) == ["VERSION", "FLAVOR"] && declared[0].value == nil && declared[1].value == "slim")
        #expect(try words.expandVariables("echo \"$NAME\" '$NAME' \\$HOME") == "echo \"web\" 'web' $HOME")
    }

    @Test func dockerignoreMatchesAsDockersDoes() {
        let ignore = DockerIgnore(text: """
            # comment
            *.key
            /build
            **/*.tmp
            docs
            !docs/README.md
            src/[ab]?.c
            """)
        #expect(ignore.excludes("secret.key") && !ignore.excludes("dir/secret.key"), "*.key is for the top only")
        #expect(ignore.excludes("build") && ignore.excludes("build/out/x"), "a directory excluded takes what is below")
        #expect(ignore.excludes("a/b/c.tmp") && ignore.excludes("c.tmp"))
        #expect(ignore.excludes("docs/guide.md") && !ignore.excludes("docs/README.md"), "the last match decides")
        #expect(ignore.mayIncludeBelow("docs") && !ignore.mayIncludeBelow("build"))
        #expect(ignore.excludes("src/ax.c") && !ignore.excludes("src/cx.c") && !ignore.excludes("src/abc.c"))
        #expect(!ignore.excludes("Dockerfile"))
    }
}
