// libFuzzer target: the tar reader over untrusted archive bytes (image layers, rootfs tarballs).
import SwrunImages
import SwrunSystem

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTarReader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let reader = TarReader(MemorySource(bytes), name: "fuzz.tar", limits: ArchiveLimits(members: 10_000, bytes: 1 << 30))
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 16)
    defer { buffer.deallocate() }
    do {
        var index = 0
        while let entry = try reader.next() {
            // Read some members' data and leave the rest for next() to skip.
            if index % 2 == 0 { while try reader.readData(into: buffer) > 0 {} }
            _ = (entry.path, entry.kind, entry.extendedAttributes.count)
            index += 1
        }
    } catch {}
    return 0
}
