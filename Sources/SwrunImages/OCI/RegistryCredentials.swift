import SwrunJSON
import SwrunSystem

/// Registry logins, where Docker and podman keep them: "auths" of a JSON file, each registry's
/// "auth" the base64 of "USER:PASSWORD". Read from $REGISTRY_AUTH_FILE, podman's
/// $XDG_RUNTIME_DIR/containers/auth.json and Docker's ~/.docker/config.json, in that order;
/// written (`swrun login`) to $REGISTRY_AUTH_FILE, or else Docker's file.
public struct RegistryCredentials: Sendable {
    let environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    var readPaths: [String] {
        [environment["REGISTRY_AUTH_FILE"], environment["XDG_RUNTIME_DIR"].map { $0 + "/containers/auth.json" }, dockerFile].compactMap { $0 }
    }

    /// Where a login goes.
    public var writePath: String? { environment["REGISTRY_AUTH_FILE"] ?? dockerFile }

    private var dockerFile: String? { environment["HOME"].map { $0 + "/.docker/config.json" } }

    /// The user and password stored for `registry` (docker.io under Docker's old key too).
    public func lookup(_ registry: String) -> (user: String, password: String)? {
        let keys = registry == "docker.io" ? ["docker.io", "https://index.docker.io/v1/", "index.docker.io"] : [registry, "https://" + registry, "http://" + registry]
        for path in readPaths {
            guard let document = try? JSONValue(parsing: (try? FileSystem.readBytes(path)) ?? []) else { continue }
            for key in keys {
                if let auth = document["auths"]?[key]?["auth"]?.string, let decoded = Base64.decode(auth),
                   let colon = decoded.firstIndex(of: ":") {
                    return (String(decoded[..<colon]), String(decoded[decoded.index(after: colon)...]))
                }
            }
        }
        return nil
    }

    /// Stores (or with nil, removes) the login for `registry`, keeping the file's other entries.
    public func store(_ registry: String, user: String?, password: String?) throws(SwrunError) {
        guard let path = writePath else {
            throw SwrunError(.invalidArgument, "no place for registry logins: neither REGISTRY_AUTH_FILE nor HOME is set", hint: "set REGISTRY_AUTH_FILE")
        }
        var document = ((try? JSONValue(parsing: (try? FileSystem.readBytes(path)) ?? [])) ?? nil)?.object ?? [:]
        var auths = document["auths"]?.object ?? [:]
        if let user, let password {
            auths[registry] = .object(["auth": .string(Base64.encode(user + ":" + password))])
        } else {
            guard auths.removeValue(forKey: registry) != nil else {
                throw SwrunError(.notFound, "not logged in to \(registry) (\(path))", hint: "see the logins in \(path)")
            }
        }
        document["auths"] = .object(auths)
        try FileSystem.makeDirectories(FileSystem.parentPath(path), mode: 0o700)
        try FileSystem.writeAtomically(path, JSONValue.object(document).serialized + "\n", mode: 0o600)
    }
}

/// RFC 4648 base64, for HTTP Basic credentials.
enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        for start in stride(from: 0, to: bytes.count, by: 3) {
            let chunk = Array(bytes[start..<min(start + 3, bytes.count)]) + [0, 0]
            let value = UInt32(chunk[0]) << 16 | UInt32(chunk[1]) << 8 | UInt32(chunk[2])
            let count = min(3, bytes.count - start)
            for index in 0..<4 {
                out.append(index <= count ? alphabet[Int((value >> (18 - 6 * UInt32(index))) & 63)] : UInt8(ascii: "="))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> String? {
        var value: UInt32 = 0, bits = 0
        var out: [UInt8] = []
        for byte in text.utf8 where byte != UInt8(ascii: "=") {
            guard let index = alphabet.firstIndex(of: byte) else { return nil }
            value = value << 6 | UInt32(index)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((value >> UInt32(bits)) & 0xFF))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
