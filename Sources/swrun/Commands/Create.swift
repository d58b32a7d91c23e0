import ArgumentParser
import SwrunConfig
import SwrunRuntime
import SwrunSystem

struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a container from a template (lxc-create).",
        discussion: "Writes LXCPATH/NAME/config and LXCPATH/NAME/rootfs. Templates: \(ContainerCreator.templates.joined(separator: ", ")).")

    @Option(name: [.customShort("n"), .long], help: "The new container's name.")
    var name: String

    @Option(name: [.customShort("t"), .long], help: "The template that builds the rootfs.")
    var template: String

    @Option(name: [.customShort("f"), .customLong("config")], help: "Initial config to start from, instead of lxc.default_config (/etc/lxc/default.conf).")
    var config: String?

    @OptionGroup var path: LXCPathOption

    func run() throws {
        try reportingErrors { () throws(SwrunError) -> Int32 in
            try requireRoot("swrun create")
            if let config, !FileSystem.exists(config) {
                throw SwrunError(.notFound, "config file \(config) does not exist", hint: "give the path of an LXC config file to -f")
            }
            let store = try path.store()
            let creator = ContainerCreator(store: store, defaultConfigPath: try initialConfig(config),
                                           report: { printError("swrun: \($0)") })
            try creator.create(name: name, template: template)
            print("Created container \(name) in \(store.directory(of: name))")
            return 0
        }
    }
}
