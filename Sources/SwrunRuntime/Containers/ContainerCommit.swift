import Glibc
import SwrunImages
import SwrunJSON
import SwrunSystem

/// `swrun commit` (docker commit): a container's files as an image. An overlay container over
/// the cached image it came from gives that image plus one layer of its changes (its upper
/// directory, whiteouts as OCI writes them); any other container gives an image of one layer,
/// its whole rootfs, with the argv it was made with.
public enum ContainerCommit {
    public static func commit(_ name: String, of store: ContainerStore, as target: String, images: OCIStore,
                              options: ImageCommit.Options) throws(SwrunError) -> String {
        try store.requireExisting(name)
        let config = try store.config(of: name)
        let directory = store.directory(of: name)
        let sidecar = try ContainerSidecar.load(from: directory)
        let commit = ImageCommit(store: images)
        var options = options
        options.idMaps = config.idmaps
        if let overlay = config.rootOverlay, let base = commit.base(sidecar.image, matching: overlay.lowers) {
            return try commit.commit(overlay.upper, over: base.manifest, as: target, options: options)
        }
        // A new base image: the container's argv first, so that --change may override it.
        var flattened = options
        let argv = { (words: [String]) in JSONValue.array(words.map { .string($0) }).serialized }
        flattened.changes = (sidecar.entrypoint.isEmpty ? [] : ["ENTRYPOINT " + argv(sidecar.entrypoint)])
            + (sidecar.command.isEmpty ? [] : ["CMD " + argv(sidecar.command)]) + options.changes
        return try ContainerFiles.withFiles(of: config, in: directory, scratch: ".commit") { (root) throws(SwrunError) in
            try commit.commit(root, over: nil, as: target, options: flattened)
        }
    }
}
