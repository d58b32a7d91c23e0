// libFuzzer target: the kernel's netlink answers, split into messages and read as links,
// addresses and error replies.
import SwrunNetlink

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNetlink(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    for message in NetlinkReply.messages(in: bytes[...]) {
        _ = LinkDump.link(in: message)
        _ = AddressDump.address(in: message)
        _ = message.withUnsafeBytes { NetlinkReply.errorNumber(in: $0) }
    }
    _ = bytes.withUnsafeBytes { NetlinkReply.errorNumber(in: $0) }
    return 0
}
