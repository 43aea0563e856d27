// Constants of blob format v1, byte for byte as docs/blob-format.md gives them.

/// Field offsets and sizes of a version-1 blob. All integers little-endian.
enum BlobFormat {
    static let magic: UInt32 = 0x4E43_4C52          // "RLCN" read as a little-endian u32
    static let version: UInt32 = 1
    static let headerBytes: UInt64 = 128
    static let tensorRecordBytes: UInt64 = 32
    static let layerRecordBytes: UInt64 = 64
    static let tensorAlignment: UInt64 = 64          // data_offset multiple of this
    static let tableAlignment: UInt64 = 4            // table offsets multiple of this
    static let blobAlignment: UInt = 16              // RELCON_BLOB_ALIGN
    static let none: UInt32 = 0xFFFF_FFFF            // an absent value or tensor index
    static let maxTensors: UInt32 = 65536
    static let maxLayers: UInt32 = 4096
    static let dtypeF32: UInt32 = 1                  // the only tensor type version 1 reads
    static let unitsG: UInt32 = 1
    static let inputChannels: UInt32 = 3
    static let maxMetaKeyBytes = 63
    /// Reader limit (not a format rule): more pairs than this is RELCON_E_BLOB_METADATA. Bounds the
    /// quadratic uniqueness check.
    static let maxMetaPairs = 1024

    /// Header field offsets.
    enum Header {
        static let magic: UInt64 = 0, formatVersion: UInt64 = 4, headerBytes: UInt64 = 8, crc32: UInt64 = 12
        static let totalBytes: UInt64 = 16, flags: UInt64 = 20, nTensors: UInt64 = 24, tensorTable: UInt64 = 28
        static let nLayers: UInt64 = 32, layerTable: UInt64 = 36, outputValue: UInt64 = 40
        static let metaOffset: UInt64 = 44, metaBytes: UInt64 = 48, reserved52: UInt64 = 52
        static let sampleRate: UInt64 = 56, windowSamples: UInt64 = 60, inputChannels: UInt64 = 64
        static let units: UInt64 = 68, axisOrder: UInt64 = 72, inputScale: UInt64 = 76, inputOffset: UInt64 = 88
        static let inputClip: UInt64 = 100, embeddingDim: UInt64 = 104, reserved108: UInt64 = 108
        static let reserved108Bytes: UInt64 = 20
    }
}

/// Layer operators (the `op` field of a layer record).
enum Op: UInt32 {
    case conv1d = 1, affine = 2, maxpool = 3, add = 4, mean = 5, linear = 6, relu = 7
}

/// One 32-byte tensor record, decoded (not yet checked).
struct TensorRecord {
    var dtype: UInt32, rank: UInt32
    var d0: UInt32, d1: UInt32, d2: UInt32
    var dataOffset: UInt32, dataBytes: UInt32, reserved: UInt32
}

/// One 64-byte layer record, decoded (not yet checked).
struct LayerRecord {
    var op: UInt32, in0: UInt32, in1: UInt32, out: UInt32, t0: UInt32, t1: UInt32
    var kernel: UInt32, stride: UInt32, dilation: UInt32, padLeft: UInt32, padRight: UInt32
    var act: UInt32, outChannels: UInt32
    var reserved0: UInt32, reserved1: UInt32, reserved2: UInt32
}
