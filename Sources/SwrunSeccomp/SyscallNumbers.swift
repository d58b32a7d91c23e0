/// One architecture's system call numbers, as (name, number) sorted by name: a lookup is a
/// binary search over a table the compiler lays out, where a dictionary of some 470 names
/// had to be built and hashed in every process that compiles a filter (every start).
struct SyscallNumbers: Sendable {
    private let rows: [(name: StaticString, number: UInt32)]

    init(_ rows: [(name: StaticString, number: UInt32)]) { self.rows = rows }

    subscript(name: String) -> UInt32? {
        var name = name
        return name.withUTF8 { wanted in
            var low = 0
            var high = rows.count
            while low < high {
                let middle = (low + high) / 2
                let row = rows[middle]
                let order = Self.compare(UnsafeBufferPointer(start: row.name.utf8Start, count: row.name.utf8CodeUnitCount), wanted)
                if order == 0 { return row.number }
                if order < 0 { low = middle + 1 } else { high = middle }
            }
            return nil
        }
    }

    /// Byte order, as the generator sorts the rows.
    private static func compare(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
        return a.count - b.count
    }
}
