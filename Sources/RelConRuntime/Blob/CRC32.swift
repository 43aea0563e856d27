// IEEE 802.3 CRC-32 (reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF): Python's zlib.crc32.
// Slicing by 4: four bytes per step through four 1 KiB lookup tables that are constant data
// (rlck_crc32_table, Sources/CRelConKernels/crc32_table.c: .rodata / flash, no globals written, no heap).
// relcon_embed checks the session's control block (about 3 KB for the reference encoder) on every call.

import CRelConKernels

enum CRC32 {
    /// CRC-32 of `count` bytes at `base`, with the 4 bytes at `zeroedOffset` read as zero (the blob's own
    /// crc field, docs/blob-format.md). Pass `zeroedOffset: nil` to checksum the bytes as they are.
    static func checksum(_ base: UnsafeRawPointer, count: Int, zeroedOffset: Int?) -> UInt32 {
        let t: UnsafePointer<UInt32> = rlck_crc32_rows()   // [4][256], row k at t + 256·k, in place (.rodata)
        var crc: UInt32 = 0xFFFF_FFFF
        /// Four bytes (little-endian word w) at once.
        @inline(__always) func word(_ w: UInt32) {
            let c = crc ^ w
            crc = t[768 &+ Int(truncatingIfNeeded: c & 0xFF)] ^ t[512 &+ Int(truncatingIfNeeded: (c >> 8) & 0xFF)]
                ^ t[256 &+ Int(truncatingIfNeeded: (c >> 16) & 0xFF)] ^ t[Int(truncatingIfNeeded: c >> 24)]
        }
        @inline(__always) func feed(_ from: Int, _ to: Int) {
            var i = from
            while i &+ 4 <= to {
                word(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
                i &+= 4
            }
            while i < to {
                crc = t[Int(truncatingIfNeeded: (crc ^ UInt32(base.load(fromByteOffset: i, as: UInt8.self))) & 0xFF)]
                    ^ (crc >> 8)
                i &+= 1
            }
        }
        if let z = zeroedOffset, z >= 0, z <= count &- 4 {
            feed(0, z)
            word(0)
            feed(z &+ 4, count)
        } else {
            feed(0, count)
        }
        return crc ^ 0xFFFF_FFFF
    }
}
