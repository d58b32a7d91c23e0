import Glibc
import SwrunHTTP
import SwrunSystem

/// Which registries swrun may pull from over plain HTTP, as Docker decides: a registry on
/// this machine (exactly `localhost`, an address in 127.0.0.0/8, or ::1), or one the user
/// names in SWRUN_INSECURE_REGISTRIES (Docker's `insecure-registries`). Every other
/// registry is HTTPS only. Names are compared whole: `localhost.example.org` is not local.
public struct RegistrySecurity: Sendable, Equatable {
    /// Entries of SWRUN_INSECURE_REGISTRIES: `HOST` (any port) or `HOST:PORT`.
    public var insecureRegistries: [String]

    public init(insecureRegistries: [String] = []) {
        self.insecureRegistries = insecureRegistries.map { $0.lowercased() }
    }

    /// SWRUN_INSECURE_REGISTRIES from `environment` (tests), or this process's: entries
    /// separated by commas or spaces.
    public init(environment: [String: String]?) {
        let text = environment.map { $0["SWRUN_INSECURE_REGISTRIES"] } ?? getenv("SWRUN_INSECURE_REGISTRIES").map { String(cString: $0) }
        self.init(insecureRegistries: (text ?? "").split { $0 == "," || $0 == " " }.map(String.init))
    }

    /// Whether `registry` (`HOST[:PORT]`, an IPv6 address in brackets) may be reached over plain HTTP.
    public func allowsPlainHTTP(_ registry: String) -> Bool {
        guard let url = try? HTTPURL("https://" + registry) else { return false }
        if Self.isLoopback(url.host) { return true }
        let name = registry.lowercased()
        return insecureRegistries.contains { $0 == name || $0 == url.host || $0 == "[" + url.host + "]" }
    }

    /// `localhost` itself, 127.0.0.0/8, or ::1; never a name that merely starts like them.
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, host, &v6) == 1 else { return false }
        return withUnsafeBytes(of: &v6) { Array($0) } == [UInt8](repeating: 0, count: 15) + [1]
    }
}
