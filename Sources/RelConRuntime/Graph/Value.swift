// The element types of the values (activations) a session computes, and a value's buffer at one window.
//
// On disk a value's type is a UInt32 (the out_dtype of the layer that writes it, in an int8 blob's quantisation
// table; f32 for every value of f32/f16 blobs): Blob/GraphValidator.swift checks the raw field against the format,
// the planner converts it once (Model.valueType), the control block's ValueRecord keeps the raw value under its
// CRC, and the executor reads it back as a `ValueType` (an unknown one is RELCON_E_SESSION_INVALID).

/// Element type of a value, with the format's codes (docs/blob-format.md; BlobFormat.dtype*).
enum ValueType: UInt32 {
    case f32 = 1          // BlobFormat.dtypeF32
    case i8 = 3           // BlobFormat.dtypeI8
    case u8 = 5           // BlobFormat.dtypeU8
    case u7 = 6           // BlobFormat.dtypeU7: u8 storage, values 0...127 (format version 3)

    /// Bytes per element: 4 for f32, 1 for the quantised types.
    var elementBytes: UInt64 { self == .f32 ? 4 : 1 }

    /// One of the int8 blob's quantised types (i8, u8, u7).
    var isQuantised: Bool { self != .f32 }

    /// The output range a quantised value is clamped to when a layer writes it (docs/quantization.md §2).
    var clampRange: (lo: Int32, hi: Int32) {
        switch self {
        case .u8: return (0, 255)
        case .u7: return (0, 127)
        case .i8, .f32: return (-127, 127)
        }
    }
}

/// A value's buffer at the current window (channels-last [length][channels]).
struct Value {
    var p: UnsafeMutableRawPointer
    var length: Int
    var channels: Int
    var dtype: ValueType
    var f32: UnsafeMutablePointer<Float> { p.assumingMemoryBound(to: Float.self) }
}
