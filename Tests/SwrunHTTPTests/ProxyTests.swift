import Glibc
import SwrunHTTP
import SwrunSystem
import Testing

/// The proxy variables as curl reads them. Settings are built from dictionaries here:
/// no test changes this process's environment.
@Suite struct ProxySettingsTests {
    @Test func variablesAreReadAsCurlReadsThem() throws {
        let url = try HTTPURL("http://example.org/")
        let secure = try HTTPURL("https://example.org/")
        // HTTP_PROXY in capitals is what a CGI program gets from a request's "Proxy:" header: ignored.
        #expect(try ProxySettings(environment: ["HTTP_PROXY": "http://p:1"]).proxy(for: url) == nil)
        #expect(try ProxySettings(environment: ["http_proxy": "http://p:1"]).proxy(for: url)?.variable == "http_proxy")
        #expect(try ProxySettings(environment: ["http_proxy": "http://p:1"]).proxy(for: secure) == nil)
        let both = ProxySettings(environment: ["https_proxy": "http://lower:1", "HTTPS_PROXY": "http://upper:1"])
        #expect(try both.proxy(for: secure)?.host == "lower")
        #expect(try ProxySettings(environment: ["HTTPS_PROXY": "http://upper:1"]).proxy(for: secure)?.host == "upper")
        let all = ProxySettings(environment: ["ALL_PROXY": "http://all:1", "https_proxy": ""])
        #expect(try all.proxy(for: url)?.variable == "ALL_PROXY" && all.proxy(for: secure)?.host == "all")
        let bypass = ProxySettings(environment: ["https_proxy": "http://p:1", "NO_PROXY": "example.org"])
        #expect(try bypass.proxy(for: secure) == nil)
    }

    @Test(arguments: [
        ("example.org", "example.org", true), ("www.example.org", "example.org", true), ("www.example.org", ".example.org", true),
        ("notexample.org", "example.org", false), ("example.org", "www.example.org", false), ("EXAMPLE.org", "example.ORG", true),
        ("anything", "*", true), ("anything", "a.b, *", false), ("registry.local", "foo,registry.local", true),
        ("registry.local", "foo , registry.local", true), ("registry.local", "foo registry.local", false),
        ("127.0.0.1", "0.0.1", false), ("127.0.0.1", "localhost", false), ("*.example", "*", true), ("127.0.0.1", "127.0.0.1", true), ("127.0.0.2", "127.0.0.1", false),
        ("10.1.2.3", "10.0.0.0/8", true), ("11.1.2.3", "10.0.0.0/8", false), ("192.168.1.7", "192.168.1.0/25", true),
        ("192.168.1.200", "192.168.1.0/25", false), ("::1", "[::1]", true), ("::1", "::1", true), ("fd00::5", "fd00::/8", true),
        ("fe80::1", "fd00::/8", false), ("example.org.", "example.org", true), ("localhost", "", false),
    ])
    func noProxyNamesHostsAsCurlDoes(host: String, noProxy: String, bypassed: Bool) {
        #expect(ProxySettings.bypasses(host, noProxy: noProxy) == bypassed)
    }

    @Test func proxyURLsTakeCurlsDefaults() throws {
        let bare = try Proxy("proxy.example:3128", variable: "https_proxy")
        #expect(bare.host == "proxy.example" && bare.port == 3128 && bare.user == nil)
        let noPort = try Proxy("http://proxy.example/", variable: "https_proxy")
        #expect(noPort.port == 1080)
        let credentials = try Proxy("http://us%40er:pa%3Ass@[::1]:8080", variable: "https_proxy")
        #expect(credentials.host == "::1" && credentials.port == 8080 && credentials.user == "us@er" && credentials.password == "pa:ss")
    }

    @Test(arguments: ["https://proxy:443", "socks5://proxy:1080", "http://user:secret@:80"])
    func unusableProxiesAreRefusedWithoutShowingThePassword(text: String) {
        let error = swrunError { _ = try Proxy(text, variable: "https_proxy") }
        #expect(error?.code == .invalidArgument && error?.message.contains("https_proxy=") == true)
        #expect(error?.message.contains("secret") == false)
    }
}

/// Requests through rootfs-fixtures/proxy.py, to serve.py.
@Suite(.serialized) struct ProxyTests {
    let file = testBytes(200_000)

