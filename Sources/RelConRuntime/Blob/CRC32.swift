// IEEE 802.3 CRC-32 (reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF): Python's zlib.crc32.
// The 1 KiB lookup table is built on the stack for each call (no globals, no heap); building it costs
// 2,048 shift-xor steps, nothing next to a blob of kilobytes to megabytes.

enum CRC32 {
    /// CRC-32 of `count` bytes at `base`, with the 4 bytes at `zeroedOffset` read as zero (the blob's own
    /// crc field, docs/blob-format.md). Pass `zeroedOffset: nil` to checksum the bytes as they are.
    static func checksum(_ base: UnsafeRawPointer, count: Int, zeroedOffset: Int?) -> UInt32 {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 256) { table -> UInt32 in
            guard let t = table.baseAddress else { return 0 }
            for n in 0..<256 {
                var c = UInt32(truncatingIfNeeded: n)
                for _ in 0..<8 { c = (c & 1) != 0 ? (0xEDB8_8320 ^ (c >> 1)) : (c >> 1) }
                t[n] = c
            }
            let bytes = base.assumingMemoryBound(to: UInt8.self)
            var crc: UInt32 = 0xFFFF_FFFF
            @inline(__always) func feed(_ from: Int, _ to: Int) {
                var i = from
                while i < to {
                    crc = t[Int(truncatingIfNeeded: (crc ^ UInt32(bytes[i])) & 0xFF)] ^ (crc >> 8)
                    i &+= 1
                }
            }
            if let z = zeroedOffset, z >= 0, z <= count &- 4 {
                feed(0, z)
                for _ in 0..<4 { crc = t[Int(truncatingIfNeeded: crc & 0xFF)] ^ (crc >> 8) }
                feed(z &+ 4, count)
            } else {
                feed(0, count)
            }
            return crc ^ 0xFFFF_FFFF
        }
    }
}
