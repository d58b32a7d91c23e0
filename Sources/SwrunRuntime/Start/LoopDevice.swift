import Glibc
import SwrunSystem

/// A loop device for an image file, attached as `losetup -f` would, with LO_FLAGS_AUTOCLEAR:
/// the kernel detaches it once the last user (the mount) lets go, so a crash leaves none.
enum LoopDevice {
    static let getFree: UInt = 0x4C82  // LOOP_CTL_GET_FREE
    static let configure: UInt = 0x4C0A  // LOOP_CONFIGURE (Linux 5.8): the file and flags in one call
    static let autoclear: UInt32 = 4  // LO_FLAGS_AUTOCLEAR
    /// struct loop_config: fd, block_size, loop_info64 (lo_flags at 52), 64 reserved bytes.
    static let configSize = 304
    static let flagsOffset = 8 + 52

    static func attach(_ image: String) throws(SwrunError) -> (fd: Int32, path: String) {
        let file = open(image, O_RDWR | O_CLOEXEC)
        guard file >= 0 else { throw SwrunError.system("cannot open the rootfs image \(image)", Errno.current) }
        defer { close(file) }
        let control = open("/dev/loop-control", O_RDWR | O_CLOEXEC)
        guard control >= 0 else {
            throw SwrunError.system("cannot open /dev/loop-control", Errno.current, hint: "the kernel needs loop devices (CONFIG_BLK_DEV_LOOP)")
        }
        defer { close(control) }
        var config = [UInt8](repeating: 0, count: configSize)
        withUnsafeBytes(of: UInt32(file).littleEndian) { config.replaceSubrange(0..<4, with: $0) }
        withUnsafeBytes(of: autoclear.littleEndian) { config.replaceSubrange(flagsOffset..<flagsOffset + 4, with: $0) }
        // Another process may take the free device first: ask again.
        for _ in 0..<10 {
            let number = ioctl(control, getFree)
            guard number >= 0 else { throw SwrunError.system("no free loop device", Errno.current) }
            let path = "/dev/loop\(number)"
            let loop = open(path, O_RDWR | O_CLOEXEC)
            guard loop >= 0 else { throw SwrunError.system("cannot open \(path)", Errno.current) }
            let result = config.withUnsafeMutableBytes { ioctl(loop, configure, $0.baseAddress!) }
            if result == 0 { return (loop, path) }
            let error = Errno.current
            close(loop)
            guard error == Errno(rawValue: EBUSY) else {
                throw SwrunError.system("cannot attach \(image) to \(path)", error, hint: "this needs Linux 5.8 (LOOP_CONFIGURE)")
            }
        }
        throw SwrunError(.busy, "every free loop device was taken by others as swrun asked", hint: "try again")
    }
}