    /// Runs proxy.py (with `auth` when given) for `body`, then kills it; `body` gets its port and request log.
    func withProxy<T>(auth: String? = nil, _ body: (_ port: Int, _ log: () throws -> [String]) throws -> T) throws -> T {
        try withTemporaryDirectory { directory in
            let logPath = FileSystem.join(directory, "proxy.log")
            let script = FileSystem.join(FileSystem.parentPath(servePath), "proxy.py")
            let (pid, port) = try spawnServer(["python3", script] + (auth.map { ["--auth", $0] } ?? []), logPath: logPath)
            defer {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
            return try body(port) { try FileSystem.readText(logPath).split(separator: "\n").map(String.init) }
        }
    }

    @Test func plainHTTPGoesToTheProxyInAbsoluteForm() throws {
        try withServer(files: ["file.bin": file]) { server, _ throws in
            try withProxy { port, log throws in
                let client = HTTPClient(options: .init(proxies: ProxySettings(environment: ["http_proxy": "http://127.0.0.1:\(port)"])))
                #expect(try client.fetch(try server.url("/file.bin")).1 == file)
                #expect(try log() == ["GET http://127.0.0.1:\(server.port)/file.bin"])
                #expect(try server.requests() == ["GET /file.bin"])
            }
        }
    }

    @Test func httpsGoesThroughAConnectTunnel() throws {
        try withServer(files: ["file.bin": file], tls: true) { server, directory throws in
            try withProxy { port, log throws in
                let proxies = ProxySettings(environment: ["https_proxy": "127.0.0.1:\(port)"])
                let client = HTTPClient(options: .init(caFile: FileSystem.join(directory, "ca.pem"), proxies: proxies))
                #expect(try client.fetch(try server.url("/file.bin", host: "localhost")).1 == file)
                #expect(try log() == ["CONNECT localhost:\(server.port)"])
            }
        }
    }

    @Test func noProxyGoesDirectly() throws {
        try withServer(files: ["file.bin": file]) { server, _ throws in
            try withProxy { port, log throws in
                let proxies = ProxySettings(environment: ["http_proxy": "http://127.0.0.1:\(port)", "no_proxy": "localhost,127.0.0.0/8"])
                #expect(try HTTPClient(options: .init(proxies: proxies)).fetch(try server.url("/file.bin")).1 == file)
                #expect(try log().isEmpty)
            }
        }
    }

    @Test func credentialsFromTheProxyURLAreSent() throws {
        try withServer(files: ["file.bin": file], tls: true) { server, directory throws in
            try withProxy(auth: "user:pa:ss") { port, log throws in
                let ca = FileSystem.join(directory, "ca.pem")
                let url = try server.url("/file.bin")
                let anonymous = ProxySettings(environment: ["https_proxy": "http://127.0.0.1:\(port)"])
                let refused = swrunError { _ = try HTTPClient(options: .init(caFile: ca, proxies: anonymous)).fetch(url) }
                #expect(refused?.code == .unauthorized && refused?.message.contains("407") == true)
                #expect(refused?.hint?.contains("https_proxy=http://USER:PASSWORD@127.0.0.1:\(port)") == true)
                let named = ProxySettings(environment: ["https_proxy": "http://user:pa%3Ass@127.0.0.1:\(port)"])
                #expect(try HTTPClient(options: .init(caFile: ca, proxies: named)).fetch(url).1 == file)
                #expect(try log() == ["CONNECT 127.0.0.1:\(server.port)", "CONNECT 127.0.0.1:\(server.port) auth"])
            }
        }
    }

    @Test func plainHTTPThroughAProxyThatWantsCredentialsIsNamed() throws {
        try withServer(files: ["file.bin": file]) { server, _ throws in
            try withProxy(auth: "user:pass") { port, _ throws in
                let proxies = ProxySettings(environment: ["http_proxy": "http://127.0.0.1:\(port)"])
                let error = swrunError { _ = try HTTPClient(options: .init(proxies: proxies)).fetch(try server.url("/file.bin")) }
                #expect(error?.code == .unauthorized && error?.message.contains("the proxy 127.0.0.1:\(port) (from http_proxy)") == true)
            }
        }
    }

    @Test func anUnreachableProxyIsNamedWithAWayAround() throws {
        let proxies = ProxySettings(environment: ["https_proxy": "http://127.0.0.1:1"])
        let error = swrunError { _ = try HTTPClient(options: .init(proxies: proxies)).fetch(try HTTPURL("https://registry.example/v2/")) }
        #expect(error?.message.hasPrefix("cannot reach the proxy 127.0.0.1:1 (from https_proxy) for https://registry.example/v2/") == true,
                "\(String(describing: error))")
        #expect(error?.hint?.contains("no_proxy=registry.example") == true)
    }
}
