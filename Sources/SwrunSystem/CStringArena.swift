import Glibc

/// C strings and small buffers made in the parent before a fork, so that the
/// child can use them without allocating. The arena frees them when the parent
/// is done with the container; the child's copy vanishes with its execve.
public final class CStringArena {
    private var pointers: [UnsafeMutableRawPointer] = []

    public init() {}

    deinit { for pointer in pointers { free(pointer) } }

    /// A NUL-terminated copy of `string`.
    public func cString(_ string: String) -> UnsafeMutablePointer<CChar> {
        guard let copy = strdup(string) else { fatalError("out of memory") }
        pointers.append(UnsafeMutableRawPointer(copy))
        return copy
    }

    /// A NULL-terminated array of C strings, as execve wants for argv and envp.
    public func cStringArray(_ strings: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        let array = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() { array[index] = cString(string) }
        array[strings.count] = nil
        pointers.append(UnsafeMutableRawPointer(array))
        return array
    }

    /// A copy of `bytes` that lives as long as the arena.
    public func bytes(_ bytes: [UInt8]) -> UnsafeRawBufferPointer {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
        buffer.copyBytes(from: bytes)
        if let base = buffer.baseAddress { pointers.append(base) }
        return UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<bytes.count])
    }

    /// Takes ownership of memory allocated elsewhere, freed with the arena.
    public func adopt(_ pointer: UnsafeMutableRawPointer) {
        pointers.append(pointer)
    }

    /// Zeroed scratch memory for the child to receive into.
    public func scratch(_ count: Int) -> UnsafeMutableRawBufferPointer {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 8)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        if let base = buffer.baseAddress { pointers.append(base) }
        return buffer
    }
}
