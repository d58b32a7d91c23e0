// libFuzzer target: what image servers and registries describe their images with: LXC's
// legacy index, simplestreams index and products, OCI manifests, indexes and image configs.
import SwrunImages
import SwrunJSON
import SwrunSystem

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImageIndex(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    if let images = try? LXCImageIndex.parseLegacy(String(decoding: bytes, as: UTF8.self), source: "index-system") {
        for image in images { _ = (image.key, image.buildTime) }
    }
    guard let document = try? JSONValue(parsing: bytes) else { return 0 }
    _ = try? LXCImageIndex.productsPath(inStreamsIndex: document, source: "index.json")
    if let images = try? LXCImageIndex.parseProducts(document, source: "images.json") {
        for image in images { _ = (image.key, image.buildTime) }
    }
    _ = try? ImageManifest(document, source: "manifest")
    _ = try? ImageManifest.select(from: document, architecture: "amd64", variant: nil, source: "index")
    _ = ImageRunConfig(document).argv
    return 0
}
