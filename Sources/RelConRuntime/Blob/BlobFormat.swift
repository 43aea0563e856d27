// Constants of blob formats 1, 2 and 3, byte for byte as docs/blob-format.md gives them.

/// Field offsets and sizes of a blob. All integers little-endian.
enum BlobFormat {
    static let magic: UInt32 = 0x4E43_4C52          // "RLCN" read as a little-endian u32
    static let version: UInt32 = 1
    static let version2: UInt32 = 2                  // f16 / int8 precisions, 192-byte header, quantisation table
    static let version3: UInt32 = 3                  // version 2's layout + the u7 value dtype
    static let headerBytes: UInt64 = 128
    static let headerBytesV2: UInt64 = 192
    static let quantRecordBytes: UInt64 = 32
    static let tensorRecordBytes: UInt64 = 32
    static let layerRecordBytes: UInt64 = 64
    static let tensorAlignment: UInt64 = 64          // data_offset multiple of this
    static let tableAlignment: UInt64 = 4            // table offsets multiple of this
    static let blobAlignment: UInt = 16              // RELCON_BLOB_ALIGN
    static let none: UInt32 = 0xFFFF_FFFF            // an absent value or tensor index
    static let maxTensors: UInt32 = 65536
    static let maxLayers: UInt32 = 4096
    static let dtypeF32: UInt32 = 1                  // the only tensor type version 1 reads
    static let dtypeF16: UInt32 = 2
    static let dtypeI8: UInt32 = 3
    static let dtypeI32: UInt32 = 4
    static let dtypeU8: UInt32 = 5                   // activation (value) dtype only, never a tensor's
    static let dtypeU7: UInt32 = 6                   // u8 storage, values 0...127 (value dtype only; version 3)
    static let shiftMin: Int32 = 1, shiftMax: Int32 = 62      // requantisation right shifts
    static let biasBound: Int32 = 1 << 30                     // |int32 bias| of an int8 CONV1D
    static let maxInt8Dot: UInt64 = 32768                     // K·Cin of an int8 CONV1D (|acc| < 2^31)
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
        // Version 2 only: bytes 128..191.
        static let precision: UInt64 = 128, quantTable: UInt64 = 132, reservedV2: UInt64 = 136
        static let reservedV2Bytes: UInt64 = 56
    }
}

/// Layer operators (the `op` field of a layer record).
enum Op: UInt32 {
    case conv1d = 1, affine = 2, maxpool = 3, add = 4, mean = 5, linear = 6, relu = 7
    case quantize = 8              // int8 blobs only: f32 network input -> i8
}

/// One 32-byte record of the version-2 quantisation table (int8 blobs; record i belongs to layer i).
struct QuantRecord {
    var outDtype: UInt32          // f32 (1), i8 (3) or u8 (5): the dtype of the layer's output value
    var outScale: UInt32          // tensor index: f32 [C] dequantisation scale, or NONE
    var mult: UInt32              // tensor index: i32 [C] multiplier (CONV1D, ADD), or NONE
    var shift: UInt32             // tensor index: i32 [C] right shift (CONV1D, AFFINE, ADD), or NONE
    var multRes: UInt32           // tensor index: i32 [C] multiplier of in1 (CONV1D with residual, ADD), or NONE
    var reserved0: UInt32, reserved1: UInt32, reserved2: UInt32
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
