// libFuzzer target: the JSON reader (indexes, manifests, image configs, tokens), and that
// what it reads is written back to text that reads the same.
import SwrunJSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let value = try? JSONValue(parsing: bytes) else { return 0 }
    let text = value.serialized
    guard let again = try? JSONValue(parsing: text), again == value else {
        fatalError("JSON written back does not read the same: \(text)")
    }
    return 0
}
