import Glibc
import SwrunSystem

/// Reads a container config with its lxc.include lines expanded, recursively.
public struct ConfigLoader: Sendable {
    /// Put in place of LXC_TEMPLATE_CONFIG in include paths, as LXC's templates expect
    /// ("lxc.include = LXC_TEMPLATE_CONFIG/ubuntu.common.conf").
    public var templateConfigDirectory: String

    public init(templateConfigDirectory: String = "/usr/share/lxc/config") {
        self.templateConfigDirectory = templateConfigDirectory
    }

    /// The settings of `path`, flat and in effective order: each lxc.include line is
    /// replaced by the settings of the included file, or of every "*.conf" file of an
    /// included directory in name order. An empty lxc.include value does nothing.
    public func settings(ofFile path: String) throws(SwrunError) -> [ConfigSetting] {
        var result: [ConfigSetting] = []
        try expand(path, includedFrom: nil, chain: [], into: &result)
        return result
    }

    private func expand(_ path: String, includedFrom: ConfigSetting?, chain: [String],
                        into result: inout [ConfigSetting]) throws(SwrunError) {
        let file: ConfigFile
        do {
            file = try ConfigFile.load(path)
        } catch {
            guard let includedFrom else { throw error }
            if error.code == .invalidConfig {
                throw SwrunError(error.code, "\(error.message) (included from \(includedFrom.location))", hint: error.hint)
            }
            throw SwrunError(error.code, "\(includedFrom.location): cannot include '\(includedFrom.value)' (\(path))",
                             errno: error.errno, hint: "check the path in the lxc.include line, or remove the line")
        }
        let identity = Self.canonical(path)
        if let includedFrom, chain.contains(identity) {
            let cycle = (chain + [identity]).joined(separator: " -> ")
            throw SwrunError(.invalidConfig, "\(includedFrom.location): lxc.include makes a cycle: \(cycle)",
                             hint: "a file must not include itself, directly or through other files; remove one of these lxc.include lines")
        }
        let chain = chain + [identity]
        for setting in file.settings {
            guard setting.key == "lxc.include" else {
                result.append(setting)
                continue
            }
            if setting.value.isEmpty { continue }
            for included in try files(of: setting, in: FileSystem.parentPath(path)) {
                try expand(included, includedFrom: setting, chain: chain, into: &result)
            }
        }
    }

    /// The files one lxc.include line names. Like LXC: a path ending in "/" or naming a
    /// directory means every "*.conf" file in it (a missing such directory is no error);
    /// anything else is one file. Unlike LXC, which reads names in directory order, they
    /// are sorted, and a relative path is taken from the including file's directory
    /// rather than from the current directory.
    private func files(of setting: ConfigSetting, in directory: String) throws(SwrunError) -> [String] {
        var target = setting.value.replacing("LXC_TEMPLATE_CONFIG", with: templateConfigDirectory)
        if !target.hasPrefix("/") {
            target = FileSystem.join(directory.isEmpty ? "." : directory, target)
        }
        guard target.hasSuffix("/") || FileSystem.isDirectory(target) else { return [target] }
        let names: [String]
        do {
            names = try FileSystem.listDirectory(target)
        } catch {
            if error.code == .notFound { return [] }
            throw SwrunError(error.code, "\(setting.location): cannot include directory '\(setting.value)'",
                             errno: error.errno, hint: "check the path in the lxc.include line, or remove the line")
        }
        return names
            .filter { $0.count > ".conf".count && $0.hasSuffix(".conf") }
            .map { FileSystem.join(target, $0) }
            .filter { !FileSystem.isDirectory($0) }
    }

    /// One name per file, however it is reached, so that a cycle through a symlink or
    /// "../" is still seen.
    static func canonical(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
