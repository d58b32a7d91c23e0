import Foundation
import Testing

extension ImageTests {
    /// Docker's token auth: docker-registry (`auth: token:`) answers 401 with a Bearer
    /// challenge, and swrun asks the realm (token-server.py) for a token with the login
    /// `swrun login` stored, as HTTP Basic; the token pulls and pushes. A wrong login is
    /// refused by name and leaves nothing in the cache; after logout the image is refused.
    @Test func aTokenRegistryTakesTheStoredLoginThroughItsTokenService() throws {
        let registry = try fixtures.startRegistry("token", login: .token)
        let tokenLog = fixtures.path + "/token/token.log"
        /// The token service's requests since the last call ("user=... scope=... account=...").
        func tokenRequests() throws -> [String] {
            defer { FileManager.default.createFile(atPath: tokenLog, contents: nil) }
            return try String(contentsOfFile: tokenLog, encoding: .utf8).split(separator: "\n").map(String.init)
        }
        _ = try tokenRequests()
        let image = registry + "/fixture/busybox:single"
        /// The files a pull left in `cache` (lock files aside).
        func cached(_ cache: String) -> [String] {
            let walker = FileManager.default.enumerator(atPath: cache)
            return (walker?.allObjects as? [String] ?? []).filter { path in
                var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: cache + "/" + path, isDirectory: &isDirectory) && !isDirectory.boolValue && !path.hasSuffix(".lock")
            }
        }

        let anonymous = try swrun(["pull", image], cache: fixtures.path + "/anonymous-cache")
        #expect(anonymous.status != 0 && anonymous.stderr.contains("refused the manifest") && anonymous.stderr.contains("swrun login \(registry)"),
                "\(anonymous.stderr)")
        #expect(try tokenRequests() == ["GET user=anonymous scope=repository:fixture/busybox:pull service=swrun-fixture-registry account="])

        let wrong = try swrun(["login", "-u", "fixture", "--password-stdin", registry], input: "nope\n")
        #expect(wrong.status != 0 && wrong.stderr.contains("refused the login of fixture") && wrong.stderr.contains("check the user name and password"),
                "\(wrong.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fixtures.path + "/auth.json"), "a refused login is not stored")
        #expect(try tokenRequests() == ["GET user=refused scope= service=swrun-fixture-registry account=fixture"])
        // A stale password in the file: the pull is refused by the token service, and caches nothing.
        let stale = "{\"auths\": {\"\(registry)\": {\"auth\": \"\(Data("fixture:stale".utf8).base64EncodedString())\"}}}\n"
        try stale.write(toFile: fixtures.path + "/auth.json", atomically: false, encoding: .utf8)
        let refused = try swrun(["pull", image], cache: fixtures.path + "/refused-cache")
        #expect(refused.status != 0 && refused.stderr.contains("refused the login of fixture"), "\(refused.stderr)")
        #expect(cached(fixtures.path + "/refused-cache").isEmpty, "\(cached(fixtures.path + "/refused-cache"))")
        #expect(try tokenRequests() == ["GET user=refused scope=repository:fixture/busybox:pull service=swrun-fixture-registry account=fixture"])

        let login = try swrun(["login", "-u", "fixture", "--password-stdin", registry], input: "fixture-pass\n")
        #expect(login.status == 0 && login.stdout.contains("Login Succeeded"), "\(login.stderr)")
        let stored = try String(contentsOfFile: fixtures.path + "/auth.json", encoding: .utf8)
        #expect(stored.contains(registry) && stored.contains(Data("fixture:fixture-pass".utf8).base64EncodedString()), "\(stored)")
        #expect(try tokenRequests() == ["GET user=fixture scope= service=swrun-fixture-registry account=fixture"],
                "the login is checked for a token of no scope, as docker login does")

        let pulled = try swrun(["pull", image])
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(try tokenRequests() == ["GET user=fixture scope=repository:fixture/busybox:pull service=swrun-fixture-registry account=fixture"])
        let ran = try swrun(["run", "--rm", "-P", sandbox.path, "-f", sandbox.emptyConfig, image])
        #expect(ran.status == 0 && ran.stdout == "hello from oci\n", "\(ran.stderr)")

        let target = registry + "/mine/busybox:v1"
        #expect(try swrun(["tag", image, target]).status == 0)
        let pushed = try swrun(["push", target])
        #expect(pushed.status == 0 && pushed.stderr.contains("mounted from fixture/busybox"), "\(pushed.stderr)")
        let pushRequests = try tokenRequests()
        // The registry names the scope in its challenge, its actions in an order of its own.
        func actions(_ request: String) -> [String: Set<String>] {
            guard request.hasPrefix("GET user=fixture scope="), let scope = request.split(separator: " ").dropFirst(2).first?.dropFirst("scope=".count) else { return [:] }
            var result: [String: Set<String>] = [:]
            for part in scope.split(whereSeparator: { $0 == ";" || $0 == " " }) {
                let fields = part.split(separator: ":")
                if fields.count == 3 { result[String(fields[1])] = Set(fields[2].split(separator: ",").map(String.init)) }
            }
            return result
        }
        #expect(pushRequests.contains { actions($0) == ["mine/busybox": ["pull", "push"], "fixture/busybox": ["pull"]] },
                "the push asked for push on its repository and pull on the one it mounts from: \(pushRequests)")
        let digest = try #require(pushed.stderr.split(separator: "(").last?.split(separator: ")").first.map(String.init))
        let back = try swrun(["pull", registry + "/mine/busybox@" + digest], cache: fixtures.path + "/back-cache")
        #expect(back.status == 0, "pulled back by digest with the token: \(back.stderr)")

        #expect(try swrun(["logout", registry]).status == 0)
        let loggedOut = try swrun(["pull", image], cache: fixtures.path + "/logged-out-cache")
        #expect(loggedOut.status != 0 && loggedOut.stderr.contains("swrun login \(registry)"), "\(loggedOut.stderr)")
        #expect(cached(fixtures.path + "/logged-out-cache").isEmpty)
    }
}
