import SwrunHTTP
import SwrunSystem
import Testing

@Suite struct HTTPURLTests {
    @Test func parsesSchemeHostPortAndPath() throws {
        let url = try HTTPURL("https://Images.Example.org:8443/streams/v1/index.json?x=1#part")
        #expect(url.scheme == .https)
        #expect(url.host == "images.example.org")
        #expect(url.port == 8443)
        #expect(url.path == "/streams/v1/index.json?x=1")
        #expect(url.description == "https://images.example.org:8443/streams/v1/index.json?x=1")
    }

    @Test func defaultsPortAndPath() throws {
        let plain = try HTTPURL("http://example.org")
        #expect(plain.port == 80)
        #expect(plain.path == "/")
        #expect(plain.description == "http://example.org/")
        #expect(try HTTPURL("https://example.org?q").path == "/?q")
        #expect(try HTTPURL("https://example.org:443/x").description == "https://example.org/x")
    }

    @Test func parsesIPv6Literals() throws {
        let url = try HTTPURL("http://[::1]:8080/a")
        #expect(url.host == "::1")
        #expect(url.port == 8080)
        #expect(url.authority == "[::1]:8080")
        #expect(url.description == "http://[::1]:8080/a")
        #expect(try HTTPURL("https://[2001:db8::1]/").port == 443)
    }

    @Test(arguments: [
        "ftp://example.org/x", "example.org/x", "http://", "http://user:pw@example.org/",
        "http://example.org:0/", "http://example.org:99999/", "http://example.org:x/", "http://[::1/", "http://[example]/",
    ])
    func rejectsBadURLs(_ text: String) {
        let error = swrunError { _ = try HTTPURL(text) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains(text) == true)
    }

    @Test func escapesSpacesInPaths() throws {
        #expect(try HTTPURL("http://h/a b/ü").path == "/a%20b/%C3%BC")
    }

    @Test(arguments: [
        ("https://cdn.example.net/blob?sig=1", "https://cdn.example.net/blob?sig=1"),
        ("//cdn.example.net/blob", "http://cdn.example.net/blob"),
        ("/other/path?q=1", "http://example.org:8080/other/path?q=1"),
        ("?page=2", "http://example.org:8080/a/b/c?page=2"),
        ("d", "http://example.org:8080/a/b/d"),
        ("./d/", "http://example.org:8080/a/b/d/"),
        ("../d", "http://example.org:8080/a/d"),
        ("../../../../d", "http://example.org:8080/d"),
        ("/x/./y/../z", "http://example.org:8080/x/z"),
        ("..", "http://example.org:8080/a/"),
        ("", "http://example.org:8080/a/b/c?x"),
        ("d#fragment", "http://example.org:8080/a/b/d"),
    ])
    func resolvesRedirectLocations(_ location: String, _ expected: String) throws {
        let base = try HTTPURL("http://example.org:8080/a/b/c?x")
        #expect(try base.resolving(location).description == expected)
    }

    @Test func resolvingAnUnsupportedSchemeFails() throws {
        let base = try HTTPURL("https://example.org/")
        #expect(swrunError { _ = try base.resolving("ftp://example.org/x") }?.code == .invalidArgument)
    }
}
