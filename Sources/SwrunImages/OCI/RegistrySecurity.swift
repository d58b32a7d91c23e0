import Glibc
import SwrunHTTP
import SwrunSystem

/// Which registries swrun may pull from over plain HTTP, as Docker decides: a registry on
/// this machine (exactly `localhost`, an address in 127.0.0.0/8, or ::1), or one the user
/// lists as insecure: in containers-registries.conf(5), the file podman reads
/// (/etc/containers/registries.conf and registries.conf.d/*.conf; SWRUN_REGISTRIES_CONF
/// names another file instead), or in SWRUN_INSECURE_REGISTRIES (Docker's
/// `insecure-registries`). Every other registry is HTTPS only. Names are compared whole:
/// `localhost.example.org` is not local; `*.lan` (a registries.conf prefix) is any name in lan.
public struct RegistrySecurity: Sendable, Equatable {
    /// `HOST` (any port), `HOST:PORT`, or `*.DOMAIN`.
    public var insecureRegistries: [String]
    /// The registries.conf read (or that would be, were it there): named in the hint of a refusal.
    public var configFile: String
    /// Why a registries.conf was not read (its line and reason), for the hint of a refusal.
    public var configProblem: String?

    public init(insecureRegistries: [String] = [], configFile: String = "/etc/containers/registries.conf") {
        self.insecureRegistries = insecureRegistries.map { $0.lowercased() }
        self.configFile = configFile
    }

    /// SWRUN_INSECURE_REGISTRIES (entries separated by commas or spaces) and the registries.conf
    /// of SWRUN_REGISTRIES_CONF or the system's, from `environment` (tests), or this process's.
    /// A file that cannot be read as registries.conf adds nothing, and its problem is kept for
    /// the hint of a refusal (the error surfaces where it matters, not in every command).
    public init(environment: [String: String]?) {
        func variable(_ name: String) -> String? { environment.map { $0[name] } ?? getenv(name).map { String(cString: $0) } }
        let listed = (variable("SWRUN_INSECURE_REGISTRIES") ?? "").split { $0 == "," || $0 == " " }.map(String.init)
        let configFile = variable("SWRUN_REGISTRIES_CONF") ?? RegistriesConf.systemFile
        var files = [configFile]
        if variable("SWRUN_REGISTRIES_CONF") == nil {
            files += ((try? FileSystem.listDirectory(RegistriesConf.systemDropIns)) ?? []).filter { $0.hasSuffix(".conf") }.sorted()
                .map { FileSystem.join(RegistriesConf.systemDropIns, $0) }
        }
        var fromFiles: [String] = []
        var problems: [String] = []
        for file in files where FileSystem.exists(file) {
            do {
                fromFiles += try RegistriesConf.insecureRegistries(in: try FileSystem.readText(file))
            } catch let error as RegistriesConf.Failure {
                problems.append("\(file):\(error.line): \(error.reason)")
            } catch {
                problems.append("\(file): \(error)")
            }
        }
        self.init(insecureRegistries: listed + fromFiles, configFile: configFile)
        configProblem = problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    /// Whether `registry` (`HOST[:PORT]`, an IPv6 address in brackets) may be reached over plain HTTP.
    public func allowsPlainHTTP(_ registry: String) -> Bool {
        guard let url = try? HTTPURL("https://" + registry) else { return false }
        if Self.isLoopback(url.host) { return true }
        let name = registry.lowercased()
        return insecureRegistries.contains { entry in
            if entry.hasPrefix("*.") { return url.host.lowercased().hasSuffix(entry.dropFirst()) }
            return entry == name || entry == url.host || entry == "[" + url.host + "]"
        }
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
