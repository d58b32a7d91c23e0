// libFuzzer target: LXC config files (the container's config, and an image's config from a
// download), which must be written back byte for byte.
import SwrunConfig
import SwrunImages
import SwrunSystem

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLXCConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let text = String(decoding: bytes, as: UTF8.self)
    if let file = try? ConfigFile(text: text, path: "fuzz.conf") {
        if file.rendered() != text { fatalError("a config is not written back as it was read") }
        _ = try? ContainerConfig(settings: file.settings)
    }
    _ = try? TemplateConfig.imageSettings(of: text, source: "fuzz-image-config")
    return 0
}
