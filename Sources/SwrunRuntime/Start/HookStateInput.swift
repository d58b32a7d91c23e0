import CLinux
import Glibc

/// The container's state for the OCI hooks that run inside it (createContainer,
/// startContainer), which read it on stdin like those on the host. Init exists before its pid
/// does, so swrun writes the state into a pipe once init is cloned; init reads it once, the
/// first time a hook needs it, into a buffer allocated before the clone. Raw calls only.
struct HookStateInput {
    /// [0] the read end (init's), [1] the write end (swrun's); -1 where no hook reads the state.
    let pipe: UnsafeMutablePointer<Int32>
    /// The state's length in the first 8 bytes (-1 until read), then its bytes.
    let buffer: UnsafeMutableRawBufferPointer

    var isUsed: Bool { pipe[0] >= 0 }

    /// The state: read from the pipe to its end the first time; nil where there is none.
    func bytes() -> UnsafeRawBufferPointer? {
        guard isUsed, buffer.count > 8 else { return nil }
        var length = buffer.load(as: Int.self)
        if length < 0 {
            length = 0
            while length < buffer.count - 8 {
                let count = read(pipe[0], buffer.baseAddress! + 8 + length, buffer.count - 8 - length)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                length += count
            }
            buffer.storeBytes(of: length, as: Int.self)
        }
        return UnsafeRawBufferPointer(start: buffer.baseAddress! + 8, count: length)
    }
}
