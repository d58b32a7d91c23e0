import SwrunRuntime
import SwrunSystem

enum CreateCommand: Command {
    static let spec = CommandSpec(
        name: "create",
        abstract: "Create a container from a template (lxc-create).",
        discussion: "Writes LXCPATH/NAME/config and LXCPATH/NAME/rootfs. Templates: \(ContainerCreator.templates.joined(separator: ", ")).",
        options: [
            CommonOptions.name,
            .init(short: "t", long: "template", value: "TEMPLATE", help: "The template that builds the rootfs."),
            .init(short: nil, long: "unprivileged", value: nil,
                  help: "Root inside is an unprivileged id on the host: lxc.idmap from the config, else from /etc/subuid and /etc/subgid."),
            CommonOptions.config, CommonOptions.lxcPath,
        ])
    static let requiredOptions = ["name", "template"]

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let name = try arguments.required("name", of: spec)
        let template = try arguments.required("template", of: spec)
        try requireRoot("swrun create")
        let store = try arguments.store()
        let creator = ContainerCreator(store: store, defaultConfigPath: try arguments.initialConfig(),
                                       report: { printError("swrun: \($0)") })
        try creator.create(name: name, template: template, unprivileged: arguments.flag("unprivileged"))
        print("Created container \(name) in \(store.directory(of: name))")
        return 0
    }
}
