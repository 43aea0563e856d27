// Bounds-checked little-endian reads from a blob. Every read that depends on blob contents goes through
// here (or through pointers whose ranges were checked by the validator).

/// A blob's bytes: `count` bytes from `base`. Reads outside throw `.blobBounds`, never trap.
struct BlobBytes {
    let base: UnsafeRawPointer
    let count: UInt64

    /// The u32 at byte `offset` (little-endian, any alignment).
    func u32(_ offset: UInt64) throws(RelConError) -> UInt32 {
        guard offset <= count, count &- offset >= 4 else { throw .blobBounds }
        let raw = base.loadUnaligned(fromByteOffset: Int(truncatingIfNeeded: offset), as: UInt32.self)
        return UInt32(littleEndian: raw)
    }

    /// The f32 at byte `offset` (IEEE-754 binary32, little-endian).
    func f32(_ offset: UInt64) throws(RelConError) -> Float {
        Float(bitPattern: try u32(offset))
    }

    /// The byte at `offset`.
    func byte(_ offset: UInt64) throws(RelConError) -> UInt8 {
        guard offset < count else { throw .blobBounds }
        return base.load(fromByteOffset: Int(truncatingIfNeeded: offset), as: UInt8.self)
    }

    /// True when [offset, offset + length) lies inside the blob (no overflow: both are < 2^33).
    func contains(offset: UInt64, length: UInt64) -> Bool {
        offset <= count && length <= count &- offset
    }

    func tensorRecord(table: UInt64, index: UInt32) throws(RelConError) -> TensorRecord {
        let r = table &+ UInt64(index) &* BlobFormat.tensorRecordBytes
        return TensorRecord(
            dtype: try u32(r), rank: try u32(r &+ 4),
            d0: try u32(r &+ 8), d1: try u32(r &+ 12), d2: try u32(r &+ 16),
            dataOffset: try u32(r &+ 20), dataBytes: try u32(r &+ 24), reserved: try u32(r &+ 28))
    }

    func layerRecord(table: UInt64, index: UInt32) throws(RelConError) -> LayerRecord {
        let r = table &+ UInt64(index) &* BlobFormat.layerRecordBytes
        return LayerRecord(
            op: try u32(r), in0: try u32(r &+ 4), in1: try u32(r &+ 8), out: try u32(r &+ 12),
            t0: try u32(r &+ 16), t1: try u32(r &+ 20),
            kernel: try u32(r &+ 24), stride: try u32(r &+ 28), dilation: try u32(r &+ 32),
            padLeft: try u32(r &+ 36), padRight: try u32(r &+ 40), act: try u32(r &+ 44),
            outChannels: try u32(r &+ 48),
            reserved0: try u32(r &+ 52), reserved1: try u32(r &+ 56), reserved2: try u32(r &+ 60))
    }

    func quantRecord(table: UInt64, index: UInt32) throws(RelConError) -> QuantRecord {
        let r = table &+ UInt64(index) &* BlobFormat.quantRecordBytes
        return QuantRecord(
            outDtype: try u32(r), outScale: try u32(r &+ 4), mult: try u32(r &+ 8), shift: try u32(r &+ 12),
            multRes: try u32(r &+ 16), reserved0: try u32(r &+ 20), reserved1: try u32(r &+ 24),
            reserved2: try u32(r &+ 28))
    }

    /// The i32 at byte `offset`.
    func i32(_ offset: UInt64) throws(RelConError) -> Int32 { Int32(bitPattern: try u32(offset)) }
}
