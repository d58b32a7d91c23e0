import Glibc
import SwrunConfig
import SwrunImages
import SwrunSystem

/// `swrun create`: a new container directory with a rootfs from a template and
/// a config made of the defaults (default.conf or -f FILE) plus the template's lines.
/// Any failure removes what was made, so a name is either fully created or free.
public struct ContainerCreator {
    public let store: ContainerStore
    /// The file whose settings start every new config (lxc.default_config, or -f). Missing is fine.
    public let defaultConfigPath: String?
    public let report: (String) -> Void

    public init(store: ContainerStore, defaultConfigPath: String?, report: @escaping (String) -> Void = { _ in }) {
        self.store = store
        self.defaultConfigPath = defaultConfigPath
        self.report = report
    }

    public static let templates = [BusyboxTemplate.name]

    public func create(name: String, template: String) throws(SwrunError) {
        try ContainerName.validate(name)
        guard template == BusyboxTemplate.name else {
            throw SwrunError(.invalidArgument, "unknown template '\(template)'",
                             hint: "available templates: \(Self.templates.joined(separator: ", "))")
        }
        let busybox = BusyboxTemplate()
        try busybox.checkHost()
        let defaults = try defaultConfigText()

        try FileSystem.makeDirectories(store.lxcPath, mode: 0o755)
        let directory = store.directory(of: name)
        do {
            try FileSystem.makeDirectory(directory, mode: 0o770)
        } catch where error.code == .alreadyExists {
            throw SwrunError(.alreadyExists, "container '\(name)' already exists in \(store.lxcPath)",
                             hint: "pick another name, or remove it first with `swrun destroy -n \(name) -P \(store.lxcPath)`")
        }
        do {
            let rootfs = FileSystem.join(directory, "rootfs")
            try FileSystem.makeDirectory(rootfs, mode: 0o755)
            report("building a busybox rootfs in \(rootfs)")
            try busybox.install(rootfs: rootfs, name: name)
            var config = try ConfigFile(text: header(name: name, template: template) + defaults, path: store.configPath(of: name))
            config.append("lxc.rootfs.path", "dir:" + rootfs)
            config.append("lxc.uts.name", name)
            for (key, value) in busybox.configSettings() { config.append(key, value) }
            // LXC shares the host's network with a container whose config names no network;
            // swrun always gives it a namespace of its own. Say so in the file, so that LXC
            // reading it isolates the container too (a DHCP client in it must never reach the host's links).
            if !config.settings.contains(where: { $0.key.hasPrefix("lxc.net.") }) {
                config.append("lxc.net.0.type", "empty")
            }
            try config.write()
            _ = try store.config(of: name)  // what we wrote must load
        } catch {
            try? FileSystem.removeTree(directory)
            throw error
        }
    }

    /// The default config's text, checked first so that its errors name its own file and line.
    private func defaultConfigText() throws(SwrunError) -> String {
        guard let path = defaultConfigPath, FileSystem.exists(path) else { return "" }
        _ = try ContainerConfig(settings: ConfigLoader().settings(ofFile: path))
        var text = try FileSystem.readText(path)
        if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        return text.isEmpty ? "" : "# From \(path):\n" + text + "\n"
    }

    private func header(name: String, template: String) -> String {
        "# Container \(name), created by swrun from the \(template) template.\n"
            + "# The keys are LXC's: see lxc.container.conf(5).\n\n"
    }
}
